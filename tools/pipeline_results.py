"""Runs shipped pipeline files and records their measured figures in a JSON file.

    OMP_NUM_THREADS=1 python tools/pipeline_results.py pipelines/distill_cora_cpf.yaml \
        pipelines/distill_mutag_gfkd.yaml

Each file is run from scratch with `edgegnn run FILE --out TMP --no-progress` in a temporary
directory (no cache), timed end to end. Its `report.json` is reduced to what the README
quotes: every model's test accuracy, and every artifact's format, layout, bytes, accuracy and
agreement with its Keras model. The entries are merged into `--json` (default
`docs/results/pipelines.json`, keyed by the pipeline file's name), written atomically.
`--summarize OUT/report.json` prints that reduction of an existing run and runs nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

from edgegnn.atomic import atomic_write_text

ROOT = pathlib.Path(__file__).resolve().parents[1]

DEFAULT_JSON = ROOT / "docs" / "results" / "pipelines.json"


def summarize(report: dict) -> dict:
  """The recorded figures of one report.json."""
  return {
      "models": {m["name"]: {"test_accuracy": m["test_accuracy"],
                             **({"teacher": m["teacher"]} if "teacher" in m else {})}
                 for m in report["models"]},
      "artifacts": [{key: a[key] for key in ("model", "format", "layout", "bytes",
                                             "test_accuracy", "agreement")}
                    for a in report["artifacts"]]}


def run_pipeline(path: pathlib.Path) -> dict:
  edgegnn = pathlib.Path(sys.executable).with_name("edgegnn")
  command = [str(edgegnn), "run", str(path), "--no-progress"]
  with tempfile.TemporaryDirectory(prefix="pipeline_results_") as tmp:
    start = time.perf_counter()
    subprocess.run(command + ["--out", tmp], check=True, cwd=ROOT)
    seconds = time.perf_counter() - start
    report = json.loads((pathlib.Path(tmp) / "report.json").read_text())
  threads = os.environ.get("OMP_NUM_THREADS")
  shown = " ".join(["edgegnn", "run", str(path.relative_to(ROOT)
                                           if path.is_relative_to(ROOT) else path),
                    "--no-progress"])
  return {"command": (f"OMP_NUM_THREADS={threads} " if threads else "") + shown,
          "seconds": round(seconds, 1), **summarize(report)}


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("pipelines", nargs="*", type=pathlib.Path)
  parser.add_argument("--json", type=pathlib.Path, default=DEFAULT_JSON)
  parser.add_argument("--summarize", type=pathlib.Path, default=None,
                      help="print the figures kept of this report.json; run nothing")
  args = parser.parse_args(argv)
  if args.summarize is not None:
    print(json.dumps(summarize(json.loads(args.summarize.read_text())), indent=1))
    return
  if not args.pipelines:
    parser.error("name the pipeline files to run (or --summarize REPORT.json)")
  results = json.loads(args.json.read_text()) if args.json.exists() else {}
  for path in args.pipelines:
    entry = run_pipeline(path.resolve())
    results[path.stem] = entry
    print(json.dumps({path.stem: entry}), flush=True)
    atomic_write_text(args.json, json.dumps(results, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
  main()
