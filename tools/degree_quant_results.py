"""Regenerates docs/degree_quant.md: FP32 / PTQ / QAT / DQ x INT8 / INT4 per reference case.

Each case is a pipeline file (pipelines/degree_quant_*.yaml) run with `edgegnn run`; the
table is read from its report.json (mean +- std over the seeds / folds it lists), and the
exact command is written beside every row.

    .venv/bin/python tools/degree_quant_results.py                       # every case
    .venv/bin/python tools/degree_quant_results.py --cases cora_gcn --seeds 2   # quicker
    .venv/bin/python tools/degree_quant_results.py --no-run     # tabulate finished runs

Also writes docs/results/degree_quant.json (per case: the command, the library commit, every
run's accuracy, the artifacts, and the targets of experiments/degree_quant/targets.yaml
checked) and a targets section in the
doc (text below the doc's notes marker line is hand-written and kept). The library commit of a case (last commit touching edgegnn/ when the tool ran it) is
kept in OUT/provenance.txt beside OUT/report.json.

`--seeds N` runs a copy of the pipeline with its first N seeds (the table says so);
`--stages fp32 dq_int8 ...` a copy with only those stages (plus the export stages of kept
models), for cases too long to run whole (the table shows "–" for the stages left out).
"""
from __future__ import annotations

import argparse
import json
import pathlib
import shlex
import subprocess
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
SWEEP = yaml.safe_load((ROOT / "experiments" / "degree_quant" / "targets.yaml").read_text())
COLUMNS = SWEEP["columns"]
NODE_CASES = tuple(SWEEP["node_cases"])
# (case, model, reference, bound): "model - reference >= bound" on the mean test accuracy.
TARGETS = [(case, t["model"], t["reference"], float(t["bound"]))
           for t in SWEEP["targets"] for case in t["cases"]]
ARTIFACT_BOUND = float(SWEEP["artifact_bound"])  # |artifact - its Keras model| in points
NOTES_MARKER = "<!-- notes: kept by tools/degree_quant_results.py -->"


def _library_commit() -> str:
  """The last commit touching edgegnn/ (+ "-dirty" if edgegnn/ has uncommitted changes)."""
  git = lambda *a: subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True,
                                  check=False).stdout.strip()
  return git("log", "-1", "--format=%h", "--", "edgegnn") + (
      "-dirty" if git("status", "--porcelain", "--", "edgegnn") else "")


def _keep(stage: dict, names: list[str]) -> bool:
  """Whether `--stages names` keeps a stage: a named stage listed, or an export of one."""
  kind, body = next(iter(stage.items()))
  if kind == "export":
    return body["model"] in names
  return body["name"] in names


def _run(pipeline: pathlib.Path, seeds: int | None, out_root: pathlib.Path,
         run: bool = True, stages: list[str] | None = None) -> tuple[dict | None, str]:
  """Runs (or with run=False finds) one case; (report.json or None if never run, command)."""
  raw = yaml.safe_load(pipeline.read_text())
  out = out_root / raw["name"]
  source = pipeline
  suffix = ""
  if stages:
    raw["stages"] = [s for s in raw["stages"] if _keep(s, stages)]
    suffix += ".stages-" + "-".join(stages)
  if seeds:
    for stage in raw["stages"]:
      body = next(iter(stage.values()))
      if isinstance(body, dict) and isinstance(body.get("train"), dict) and "seeds" in body["train"]:
        body["train"] = dict(body["train"], seeds=body["train"]["seeds"][:seeds])
    suffix += f".seeds{seeds}"
  if suffix:
    source = out_root / f"{raw['name']}{suffix}.yaml"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(yaml.safe_dump(raw, sort_keys=False))
  command = [str(pathlib.Path(sys.executable).parent / "edgegnn"), "run", str(source),
             "--out", str(out), "--no-progress"]
  shown = "`" + " ".join(shlex.quote(c.replace(f"{ROOT}/", "")) for c in command) + "`"
  if suffix:  # the copy is written by this tool: say how
    case = pipeline.stem.replace("degree_quant_", "")
    shown += (f" (copy written by `.venv/bin/python tools/degree_quant_results.py --cases "
              f"{case}" + (f" --stages {' '.join(stages)}" if stages else "")
              + (f" --seeds {seeds}" if seeds else "") + "`)")
  record = out / "command.txt"  # the command that produced OUT/report.json, for --no-run
  if run:
    commit = _library_commit()
    subprocess.run(command, check=True, cwd=ROOT)
    record.write_text(shown)
    (out / "provenance.txt").write_text(commit)
  elif not (out / "report.json").exists():
    return None, shown
  elif record.exists():
    shown = record.read_text()
  return json.loads((out / "report.json").read_text()), shown


