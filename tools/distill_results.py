"""Runs the distillation done-when rows over seeds and regenerates docs/distillation.md.

    python tools/distill_results.py                       # every row, seeds 0-4
    python tools/distill_results.py --rows glnn-cora --seeds 0 1
    python tools/distill_results.py --render-only         # rewrite the markdown only

Each run (row, seed) is appended to docs/results/distill_runs.json as soon as it ends, and
runs already there are skipped, so an interrupted sweep resumes. The markdown gives mean
+- population std over the recorded seeds, with the command that produced each row.
The Notes section's prose is `NOTES` in tools/distill_notes.py.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import edgegnn  # noqa: E402,F401  (before tensorflow)
from edgegnn import data  # noqa: E402
from edgegnn.atomic import atomic_write_text  # noqa: E402
from edgegnn.distill import DistillConfig, distill  # noqa: E402
from edgegnn.models import ModelSpec, build_model  # noqa: E402
from edgegnn.quantization import QuantizationConfig  # noqa: E402
from edgegnn.training import TrainConfig, train  # noqa: E402
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from distill_notes import NOTES  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
RUNS = ROOT / "docs" / "results" / "distill_runs.json"
DOC = ROOT / "docs" / "distillation.md"
LATENCY = ROOT / "docs" / "results" / "glnn_latency.json"

PLANETOID = dict(weight_decay=5e-4, input_normalization="row")
GCN = ModelSpec("gcn", **PLANETOID)
GAT = ModelSpec("gat", hidden_units=8, num_heads=8, dropout=0.6, attention_dropout=0.6,
                activation="elu", **PLANETOID)
NODE_TRAIN = TrainConfig(epochs=200, patience=100)
GAT_TRAIN = TrainConfig(epochs=300, patience=100, learning_rate=0.005)
# 200 epochs cut the hidden-8 GCN short (see tools/distill_notes.py): the LSP rows give the student with and
# without KD the same 400-epoch budget.
SMALL_TRAIN = TrainConfig(epochs=400, patience=100)
GIN_TEACHER = ModelSpec("gin", hidden_units=32, num_layers=4, dropout=0.5, readout="sum")
GIN_TRAIN = TrainConfig(epochs=200, learning_rate=0.01, lr_decay_every=50, batch_size=32)
# The teacher with its BatchNorm statistics re-estimated from its training graphs after
# training: the moving averages lag behind the weights, and GFKD's batch-norm prior takes the
# running statistics for those of the teacher's training data.
GIN_TRAIN_REBN = dataclasses.replace(GIN_TRAIN, reestimate_batch_norm=True)
# gfkd-mutag-bn2's settings, and those with the student trained on the generator's snapshots.
GFKD_BN2 = DistillConfig(method="gfkd", temperature=2.0, gfkd_graphs=128, gfkd_steps=100,
                         gfkd_nodes=28, gfkd_min_nodes=10, gfkd_entropy_weight=0.1,
                         gfkd_bn_weight=1.0, gfkd_bn_layers=2, epochs=60, weight_decay=0.0)
GFKD_POOL = dataclasses.replace(GFKD_BN2, gfkd_snapshot_every=10)
# gfkd-mutag-rebn-pool's settings plus two adversarial rounds (generators that seek the
# student's disagreement with the teacher), 10 student epochs after each.
GFKD_ADVERSARIAL = dataclasses.replace(GFKD_POOL, gfkd_adversarial_rounds=2,
                                       gfkd_adversarial_weight=1.0, gfkd_adversarial_epochs=10)
# gfkd-mutag-rebn-pool's settings with the node types that are under 1 % of the teacher's
# training data (read from its first batch-norm layer) left out of the fake graphs.
GFKD_SUPPORT = dataclasses.replace(GFKD_POOL, gfkd_feature_support=0.01)
GIN_STUDENT = ModelSpec("gin", hidden_units=32, num_layers=4, dropout=0.5, readout="sum",
                        batch_norm=False)
# A size-invariant readout: the generated graphs' node counts and feature mix differ from
# MUTAG's, and a summed readout carries that shift into the student's logits.
GIN_STUDENT_MEAN = dataclasses.replace(GIN_STUDENT, readout="mean")
GLNN_MLP = ModelSpec("mlp", hidden_units=256, num_layers=2, dropout=0.5)
SMALL_GCN = ModelSpec("gcn", hidden_units=8, **PLANETOID)
DEEP_GCN = ModelSpec("gcn", hidden_units=16, num_layers=4, **PLANETOID)
WIDE_DEEP_GCN = dataclasses.replace(DEEP_GCN, hidden_units=64)
DQ_INT8 = QuantizationConfig("dq", weight_bits=8, activation_bits=8)
# GNN-SD at the step and ADR weight chosen on validation (docs/distillation.md Notes).
SD_CHOSEN = DistillConfig(method="gnn-sd", sd_weight=0.01, epochs=400, learning_rate=0.003)


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


def _deeper_sd_row(layers: int, plain_step: float, sd_step: float, sd_weight: float) -> Row:
  """GNN-SD beyond the target's 4 layers: sd-cora-400's GCN LAYERS deep, plain and SD each at
  its Adam step (and SD at its beta) chosen on validation by the depth sweep."""
  gcn = dataclasses.replace(DEEP_GCN, num_layers=layers)
  return Row(
      f"sd-cora-{layers}l", "cora", "beyond the target's depth: as sd-cora-400 with the GCN "
      f"{layers} layers deep (plain and SD), each method's Adam step and beta chosen on "
      "validation over seeds 0-9 (`python tools/distill_sweep.py sd400-lr SEEDS "
      f"0.005,0.01,0.02 w0.1,w1,w10 16 {layers}`): the plain GCN at {plain_step:g}, GNN-SD with "
      f"beta {sd_weight:g} at {sd_step:g}", None,
      (gcn, dataclasses.replace(SMALL_TRAIN, learning_rate=plain_step)), gcn,
      DistillConfig(method="gnn-sd", sd_weight=sd_weight, epochs=400, learning_rate=sd_step),
      "baseline")


ROWS = {r.name: r for r in (
    Row("cpf-cora", "cora", "CPF student >= GCN teacher + 2 pt", (GCN, NODE_TRAIN), None, None,
        DistillConfig(method="cpf", temperature=0.5, epochs=400), "teacher+2"),
    Row("cpf-citeseer", "citeseer", "CPF student >= GCN teacher + 2 pt", (GCN, NODE_TRAIN),
        None, None, DistillConfig(method="cpf", temperature=0.5, epochs=400), "teacher+2"),
    Row("glnn-cora", "cora", "GLNN MLP >= plain MLP + 12 pt and within 2 pt of the GCN teacher",
        (GCN, NODE_TRAIN), (GLNN_MLP, NODE_TRAIN), GLNN_MLP,
        DistillConfig(method="glnn", alpha=0.0, temperature=0.5, epochs=500),
        "baseline+12&teacher-2"),
    Row("lsp-cora", "cora", "GCN (hidden 8) with LSP from a GAT teacher > same GCN without KD",
        (GAT, GAT_TRAIN), (SMALL_GCN, SMALL_TRAIN), SMALL_GCN,
        DistillConfig(method="lsp", alpha=1.0, lsp_kernel="unit_distance", lsp_weight=1.0,
                      lsp_layers=("conv0", "logits"), epochs=400), "baseline"),
    Row("lsp-citeseer", "citeseer",
        "GCN (hidden 8) with LSP from a GAT teacher > same GCN without KD",
        (GAT, GAT_TRAIN), (SMALL_GCN, SMALL_TRAIN), SMALL_GCN,
        DistillConfig(method="lsp", alpha=1.0, lsp_kernel="unit_distance", lsp_weight=1.0,
                      lsp_layers=("conv0", "logits"), epochs=400), "baseline"),
    Row("lsp-cora-val", "cora", "GCN (hidden 8) with LSP from a GAT teacher > same GCN without "
        "KD; as lsp-cora but lambda = 0.03, chosen on validation accuracy (mean over Cora "
        "seeds 0-2 among 0.03, 0.1, 0.3; 1 and 10 were lower on seed 0; see Notes)",
        (GAT, GAT_TRAIN), (SMALL_GCN, SMALL_TRAIN), SMALL_GCN,
        DistillConfig(method="lsp", alpha=1.0, lsp_kernel="unit_distance", lsp_weight=0.03,
                      lsp_layers=("conv0", "logits"), epochs=400), "baseline"),
    Row("lsp-citeseer-val", "citeseer", "GCN (hidden 8) with LSP from a GAT teacher > same GCN "
        "without KD; as lsp-citeseer but with lsp-cora-val's lambda = 0.03 (not tuned on "
        "CiteSeer)",
        (GAT, GAT_TRAIN), (SMALL_GCN, SMALL_TRAIN), SMALL_GCN,
        DistillConfig(method="lsp", alpha=1.0, lsp_kernel="unit_distance", lsp_weight=0.03,
                      lsp_layers=("conv0", "logits"), epochs=400), "baseline"),
    Row("sd-cora", "cora", "GNN-SD 4-layer GCN > its plain training", None,
        (DEEP_GCN, NODE_TRAIN), DEEP_GCN,
        DistillConfig(method="gnn-sd", sd_weight=0.1, epochs=200), "baseline"),
    Row("sd-cora-400", "cora", "as sd-cora, both the plain and the SD 4-layer GCN trained "
        "400 epochs (patience 100): with 200 the plain GCN's best epoch was 189 (seed 0)",
        None, (DEEP_GCN, SMALL_TRAIN), DEEP_GCN,
        DistillConfig(method="gnn-sd", sd_weight=0.1, epochs=400), "baseline"),
    Row("sd-cora-lr", "cora", "as sd-cora-400, each method at its Adam step chosen on "
        "validation (`python tools/distill_sweep.py sd400-lr`, seeds 0-2): GNN-SD with beta "
        "0.01 at 0.003; the plain GCN at 0.005 (tied on validation with 0.02: sd-cora-lr-0.02)",
        None, (DEEP_GCN, dataclasses.replace(SMALL_TRAIN, learning_rate=0.005)), DEEP_GCN,
        SD_CHOSEN, "baseline"),
    Row("sd-cora-lr-0.02", "cora", "as sd-cora-lr, against the plain GCN at 0.02 (tied on "
        "validation with 0.005)", None,
        (DEEP_GCN, dataclasses.replace(SMALL_TRAIN, learning_rate=0.02)), DEEP_GCN,
        SD_CHOSEN, "baseline"),
    Row("sd-cora-lr10", "cora", "as sd-cora-lr, each method's step chosen on validation over "
        "seeds 0-9 (the seeds 0-2 tie broken by more seeds): both at 0.02",
        None, (DEEP_GCN, dataclasses.replace(SMALL_TRAIN, learning_rate=0.02)), DEEP_GCN,
        dataclasses.replace(SD_CHOSEN, learning_rate=0.02), "baseline"),
    Row("sd-cora-h64", "cora", "as sd-cora-400 with a 64-wide 4-layer GCN (plain and SD) at "
        "step 0.01; beta 0.1 chosen on validation over seeds 0-9 (`python tools/distill_sweep.py "
        "sd400-lr SEEDS 0.01 w0.01,w0.1,w1 64`; a 0.1 pt lead, within the noise)", None,
        (WIDE_DEEP_GCN, SMALL_TRAIN), WIDE_DEEP_GCN,
        DistillConfig(method="gnn-sd", sd_weight=0.1, epochs=400), "baseline"),
    _deeper_sd_row(6, plain_step=0.01, sd_step=0.02, sd_weight=1.0),
    _deeper_sd_row(8, plain_step=0.005, sd_step=0.02, sd_weight=1.0),
    Row("gfkd-mutag", "mutag", "GFKD student (generated graphs only) >= 70 % on MUTAG test "
        "folds (run i: seed i, fold i)", (GIN_TEACHER, GIN_TRAIN), None, GIN_STUDENT,
        DistillConfig(method="gfkd", temperature=2.0, gfkd_graphs=128, gfkd_steps=100,
                      epochs=60, weight_decay=0.0), ">=0.70"),
    Row("gfkd-mutag-bn", "mutag", "as gfkd-mutag, with the paper's batch-norm statistics prior "
        "on the generator (weight 1, equal to the mean CE's)", (GIN_TEACHER, GIN_TRAIN), None,
        GIN_STUDENT,
        DistillConfig(method="gfkd", temperature=2.0, gfkd_graphs=128, gfkd_steps=100,
                      gfkd_bn_weight=1.0, epochs=60, weight_decay=0.0), ">=0.70"),
    Row("gfkd-mutag-sizes", "mutag", "as gfkd-mutag, with fake graphs of 10-28 nodes "
        "(`gfkd_min_nodes` 10, `gfkd_nodes` 28) and the feature-entropy one-hot regulariser "
        "(`gfkd_entropy_weight` 0.1), as in the authors' code; no batch-norm prior",
        (GIN_TEACHER, GIN_TRAIN), None, GIN_STUDENT,
        DistillConfig(method="gfkd", temperature=2.0, gfkd_graphs=128, gfkd_steps=100,
                      gfkd_nodes=28, gfkd_min_nodes=10, gfkd_entropy_weight=0.1,
                      epochs=60, weight_decay=0.0), ">=0.70"),
    Row("gfkd-mutag-bn2", "mutag", "as gfkd-mutag-sizes, plus the batch-norm prior on the "
        "first two batch-norm layers only (`gfkd_bn_layers` 2, weight 1; see Notes)",
        (GIN_TEACHER, GIN_TRAIN), None, GIN_STUDENT,
        GFKD_BN2,
        ">=0.70"),
    Row("gfkd-mutag-mean", "mutag", "as gfkd-mutag-bn2, with a mean-readout student (the "
        "teacher keeps its sum readout)", (GIN_TEACHER, GIN_TRAIN), None, GIN_STUDENT_MEAN,
        GFKD_BN2,
        ">=0.70"),
    Row("gfkd-mutag-pool", "mutag", "as gfkd-mutag-bn2, with the student trained on a pool of "
        "the generator's snapshots every 10 of its 100 steps as well as its final graphs "
        "(`gfkd_snapshot_every` 10; see Notes)", (GIN_TEACHER, GIN_TRAIN), None, GIN_STUDENT,
        GFKD_POOL, ">=0.70"),
    Row("gfkd-mutag-rebn-pool", "mutag", "as gfkd-mutag-pool, with the teacher's batch-norm "
        "statistics re-estimated from its training graphs after training "
        "(`reestimate_batch_norm`), so that the prior matches its training data (see Notes)",
        (GIN_TEACHER, GIN_TRAIN_REBN), None, GIN_STUDENT,
        GFKD_POOL, ">=0.70"),
    Row("gfkd-mutag-adv", "mutag", "as gfkd-mutag-rebn-pool, plus two adversarial rounds: "
        "each fits a new generator whose loss also rewards the student's Jensen-Shannon "
        "disagreement with the teacher (weight 1), adds its snapshots to the pool and trains "
        "the student 10 more epochs on it (`gfkd_adversarial_rounds` 2; see Notes)",
        (GIN_TEACHER, GIN_TRAIN_REBN), None, GIN_STUDENT, GFKD_ADVERSARIAL, ">=0.70"),
    Row("gfkd-mutag-support", "mutag", "as gfkd-mutag-rebn-pool, with the node types that "
        "are under 1 % of the teacher's training data, as its first batch-norm layer holds "
        "it, left out of the fake graphs (`gfkd_feature_support` 0.01; chosen on each fold's "
        "real training graphs, see Notes)", (GIN_TEACHER, GIN_TRAIN_REBN), None, GIN_STUDENT,
        GFKD_SUPPORT, ">=0.70"),
    Row("dq-kd-cora", "cora", "DQ INT8 GCN with soft-target KD from an FP32 GCN teacher >= "
        "the same DQ INT8 GCN without KD", (GCN, NODE_TRAIN), (GCN, NODE_TRAIN), GCN,
        DistillConfig(method="kd", alpha=0.5, temperature=1.0, epochs=200), ">=baseline",
        quantization=DQ_INT8),
)}


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


def load_runs() -> list[dict]:
  return json.loads(RUNS.read_text()) if RUNS.exists() else []


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


def render(runs: list[dict]) -> str:
  lines = [
      "# Distillation results",
      "",
      "Generated by `tools/distill_results.py` from `docs/results/distill_runs.json` (do not "
      "edit by hand). Test accuracy in %, mean ± population std over the seeds listed; each "
      "seed trains its own teacher and baseline. Node tasks: the Planetoid split; MUTAG: run "
      "i uses seed i and test fold i.",
      "",
      "| row | claim | seeds | teacher | without KD | distilled student | done-when | command |",
      "|---|---|---|---|---|---|---|---|",
  ]
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
  lines += ["", "## Configurations", ""]
  for name, row in ROWS.items():
    lines.append(f"- **{name}** ({row.dataset}): teacher "
                 f"{row.teacher[0].to_dict() if row.teacher else None}; "
                 f"student {row.student.to_dict() if row.student else 'built by the method'}; "
                 f"distill {_short(row.config)}"
                 + (f"; baseline and student quantized {row.quantization.to_dict()}"
                    if row.quantization else ""))
  lines += ["", "## Notes", ""] + [f"- {note}" for note in NOTES]
  return "\n".join(lines + _latency_section()) + "\n"


def _latency_section() -> list[str]:
  """The GLNN per-node latency table, from `tools/bench_glnn.py`'s JSON (if it exists)."""
  if not LATENCY.exists():
    return []
  bench = json.loads(LATENCY.read_text())
  node, full = bench["per_node_latency_ms"], bench["full_graph_latency_ms"]
  agreement = bench["per_node_agreement_with_keras"]
  return [
      "",
      f"## GLNN per-node latency ({bench['dataset'].capitalize()}, {bench['runtime']}, "
      f"{bench['threads']} thread, one run)",
      "",
      f"Command: `{bench['command']}`",
      f"(raw numbers in `docs/results/{LATENCY.name}`; measured on the shared 2-core host under",
      "heavy load from other processes, both models interleaved query by query).",
      "",
      "| | student: GLNN MLP int8, one feature row | teacher: GCN float32, exact 2-hop "
      "subgraph (numpy extraction included) | ratio |",
      "|---|---|---|---|",
      f"| per-node p50 (ms) | {node['student']['p50']:.3f} | {node['teacher']['p50']:.3f} | "
      f"{bench['per_node_p50_ratio_teacher_over_student']:.1f}x |",
      f"| full graph p50 (ms) | {full['student']['latency_ms']['p50']:.2f} | "
      f"{full['teacher']['latency_ms']['p50']:.2f} | "
      f"{bench['full_graph_p50_ratio_teacher_over_student']:.2f}x |",
      "",
      f"Per-node agreement with Keras: student {agreement['student']:.3f}, teacher on its "
      f"2-hop subgraph {agreement['teacher_2hop']:.3f}. Done-when (student int8 p50 >= 10x "
      f"lower than the teacher's): "
      f"{'met' if bench['per_node_p50_ratio_teacher_over_student'] >= 10 else 'NOT met'}. "
      "On the full graph the 256-wide int8 MLP is slower than the 16-wide GCN (both read "
      "every feature row; the MLP's first layer is 16x wider).",
  ]


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
  runs = load_runs()
  if not args.render_only:
    for name in args.rows:
      for seed in args.seeds:
        if any(r["row"] == name and r["seed"] == seed for r in runs):
          continue
        record = run_one(ROWS[name], seed)
        print(json.dumps(record), flush=True)
        runs = load_runs() + [record]     # re-read: another sweep may have written meanwhile
        atomic_write_text(RUNS, json.dumps(runs, indent=1))
        atomic_write_text(DOC, render(runs))
  atomic_write_text(DOC, render(runs))


if __name__ == "__main__":
  main()
