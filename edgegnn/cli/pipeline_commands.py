"""`edgegnn datasets`, `edgegnn pipelines`, `edgegnn run` and `edgegnn report`."""
from __future__ import annotations

import dataclasses
import pathlib

import click

from edgegnn.cli.base import emit_json, fail as _fail, info, main, quiet, result


@main.command()
def datasets():
  """List the datasets shipped with edgegnn."""
  from edgegnn import data
  for name in data.available_datasets():
    click.echo(name)


@main.command()
def pipelines():
  """List the pipelines shipped with edgegnn (`edgegnn run NAME` runs one)."""
  from edgegnn.pipeline import shipped
  for name, path in shipped.shipped().items():
    click.echo(f"{name}  {path}")


@main.command()
@click.argument("pipeline_file", metavar="PIPELINE")
@click.option("--out", default=None, help="Output directory (default: the file's `out`).")
@click.option("--dry-run", is_flag=True, help="Validate the whole file and print the plan.")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON document on stdout: the report's files, plots, models, "
                   "artifacts and each stage's time (with --dry-run: the plan). Progress "
                   "lines go to stderr.")
def run(pipeline_file, out, dry_run, no_progress, as_json):
  """Run PIPELINE: train, export, verify and benchmark; writes OUT/report.json.

  PIPELINE is a pipeline file or the name of one shipped with edgegnn (`edgegnn
  pipelines` lists them; e.g. `edgegnn run quickstart`). The whole file is checked before
  anything runs. Finished stages are cached by a hash of their config and inputs; a
  killed run resumes.
  """
  from edgegnn import pipeline as pipeline_lib
  from edgegnn.pipeline import shipped
  try:
    pipeline = pipeline_lib.load(shipped.resolve(pipeline_file))
  except (ValueError, TypeError) as e:
    _fail(e)
  if out is not None:  # the plan, the runner and the summary name the directory used
    pipeline = dataclasses.replace(pipeline, out=out)
  log = _stderr if as_json else info
  plan = pipeline_lib.plan(pipeline)
  if dry_run and as_json:
    emit_json(_plan_document(pipeline, plan))
    return
  for line in plan:
    log(line)
  if dry_run:
    return
  runner = pipeline_lib.Runner(pipeline, log=log,
                               progress=not (no_progress or quiet() or as_json))
  try:
    runner.run()
  except (ValueError, AssertionError, RuntimeError) as e:
    _fail(e)
  if as_json:
    emit_json(_run_document(runner))
    return
  result(f"report: {runner.out / 'report.json'}, {runner.files.markdown}, {runner.files.html}")


def _stderr(line: str) -> None:
  if not quiet():
    click.echo(line, err=True)


def _plan_document(pipeline, plan: list[str]) -> dict:
  """`run --dry-run --json`: what would run."""
  return {"pipeline": pipeline.name, "dataset": pipeline.dataset, "out": pipeline.out,
          "source": pipeline.source,
          "stages": [{"index": i, "kind": s.kind, "name": s.produces, "requires": s.requires(),
                      "plan": line.split(": ", 1)[1]}
                     for i, (s, line) in enumerate(zip(pipeline.stages, plan[1:]), 1)]}


def _run_document(runner) -> dict:
  """`run --json`: where the results are, the headline figures, and each stage's time."""
  report = runner.report
  return {
      "pipeline": report["pipeline"], "dataset": report["dataset"], "out": str(runner.out),
      "report": {"json": str(runner.out / "report.json"),
                 "markdown": str(runner.files.markdown), "html": str(runner.files.html)},
      "figures": {name: str(path) for name, path in runner.files.plots.items()},
      "stages": [vars(t) for t in runner.timings],
      "models": [dict({k: m.get(k) for k in ("name", "method", "architecture", "bits",
                                             "test_accuracy", "test_accuracy_std")},
                      path=str(runner.out / m["path"])) for m in report["models"]],
      "artifacts": [{"name": a["name"], "model": a["model"], "format": a["format"],
                     "path": str(runner.out / a["path"]), "bytes": a["bytes"],
                     "test_accuracy": a["test_accuracy"], "agreement": a["agreement"],
                     "latency_ms_p50": a["latency_ms"]["p50"]}
                    for a in report["artifacts"]]}


@main.command()
@click.argument("out", type=click.Path(exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True,
              help="Print the written files (report.md, report.html, plots) as one JSON "
                   "document.")
def report(out, as_json):
  """Regenerate OUT/report.md, OUT/report.html and OUT/plots/*.png from OUT/report.json."""
  from edgegnn.pipeline import report as report_lib
  try:
    files = report_lib.write_report(out)
  except (FileNotFoundError, ValueError) as e:
    _fail(e)
  if as_json:
    emit_json({"report": {"json": str(pathlib.Path(out) / "report.json"),
                          "markdown": str(files.markdown), "html": str(files.html)},
               "figures": {name: str(path) for name, path in files.plots.items()}})
    return
  result(f"wrote {files.markdown}, {files.html}, "
         + ", ".join(str(p) for p in files.plots.values()))