def _cell(model: dict | None) -> str:
  if model is None:
    return "–"
  return f"{100 * model['test_accuracy']:.1f} ± {100 * model['test_accuracy_std']:.1f}"


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--cases", nargs="*", help="e.g. cora_gcn mutag_gin (default: all)")
  parser.add_argument("--seeds", type=int, default=None, help="use only the first N seeds")
  parser.add_argument("--stages", nargs="*", help="run only these stages (and the export "
                      "stages of their models), e.g. fp32 qat_int8 dq_int8")
  parser.add_argument("--out", default="runs/degree_quant_results")
  parser.add_argument("--doc", default=str(ROOT / "docs" / "degree_quant.md"))
  parser.add_argument("--no-run", action="store_true",
                      help="tabulate the report.json files already under --out (cases run "
                           "separately, e.g. one per machine) instead of running")
  args = parser.parse_args()
  files = sorted((ROOT / "pipelines").glob("degree_quant_*.yaml"))
  if args.cases:
    files = [f for f in files if f.stem.replace("degree_quant_", "") in args.cases]
  rows, artifacts, commands, checks, results = [], [], [], [], {}
  for path in files:
    case = path.stem.replace("degree_quant_", "")
    report, command = _run(path, args.seeds, ROOT / args.out, run=not args.no_run,
                           stages=args.stages)
    if report is None:  # --no-run and the case has no report.json yet
      rows.append(f"| {case} | not run | " + " | ".join("–" for _ in COLUMNS) + " |")
      checks.extend(f"| {case} | {m} − {r} | ≥ {b:+.1f} | – | not run |"
                    for c, m, r, b in TARGETS if c == case)
      continue
    provenance = ROOT / args.out / report["pipeline"] / "provenance.txt"
    commit = provenance.read_text().strip() if provenance.exists() else "unrecorded"
    models = {m["name"]: m for m in report["models"]}
    fp32 = models["fp32"]
    seeds = f"{len(fp32['seeds'])} seed" + ("s" if len(fp32["seeds"]) > 1 else "")
    runs = f"{seeds} × {len(fp32['folds'])} folds" if len(fp32["folds"]) > 1 else seeds
    rows.append(f"| {case} | {runs} | "
                + " | ".join(_cell(models.get(c)) for c in COLUMNS) + " |")
    entry = {"command": command, "library_commit": commit, "artifacts": [], "targets": [],
             "models": {name: {"test_accuracy": m["test_accuracy"],
                               "test_accuracy_std": m["test_accuracy_std"],
                               "runs": [{k: r.get(k) for k in ("seed", "fold", "val_accuracy",
                                                               "test_accuracy")}
                                        for r in m["runs"]]}
                        for name, m in models.items()}}
    for a in report["artifacts"]:
      source = models[a["model"]]
      keras = next(r for r in source["runs"])["test_accuracy"]
      gap = 100 * (a["test_accuracy"] - keras)
      artifacts.append(
          f"| {case} | {a['name']} | {a['bytes']} | {a['runtime']} | {100 * keras:.1f} | "
          f"{100 * a['test_accuracy']:.1f} | {a['agreement']:.3f} | "
          f"{a['latency_ms']['p50']:.2f} | {a.get('arena_bytes') or '–'} |")
      entry["artifacts"].append({k: a.get(k) for k in ("name", "bytes", "runtime",
                                                       "test_accuracy", "agreement",
                                                       "arena_bytes")}
                                | {"keras_test_accuracy": keras,
                                   "met": abs(gap) <= ARTIFACT_BOUND})
      checks.append(f"| {case} | {a['name']} vs its Keras model | ±{ARTIFACT_BOUND} | "
                    f"{gap:+.2f} | {'met' if abs(gap) <= ARTIFACT_BOUND else 'NOT met'} |")
    for target_case, model, reference, bound in TARGETS:
      if target_case != case:
        continue
      if model not in models or reference not in models:
        checks.append(f"| {case} | {model} − {reference} | ≥ {bound:+.1f} | – | not run |")
        continue
      delta = 100 * (models[model]["test_accuracy"] - models[reference]["test_accuracy"])
      met = delta >= bound
      entry["targets"].append({"model": model, "reference": reference, "bound": bound,
                               "delta": delta, "met": met})
      short = (f" ({len(fp32['seeds'])} of the 5 seeds)" if len(fp32["seeds"]) < 5 else "")
      checks.append(f"| {case} | {model} − {reference} | ≥ {bound:+.1f} | {delta:+.2f} | "
                    f"{'met' if met else 'NOT met'}{short} |")
    results[case] = entry
    commands.append(f"- {case} (edgegnn/ at commit {commit}): {command}")
  text = "\n".join([
      "# Degree-Quant results",
      "",
      "Test accuracy (%) of the Keras models, mean ± std over the runs (seeds; seeds × 10",
      "folds for MUTAG's cross-validation). Generated by `tools/degree_quant_results.py`"
      + (f" with `--seeds {args.seeds}`" if args.seeds else "") + "; the runs:",
      "",
      *commands,
      "",
      "| case | runs | FP32 | PTQ INT8 | QAT INT8 | DQ INT8 | PTQ INT4 | QAT INT4 | DQ INT4 |",
      "|---|---|---|---|---|---|---|---|---|",
      *rows,
      "",
      "Exported DQ INT8 artifacts (first run's model; accuracy on the test split, agreement",
      "with that Keras model):",
      "",
      "| case | artifact | bytes | runtime | Keras % | artifact % | agreement | p50 ms | arena |",
      "|---|---|---|---|---|---|---|---|---|",
      *artifacts,
      "",
      "Issue 4's targets (differences of the mean test accuracies above, in points):",
      "",
      "| case | compared | target | measured | |",
      "|---|---|---|---|---|",
      *checks,
      ""])
  doc = pathlib.Path(args.doc)
  if doc.exists() and NOTES_MARKER in doc.read_text():  # hand-written notes are kept
    text += "\n" + NOTES_MARKER + doc.read_text().split(NOTES_MARKER, 1)[1]
  doc.write_text(text)
  if not args.seeds and not args.cases:  # the committed JSON holds full runs of every case
    results_path = ROOT / "docs" / "results" / "degree_quant.json"
    results_path.write_text(json.dumps(results, indent=1) + "\n")
  print(text)


if __name__ == "__main__":
  main()
