"""The `edgegnn` command group, its error boundary and its output manners.

Commands print progress with `info` (hidden by `--quiet`), their result with `result` and,
under their own `--json` flag, one JSON document with `emit_json`; the commands live beside
this module.
"""
from __future__ import annotations

import json

import click

from edgegnn.cli import log_manners
from edgegnn import extras

# Set by the console entry point: only a real `edgegnn` process filters its descriptor 2.
_CONSOLE = {"filter_native_stderr": False}


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
      if isinstance(e, ImportError) and extras.explain(e) is not None:
        e = extras.explain(e)
      message = _one_line(e) or "no message"
      if isinstance(e, OSError) and e.filename is not None:
        message = f"{e.filename}: {e.strerror or message}"
      if not isinstance(e, (ValueError, OSError, RuntimeError, extras.MissingExtraError)):
        message += " (unexpected; run `edgegnn --verbose ...` for the traceback and report it)"
      raise click.ClickException(f"{type(e).__name__}: {message}") from None


def quiet() -> bool:
  """True under `edgegnn --quiet`."""
  ctx = click.get_current_context(silent=True)
  return bool(ctx and ctx.find_root().params.get("quiet"))


def info(message: str) -> None:
  """A progress or plan line: shown unless `--quiet`."""
  if not quiet():
    click.echo(message)


def result(message: str) -> None:
  """A command's result line: always shown."""
  click.echo(message)


def emit_json(document) -> None:
  """A command's `--json` output: one JSON document on stdout, nothing else there."""
  click.echo(json.dumps(document, indent=1, sort_keys=True, default=str))


def console() -> None:
  """The `edgegnn` executable: `main` with the native library logs filtered (`log_manners`)."""
  _CONSOLE["filter_native_stderr"] = True
  main()  # pylint: disable=no-value-for-parameter


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="edgegnn")
@click.option("--verbose", is_flag=True,
              help="Show TensorFlow's, absl's and LiteRT's own logs and the full traceback of "
                   "a failure.")
@click.option("--quiet", "-q", is_flag=True,
              help="Print only results and errors (no plan, progress or stage lines).")
def main(verbose, quiet):  # pylint: disable=redefined-outer-name
  """edgegnn: train TF-GNN models, compress them, export verified .tflite artifacts."""
  if verbose and quiet:
    raise click.UsageError("--verbose and --quiet contradict each other; pass one of them.")
  log_manners.quiet_libraries(verbose)
  if not verbose and _CONSOLE["filter_native_stderr"]:
    _CONSOLE["filter_native_stderr"] = False   # once per process
    log_manners.filter_native_stderr()


