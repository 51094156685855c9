"""`edgegnn datasets`, `edgegnn run` and `edgegnn report`."""
from __future__ import annotations

import json

import click

from edgegnn.cli.base import fail as _fail, main


@main.command()
def datasets():
  """List the datasets shipped with edgegnn."""
  from edgegnn import data
  for name in data.available_datasets():
    click.echo(name)


@main.command()
@click.argument("pipeline_file", type=click.Path(dir_okay=False))
@click.option("--out", default=None, help="Output directory (default: the file's `out`).")
@click.option("--dry-run", is_flag=True, help="Validate the whole file and print the plan.")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
def run(pipeline_file, out, dry_run, no_progress):
  """Run a pipeline file: train, export, verify and benchmark; writes OUT/report.json.

  Finished stages are cached by a hash of their config and inputs; a killed run resumes.
  """
  from edgegnn import pipeline as pipeline_lib
  try:
    pipeline = pipeline_lib.load(pipeline_file)
  except (ValueError, TypeError) as e:
    _fail(e)
  for line in pipeline_lib.plan(pipeline):
    click.echo(line)
  if dry_run:
    return
  runner = pipeline_lib.Runner(pipeline, out=out, log=click.echo, progress=not no_progress)
  try:
    runner.run()
  except (ValueError, AssertionError, RuntimeError) as e:
    _fail(e)
  click.echo(f"report: {runner.out / 'report.json'}")


@main.command()
@click.argument("out", type=click.Path(exists=True, file_okay=False))
def report(out):
  """Regenerate OUT/report.md, OUT/report.html and OUT/plots/*.png from OUT/report.json."""
  from edgegnn.pipeline import report as report_lib
  try:
    files = report_lib.write_report(out)
  except (FileNotFoundError, ValueError) as e:
    _fail(e)
  click.echo(f"wrote {files.markdown}, {files.html}, "
             + ", ".join(str(p) for p in files.plots.values()))
