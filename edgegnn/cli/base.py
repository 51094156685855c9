"""The `edgegnn` command group and its error boundary; the commands live beside it."""
from __future__ import annotations

import click


def _one_line(text: str) -> str:
  return " ".join(str(text).split())


def fail(error: Exception) -> None:
  raise click.ClickException(_one_line(error))


# Most commands run for as long as a benchmark may sensibly take; more is a typo.
MAX_RUNS = 100_000


class _Cli(click.Group):
  """The CLI boundary: every failure of a command is one line on stderr and exit code 1
  (a usage error too); `edgegnn --verbose CMD` re-raises it with its traceback."""

  def invoke(self, ctx):
    try:
      return super().invoke(ctx)
    except (click.exceptions.Exit, click.Abort):
      raise
    except click.UsageError as e:
      if ctx.params.get("verbose"):
        raise
      command = f" {e.ctx.command_path}" if e.ctx else ""
      raise click.ClickException(
          f"{_one_line(e.format_message())} (see `{command.strip() or 'edgegnn'} --help`)"
      ) from None
    except click.ClickException as e:
      e.message = _one_line(e.message)
      raise
    except Exception as e:  # pylint: disable=broad-except
      if ctx.params.get("verbose"):
        raise
      message = _one_line(e) or "no message"
      if isinstance(e, OSError) and e.filename is not None:
        message = f"{e.filename}: {e.strerror or message}"
      if not isinstance(e, (ValueError, OSError, RuntimeError)):
        message += " (unexpected; run `edgegnn --verbose ...` for the traceback and report it)"
      raise click.ClickException(f"{type(e).__name__}: {message}") from None


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="edgegnn")
@click.option("--verbose", is_flag=True, help="Show the full traceback of a failure.")
def main(verbose):  # pylint: disable=unused-argument
  """edgegnn: train TF-GNN models, compress them, export verified .tflite artifacts."""


