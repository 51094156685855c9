"""Picks each method's setting of a pipeline sweep on validation accuracy; tabulates all.

The choice is the highest mean validation accuracy over the seeds; the table then shows every
candidate's test accuracy beside it.

    .venv/bin/python tools/select_on_validation.py \
        runs/citeseer_gcn_int4_learning_rate/report.json \
        runs/degree_quant_results/degree_quant_citeseer_gcn/report.json \
        --models 'qat_int4*' 'dq_int4_lr*' \
        --out docs/results/degree_quant_citeseer_gcn_int4_learning_rate.json

Every model of the given report.json files whose name matches one of the --models globs is
a candidate; candidates are grouped by their quantization method (`method` in report.json:
qat, dq, ptq, fp32, ...) and, per group, the one with the highest mean validation accuracy
is selected (ties: the first listed). The test split plays no part in the choice. The JSON
written holds every candidate's runs (seed, best epoch, seconds, validation and test accuracy), the
selection, and the command line; the markdown table printed (`markdown_table`) is the one
quoted in docs/.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import pathlib
import shlex
import sys

import numpy as np

from edgegnn.atomic import atomic_write_text


def candidates(reports: list[pathlib.Path], patterns: list[str]) -> list[dict]:
  """The matching models of REPORTS, with their source report and per-run figures."""
  found = []
  for report in reports:
    if not report.exists():
      raise FileNotFoundError(f"{report}: no such report.json; run its pipeline first.")
    for model in json.loads(report.read_text())["models"]:
      if not any(fnmatch.fnmatch(model["name"], p) for p in patterns):
        continue
      runs = model.get("runs") or []
      if not runs or any("val_accuracy" not in r for r in runs):
        raise ValueError(f"{report}: model {model['name']!r} has no per-run validation "
                         "accuracy; only trained stages can be selected on validation.")
      found.append({
          "model": model["name"], "method": model["method"], "report": str(report),
          "val_mean": float(np.mean([r["val_accuracy"] for r in runs])),
          "test_mean": float(np.mean([r["test_accuracy"] for r in runs])),
          "test_std": float(np.std([r["test_accuracy"] for r in runs])),
          "runs": [{k: r[k] for k in ("seed", "fold", "epochs_run", "best_epoch", "seconds",
                                      "val_accuracy", "test_accuracy") if k in r}
                   for r in runs]})
  if not found:
    raise ValueError(f"no model of {', '.join(map(str, reports))} matches "
                     f"{' '.join(patterns)}.")
  return found


def select(found: list[dict]) -> dict[str, str]:
  """Per method, the name of the candidate with the highest mean validation accuracy."""
  chosen: dict[str, dict] = {}
  for c in found:
    if c["method"] not in chosen or c["val_mean"] > chosen[c["method"]]["val_mean"]:
      chosen[c["method"]] = c
  return {method: c["model"] for method, c in chosen.items()}


def markdown_table(result: dict) -> str:
  """The candidates of a written RESULT as a markdown table, selected ones marked."""
  chosen = set(result["selected_on_validation"].values())
  lines = ["| model | method | val % | test % | selected on validation |",
           "|---|---|---|---|---|"]
  for c in result["models"]:
    lines.append(f"| {c['model']} | {c['method']} | {100 * c['val_mean']:.1f} | "
                 f"{100 * c['test_mean']:.1f} ± {100 * c['test_std']:.1f} | "
                 f"{'yes' if c['model'] in chosen else ''} |")
  return "\n".join(lines)


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("reports", nargs="+", type=pathlib.Path, help="report.json files")
  parser.add_argument("--models", nargs="+", default=["*"], help="model-name globs")
  parser.add_argument("--out", type=pathlib.Path,
                      help="also write the JSON here (the table is always printed)")
  args = parser.parse_args(argv)
  found = candidates(args.reports, args.models)
  result = {"command": " ".join(shlex.quote(a) for a in
                                [".venv/bin/python", "tools/select_on_validation.py",
                                 *(argv if argv is not None else sys.argv[1:])]),
            "selected_on_validation": select(found), "models": found}
  print(markdown_table(result))
  if args.out:
    atomic_write_text(args.out, json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
  main()
