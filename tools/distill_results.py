"""Runs the distillation done-when rows over seeds and regenerates docs/distillation.md.

    python tools/distill_results.py                       # every row, seeds 0-4
    python tools/distill_results.py --rows glnn-cora --seeds 0 1
    python tools/distill_results.py --render-only         # rewrite the markdown only

Each run (row, seed) is appended to docs/results/distill_runs.json as soon as it ends, and
runs already there are skipped, so an interrupted sweep resumes. The markdown gives mean
+- population std over the recorded seeds, with the command that produced each row.
The rows are experiments/distillation/rows.yaml; the page's text is
experiments/distillation/page.md.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib
import time

import numpy as np

import yaml

import edgegnn  # noqa: F401  (before tensorflow)
from edgegnn import data
from edgegnn.atomic import atomic_write_text
from edgegnn.distill import DistillConfig, distill
from edgegnn.models import ModelSpec, build_model
from edgegnn.quantization import QuantizationConfig
from edgegnn.training import TrainConfig, train
from page_template import fill_template

ROOT = pathlib.Path(__file__).resolve().parents[1]
RUNS = ROOT / "docs" / "results" / "distill_runs.json"
DOC = ROOT / "docs" / "distillation.md"
LATENCY = ROOT / "docs" / "results" / "glnn_latency.json"

SWEEP = ROOT / "experiments" / "distillation" / "rows.yaml"
PAGE = ROOT / "experiments" / "distillation" / "page.md"


@dataclasses.dataclass(frozen=True)
class Row:
  """One done-when row: a teacher, a baseline student (no KD) and the distilled student."""
  name: str
  dataset: str
  claim: str
  teacher: tuple | None            # (spec, train config) or None (gnn-sd)
  baseline: tuple | None           # (spec, train config) trained without KD
  student: ModelSpec | None        # None: the method builds it
  config: DistillConfig
  target: str      # "teacher+2", "baseline+12&teacher-2", "baseline", ">=baseline", ">=0.70"
  quantization: QuantizationConfig | None = None   # baseline and student trained fake-quant


def _pair(entry):
  return None if entry is None else (ModelSpec.from_dict(entry["model"]),
                                     TrainConfig.from_dict(entry["train"]))


def load_rows(path=SWEEP) -> dict[str, Row]:
  """The rows of the sweep file, by name, in file order."""
  raw = yaml.safe_load(pathlib.Path(path).read_text())
  rows = {}
  for r in raw["rows"]:
    quantization = r.get("quantization")
    rows[r["name"]] = Row(
        r["name"], r["dataset"], r["claim"], _pair(r["teacher"]), _pair(r["baseline"]),
        None if r["student"] is None else ModelSpec.from_dict(r["student"]),
        DistillConfig.from_dict(r["distill"]), r["target"],
        None if quantization is None else QuantizationConfig.from_dict(quantization))
  return rows


ROWS = load_rows()


def command(rows, seeds) -> str:
  return (f"python tools/distill_results.py --rows {' '.join(rows)} "
          f"--seeds {' '.join(map(str, seeds))}")


def _quantized(spec: ModelSpec, dataset, quantization: QuantizationConfig | None, seed: int):
  """A fake-quant build of `spec` (Degree-Quant for method dq), or None for float rows."""
  if quantization is None:
    return None
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  tf.keras.utils.set_random_seed(seed)
  return build_model(spec, num_features=dataset.num_features, num_classes=dataset.num_classes,
                     task=dataset.task, batched=dataset.task == "graph",
                     quantization=quantization)


def run_one(row: Row, seed: int) -> dict:
  dataset = data.load(row.dataset)
  fold = seed if dataset.task == "graph" else 0
  record = {"row": row.name, "seed": seed, "fold": fold}
  start = time.perf_counter()
  teacher = None
  if row.teacher is not None:
    spec, config = row.teacher
    result = train(spec, dataset, config, seed=seed, fold=fold, progress=False)
    teacher = result.model
    record["teacher"] = result.metrics["test_accuracy"]
  if row.baseline is not None:
    spec, config = row.baseline
    record["baseline"] = train(
        spec, dataset, config, seed=seed, fold=fold, progress=False,
        model=_quantized(spec, dataset, row.quantization, seed)).metrics["test_accuracy"]
  student = _quantized(row.student, dataset, row.quantization, seed) or row.student
  outcome = distill(teacher, student, dataset, row.config, seed=seed, fold=fold)
  record["student"] = outcome.metrics["test_accuracy"]
  record["seconds"] = round(time.perf_counter() - start, 1)
  return record


def teacher_structure_entropy(row: Row, seed: int) -> dict:
  """Mean entropy (nats) of the trained teacher's local structure LS_i (`edgegnn.distill.lsp`)
  at each LSP layer of `row`, per kernel, against the uniform distribution's (mean log in-degree
  over nodes with in-neighbours). Entropy near uniform: the teacher's LS says nothing."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from edgegnn.distill import lsp, node_trainer  # pylint: disable=g-import-not-at-top
  dataset = data.load(row.dataset)
  spec, config = row.teacher
  teacher = train(spec, dataset, config, seed=seed, progress=False).model
  layers = [t for _, t in row.config.lsp_pairs()]
  states = node_trainer.node_outputs(teacher, dataset, layers)
  graph = dataset.graph
  source, target = graph.edge_source, graph.edge_target
  degree = np.bincount(target, minlength=graph.num_nodes)
  report = {"row": row.name, "seed": seed, "uniform": float(np.mean(np.log(degree[degree > 0])))}
  for layer in layers:
    for kernel in ("distance", "unit_distance"):
      log_ls = lsp.local_structure(tf.constant(states[layer]), source, target, graph.num_nodes,
                                   kernel).numpy()
      entropy = np.bincount(target, -np.exp(log_ls) * log_ls, graph.num_nodes)
      report[f"{layer}/{kernel}"] = float(np.mean(entropy[degree > 0]))
  return report


def load_runs(path=RUNS) -> list[dict]:
  path = pathlib.Path(path)
  return json.loads(path.read_text()) if path.exists() else []


def _stat(values):
  return (float(np.mean(values)), float(np.std(values))) if values else (float("nan"),) * 2


def _fmt(values):
  mean, std = _stat(values)
  return "—" if not values else f"{100 * mean:.1f} ± {100 * std:.1f}"


def verdict(row: Row, runs: list[dict]) -> str:
  student = _stat([r["student"] for r in runs])[0]
  teacher = _stat([r["teacher"] for r in runs if "teacher" in r])[0]
  baseline = _stat([r["baseline"] for r in runs if "baseline" in r])[0]
  checks = {"teacher+2": student >= teacher + 0.02,
            "baseline+12&teacher-2": student >= baseline + 0.12 and student >= teacher - 0.02,
            "baseline": student > baseline, ">=baseline": student >= baseline,
            ">=0.70": student >= 0.70}
  return "met" if checks[row.target] else "NOT met"


def _results_table(runs: list[dict]) -> list[str]:
  lines = ["| row | claim | seeds | teacher | without KD | distilled student | done-when | command |",
           "|---|---|---|---|---|---|---|---|"]
  for name, row in ROWS.items():
    mine = [r for r in runs if r["row"] == name]
    if not mine:
      lines.append(f"| {name} | {row.claim} | 0 | — | — | — | not run | "
                   f"`{command([name], range(5))}` |")
      continue
    seeds = sorted(r["seed"] for r in mine)
    lines.append(
        f"| {name} | {row.claim} | {','.join(map(str, seeds))} | "
        f"{_fmt([r['teacher'] for r in mine if 'teacher' in r])} | "
        f"{_fmt([r['baseline'] for r in mine if 'baseline' in r])} | "
        f"{_fmt([r['student'] for r in mine])} | {verdict(row, mine)} | "
        f"`{command([name], seeds)}` |")
  return lines


def _configurations() -> list[str]:
  return [f"- **{name}** ({row.dataset}): teacher "
          f"{row.teacher[0].to_dict() if row.teacher else None}; "
          f"student {row.student.to_dict() if row.student else 'built by the method'}; "
          f"distill {_short(row.config)}"
          + (f"; baseline and student quantized {row.quantization.to_dict()}"
             if row.quantization else "") for name, row in ROWS.items()]


def _latency_blocks() -> dict[str, list[str]]:
  """The GLNN per-node latency heading, table and reading, from `tools/bench_glnn.py`'s JSON."""
  bench = json.loads(LATENCY.read_text())
  node, full = bench["per_node_latency_ms"], bench["full_graph_latency_ms"]
  agreement = bench["per_node_agreement_with_keras"]
  ratio = bench["per_node_p50_ratio_teacher_over_student"]
  return {
      "latency_heading": [f"## GLNN per-node latency ({bench['dataset'].capitalize()}, "
                          f"{bench['runtime']}, {bench['threads']} thread, one run)"],
      "latency_command": [f"Command: `{bench['command']}`"],
      "latency_table": [
          f"| per-node p50 (ms) | {node['student']['p50']:.3f} | {node['teacher']['p50']:.3f} "
          f"| {ratio:.1f}x |",
          f"| full graph p50 (ms) | {full['student']['latency_ms']['p50']:.2f} | "
          f"{full['teacher']['latency_ms']['p50']:.2f} | "
          f"{bench['full_graph_p50_ratio_teacher_over_student']:.2f}x |"],
      "latency_reading": [
          f"Per-node agreement with Keras: student {agreement['student']:.3f}, teacher on its "
          f"2-hop subgraph {agreement['teacher_2hop']:.3f}. Done-when (student int8 p50 >= 10x "
          f"lower than the teacher's): {'met' if ratio >= 10 else 'NOT met'}."],
  }


def render(runs: list[dict]) -> str:
  """docs/distillation.md: experiments/distillation/page.md filled with the computed blocks."""
  return fill_template(PAGE, {"results_table": _results_table(runs),
                              "configurations": _configurations(), **_latency_blocks()})


def _short(config: DistillConfig) -> dict:
  default = DistillConfig(method=config.method)
  shown = {"method"} | {"lsp": {"lsp_kernel", "lsp_weight", "lsp_layers", "alpha"},
                        "kd": {"alpha", "temperature"}}.get(config.method, set())
  return {k: v for k, v in config.to_dict().items() if k in shown or v != getattr(default, k)}


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS))
  parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
  parser.add_argument("--render-only", action="store_true")
  parser.add_argument("--check", action="store_true",
                      help="with --render-only: compare docs/distillation.md with a fresh "
                           "render and exit 1 if it is stale (nothing written)")
  parser.add_argument("--runs", type=pathlib.Path, default=RUNS,
                      help="the runs file to extend (default: docs/results/distill_runs.json)")
  parser.add_argument("--no-render", action="store_true",
                      help="record runs only; leave docs/distillation.md alone (for a --runs "
                           "file of your own)")
  parser.add_argument("--teacher-structure", action="store_true",
                      help="print the teacher's local-structure entropy of each LSP row and "
                           "seed (no training of students, nothing written)")
  args = parser.parse_args(argv)
  if args.teacher_structure:
    for name in args.rows:
      if ROWS[name].config.method == "lsp":
        for seed in args.seeds:
          print(json.dumps(teacher_structure_entropy(ROWS[name], seed)), flush=True)
    return
  runs = load_runs(args.runs)
  if args.check:
    if DOC.read_text() != render(runs):
      raise SystemExit(f"{DOC} is not what `python tools/distill_results.py --render-only` "
                       f"makes of {RUNS}; re-render it.")
    return
  if not args.render_only:
    for name in args.rows:
      for seed in args.seeds:
        if any(r["row"] == name and r["seed"] == seed for r in runs):
          continue
        record = run_one(ROWS[name], seed)
        print(json.dumps(record), flush=True)
        runs = load_runs(args.runs) + [record]   # re-read: another sweep may have written
        atomic_write_text(args.runs, json.dumps(runs, indent=1))
        if not args.no_render:
          atomic_write_text(DOC, render(runs))
  if not args.no_render:
    atomic_write_text(DOC, render(runs))


if __name__ == "__main__":
  main()
