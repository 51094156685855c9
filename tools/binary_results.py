"""Regenerates docs/binary.md: binary GNNs (staged KD vs scratch), LCE artifacts, x86 latency.

    PYTHONPATH=. python tools/binary_results.py run --experiments cora_gcn --seeds 0 1 2
    PYTHONPATH=. python tools/binary_results.py render

`run` appends one record per (experiment, seed) to docs/binary_results.json (records
already there are skipped, so an interrupted run resumes); `render` rewrites
docs/binary.md from that file. For every seed: train the FP32 teacher (zoo), run
`binarize` (staged distillation and, with `scratch`, the binary model from scratch),
export the staged student (or the scratch model) to `lce` and verify it on the LCE
interpreter over the test split, export the FP32 teacher and the float-precision build
of the binary architecture to tflite-float32, and time the artifacts on this host
(1 thread).
"""
from __future__ import annotations

import argparse
import json
import pathlib
import platform
import tempfile
import time

import numpy as np

from edgegnn import _keras_env  # noqa: F401  (before TensorFlow)
import tensorflow as tf

from edgegnn import data
from edgegnn.atomic import atomic_write_text
from edgegnn.binary.models import build_binary_model
from edgegnn.binary.staged import BinarizeConfig, binarize, export_model, predict_logits
from edgegnn.deploy import bench, convert, verify
from edgegnn.models import ModelSpec, build_model, feeds, transfer_weights
from edgegnn.training import TrainConfig, make_task, train

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "binary_results.json"
DOC = ROOT / "docs" / "binary.md"

PLANETOID = dict(weight_decay=5e-4, input_normalization="row")
CITATION_KD = {"epochs": 150, "scratch": True, "temperature": 0.25, "kd_weight": 4.0,
               "lsp_weight": 0.0, "final_teacher": "teacher", "final_learning_rate": 0.001}
DIGITS_MODEL = {"hidden_units": 32, "num_layers": 3, "k": 8, "embed_units": 64}
DIGITS_HEAD = {"classifier": "float"}
DIGITS_BINARY_MOVING_BN = {"epochs": 30, "patience": 30, "learning_rate": 0.005,
                           "lr_schedule": "cosine", "scratch": True}
# The current recipe: the same, with BatchNorm statistics re-estimated from the training
# clouds after each stage (the moving averages are the sign thresholds at evaluation).
DIGITS_BINARY = dict(DIGITS_BINARY_MOVING_BN, reestimate_batch_norm=True)
DIGITS_8EP = {"epochs": 8, "patience": 8, "learning_rate": 0.005, "scratch": True}
DIGITS_WIDE = {"hidden_units": 64, "embed_units": 128}


def _digits(architecture: str, binarize: dict, width=None, head=DIGITS_HEAD) -> dict:
  """A point-cloud experiment: ARCHITECTURE binarized with the BINARIZE settings, its FP32
  teacher the float twin of the same topology (DIGITS_MODEL, widened by WIDTH)."""
  model = {"architecture": architecture, **DIGITS_MODEL, **(width or {}), **head}
  return dict(dataset="digits_points", teacher="float_twin",
              teacher_train=TrainConfig(epochs=20, patience=10, learning_rate=0.005),
              binarize=dict(binarize, model=model))


EXPERIMENTS = {
    "cora_gcn": dict(
        dataset="cora", teacher=ModelSpec("gcn", **PLANETOID),
        teacher_train=TrainConfig(epochs=200, patience=100),
        # The GCN teacher (weight decay 5e-4) is under-confident (mean max softmax 0.44
        # at T=1): T=2 targets are near uniform and KD then costs 5-10 pt. T=0.25
        # sharpens them; LSP off (it cost 7 pt on Cora at lambda=1); stage 2 distils the
        # FP32 teacher again (the intermediate is ~4 pt below it) and fine-tunes the
        # intermediate's weights at lr 0.001 (at 0.01 stage 2 lost ~2 pt).
        binarize=dict(CITATION_KD, model={"architecture": "gcn"})),
    "cora_sage": dict(
        dataset="cora", teacher=ModelSpec("sage", **PLANETOID),
        teacher_train=TrainConfig(epochs=200, patience=100),
        binarize={"model": {"architecture": "sage"}, "epochs": 150, "staged": False,
                  "scratch": True}),
    "citeseer_gcn": dict(
        dataset="citeseer", teacher=ModelSpec("gcn", **PLANETOID),
        teacher_train=TrainConfig(epochs=200, patience=100),
        binarize={"model": {"architecture": "gcn"}, "epochs": 150, "staged": False,
                  "scratch": True}),
    "citeseer_gcn_kd": dict(
        dataset="citeseer", teacher=ModelSpec("gcn", **PLANETOID),
        teacher_train=TrainConfig(epochs=200, patience=100),
        binarize=dict(CITATION_KD, model={"architecture": "gcn"})),
    # The first point-cloud runs: 8 epochs per stage, constant lr, binary classifier.
    "digits_bin_edgeconv_8ep": _digits("bin_edgeconv", DIGITS_8EP, head={}),
    "digits_xor_edgeconv_8ep": _digits("xor_edgeconv", DIGITS_8EP, head={}),
    # DIGITS_BINARY_MOVING_BN: 30 epochs per stage with cosine decay (at 8 the
    # intermediate itself was under-fitted: 84 % train accuracy) and a real-valued
    # classifier (Bahri et al.'s default; its input is the 32-bit code of the cloud);
    # evaluated with BatchNorm's moving averages.
    "digits_bin_edgeconv_movingbn": _digits("bin_edgeconv", DIGITS_BINARY_MOVING_BN),
    "digits_xor_edgeconv_movingbn": _digits("xor_edgeconv", DIGITS_BINARY_MOVING_BN),
    # DIGITS_BINARY: the same with BatchNorm statistics re-estimated after each stage.
    "digits_bin_edgeconv": _digits("bin_edgeconv", DIGITS_BINARY),
    "digits_xor_edgeconv": _digits("xor_edgeconv", DIGITS_BINARY),
    # Twice as wide (64 hidden units, 128-unit embedding; Bahri et al.'s DGCNN uses 64-256
    # and 1024): binary layers lose more to sign() the fewer channels they have.
    "digits_bin_edgeconv_wide": _digits("bin_edgeconv", DIGITS_BINARY, width=DIGITS_WIDE),
    # As digits_bin_edgeconv_wide, with stage 2 distilling the FP32 twin (as the citation
    # recipe does) instead of the intermediate.
    "digits_bin_edgeconv_wide_fp32kd": _digits(
        "bin_edgeconv", dict(DIGITS_BINARY, final_teacher="teacher"), width=DIGITS_WIDE),
    "digits_xor_edgeconv_wide": _digits("xor_edgeconv", DIGITS_BINARY, width=DIGITS_WIDE),
    # As digits_bin_edgeconv_wide, with stage 2 fine-tuning the intermediate's weights at
    # lr 0.001 (as the citation recipe does): at 0.005 stage 2's validation accuracy fell
    # from 0.81 after its first epoch to 0.72-0.78 within its first ten (seed 0).
    "digits_bin_edgeconv_wide_ft": _digits(
        "bin_edgeconv", dict(DIGITS_BINARY, final_learning_rate=0.001), width=DIGITS_WIDE),
    # As digits_bin_edgeconv_wide, with the LSP weight (lambda, both stages) at 0.1 instead
    # of 1: on Cora lambda 1 cost 7 pt (CITATION_KD turns LSP off).
    "digits_bin_edgeconv_wide_lsp0.1": _digits(
        "bin_edgeconv", dict(DIGITS_BINARY, lsp_weight=0.1), width=DIGITS_WIDE),
    # As digits_bin_edgeconv_wide, with twice the epochs in every stage (60 each; scratch
    # then gets 120): distillation needs long schedules to pay off ("a good teacher is
    # patient", Beyer et al., CVPR 2022), and 30 epochs may be too short for it to show.
    "digits_bin_edgeconv_wide_long": _digits(
        "bin_edgeconv", dict(DIGITS_BINARY, epochs=60, patience=60), width=DIGITS_WIDE),
}


def _latency(path, feed, runtime):
  result = bench.benchmark(path, feed, runs=30, warmup=3, runtime=runtime,
                           measure_memory=False)
  return round(result["latency_ms"]["p50"], 3)


def run_one(name: str, seed: int, sizes: bool = True) -> dict:
  exp = EXPERIMENTS[name]
  ds = data.load(exp["dataset"])
  task = make_task(ds)
  start = time.perf_counter()
  config = BinarizeConfig.from_dict(exp["binarize"])
  twin = exp["teacher"] == "float_twin"
  if twin:  # The FP32 DGCNN of the same architecture (float precision).
    tf.keras.utils.set_random_seed(seed)
    float_model = build_binary_model(config.spec, precision="float",
                                     num_features=ds.num_features,
                                     num_classes=ds.num_classes, batched=True)
    teacher = train(ModelSpec(), ds, exp["teacher_train"], seed=seed, progress=False,
                    model=float_model)
  else:
    teacher = train(exp["teacher"], ds, exp["teacher_train"], seed=seed, progress=False)
  result = binarize(teacher.model, ds, config, seed=seed)
  record = {"experiment": name, "seed": seed, "dataset": ds.name,
            "teacher_test_accuracy": teacher.metrics["test_accuracy"],
            "test_accuracy": result.metrics["test_accuracy"],
            "scratch_test_accuracy": result.metrics.get("scratch_test_accuracy"),
            "stages": result.stages, "summary": result.metrics["summary"]}
  spec = config.spec
  node = spec.task == "node"
  test_index = task.split("test")
  layout = "sparse" if node else "dense"
  capacity = ds.graph.num_nodes if node else ds.max_nodes
  with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    export = export_model(result.model, spec, ds)
    names = feeds.model_input_names(export)
    lce = convert.convert(export, "lce", tmp / "binary.tflite", target="arm-linux")
    reference = predict_logits(result.model, task, test_index)
    if node:
      reference = reference[test_index]
    checked = verify.verify(lce.path, dataset=ds, test_index=test_index,
                            reference_logits=reference, input_names=names, layout=layout,
                            capacity=capacity, runtime="lce", floor=0.0)
    record["artifacts"] = {
        "lce": {"bytes": lce.bytes, "ops": lce.ops, "agreement": checked.agreement,
                "test_accuracy": checked.test_accuracy}}
    if not sizes:  # Sizes and latency are reported for the first seed only.
      record["seconds"] = round(time.perf_counter() - start, 1)
      return record
    sample = (feeds.graph_feed(ds.graph) if node else
              feeds.graph_feed(ds.graphs[int(test_index[0])], "dense", capacity))
    record["artifacts"]["lce"]["latency_ms_p50"] = _latency(
        lce.path, feeds.select(sample, names), "lce")
    float_build = export_model(result.model, spec, ds, precision="float")
    same_float = convert.convert(float_build, "tflite-float32", tmp / "float.tflite")
    if twin:
      teacher_export = export_model(teacher.model, spec, ds, precision="float")
    else:
      teacher_export = transfer_weights(teacher.model, build_model(
          exp["teacher"], num_features=ds.num_features, num_classes=ds.num_classes,
          task=ds.task, layout=layout, capacity=None if node else capacity))
    teacher_file = convert.convert(teacher_export, "tflite-float32", tmp / "teacher.tflite")
    record["artifacts"].update({
        "float32_same_architecture": {
            "bytes": same_float.bytes,
            "latency_ms_p50": _latency(same_float.path, feeds.select(sample, names),
                                       "litert")},
        "float32_teacher": {
            "bytes": teacher_file.bytes,
            "latency_ms_p50": _latency(teacher_file.path, feeds.select(
                sample, feeds.model_input_names(teacher_export)), "litert")},
    })
  record["seconds"] = round(time.perf_counter() - start, 1)
  return record


def _load() -> list:
  return json.loads(RESULTS.read_text()) if RESULTS.exists() else []


def run(experiments, seeds):
  records = _load()
  done = {(r["experiment"], r["seed"]) for r in records}
  for name in experiments:
    for seed in seeds:
      if (name, seed) in done:
        continue
      sized = any("float32_teacher" in r["artifacts"] for r in records
                  if r["experiment"] == name)
      record = run_one(name, seed, sizes=not sized)
      record["host"] = f"{platform.machine()} {platform.processor() or ''}".strip()
      records = _load() + [record]  # Re-read: another run may have written meanwhile.
      atomic_write_text(RESULTS, json.dumps(records, indent=1))
      print(json.dumps({k: record[k] for k in ("experiment", "seed", "teacher_test_accuracy",
                                               "test_accuracy", "scratch_test_accuracy")}),
            flush=True)
  render()


def _stat(values):
  values = [v for v in values if v is not None]
  if not values:
    return "-"
  return f"{100 * np.mean(values):.1f} ± {100 * np.std(values):.1f}"


def _mean_pt(rs, key: str) -> float:
  return 100 * float(np.mean([r[key] for r in rs]))


def _width_reading(by_name) -> list:
  """The width comparison in words, its figures computed from the records."""
  names = ("digits_bin_edgeconv", "digits_bin_edgeconv_wide", "digits_xor_edgeconv_wide")
  if not all(n in by_name for n in names):
    return []
  gap = {n: _mean_pt(by_name[n], "teacher_test_accuracy") - _mean_pt(by_name[n], "test_accuracy")
         for n in names}
  return [f"Below its FP32 twin the binary BinEdgeConv loses {gap[names[0]]:.1f} pt at 32 "
          f"channels and {gap[names[1]]:.1f} pt at 64 (XorEdgeConv at 64: {gap[names[2]]:.1f} pt)."]


def _stage_val_pt(runs, stage):
  """Mean validation accuracy (%) of STAGE ("binary", "scratch", ...) over RUNS."""
  return 100 * float(np.mean([next(st["val_accuracy"] for st in r["stages"] if st["stage"] == stage)
                              for r in runs]))


# Variants of digits_bin_edgeconv_wide (stage 2 at lr 0.005, lambda 1): name -> what changes.
WIDE_VARIANTS = {"digits_bin_edgeconv_wide_fp32kd": "Distilling the FP32 twin in stage 2",
                 "digits_bin_edgeconv_wide_ft": "Stage 2 at lr 0.001",
                 "digits_bin_edgeconv_wide_lsp0.1": "LSP at lambda 0.1",
                 "digits_bin_edgeconv_wide_long": "Twice the epochs (60 per stage; scratch 120)"}


def _variant_readings(by_name) -> list:
  """Each variant of WIDE_VARIANTS against the wide BinEdgeConv and scratch, on validation and
  test, from the records."""
  if "digits_bin_edgeconv_wide" not in by_name:
    return []
  wide = by_name["digits_bin_edgeconv_wide"]
  return [f"{what} gives {_mean_pt(by_name[name], 'test_accuracy'):.1f} on test (validation "
          f"{_stage_val_pt(by_name[name], 'binary'):.1f}) against "
          f"{_mean_pt(wide, 'test_accuracy'):.1f} ({_stage_val_pt(wide, 'binary'):.1f}) for the "
          f"wide BinEdgeConv and {_mean_pt(by_name[name], 'scratch_test_accuracy'):.1f} "
          f"({_stage_val_pt(by_name[name], 'scratch'):.1f}) from scratch "
          f"({len(by_name[name])} seeds)."
          for name, what in WIDE_VARIANTS.items() if name in by_name]


def render():
  atomic_write_text(DOC, render_text(_load()))


def render_text(records) -> str:
  """docs/binary.md for RECORDS (the entries of docs/binary_results.json)."""
  by_name = {}
  for r in sorted(records, key=lambda r: r["seed"]):  # "first seed" = lowest seed
    by_name.setdefault(r["experiment"], []).append(r)
  lines = [
      "# Binary GNNs (Larq -> LCE)", "",
      "Generated by `tools/binary_results.py render` from `docs/binary_results.json`;",
      "every row was produced by", "",
      "    PYTHONPATH=. python tools/binary_results.py run --experiments NAME --seeds S...", "",
      "(the experiment definitions, hyper-parameters included, are `EXPERIMENTS` in the",
      "tool). Accuracies are test accuracies in %, mean ± population std over the seeds",
      "listed. `staged` is the fully binary student of the staged distillation (FP32",
      "teacher -> binary weights / tanh activations -> binary), `intermediate` its stage-1",
      "model (binary weights, tanh activations); `scratch` the same binary",
      "architecture trained from scratch with cross-entropy only, for as many epochs as",
      "both stages together (or the stage's epochs when there is no staged run).",
      "Point-cloud teachers are the float-precision build of the same architecture",
      "(`float_twin`: the FP32 DGCNN with the binary model's topology). The citation",
      "KD runs (`CITATION_KD`: cora_gcn, citeseer_gcn_kd) use sharp soft targets",
      "(T = 0.25: the weight-decayed GCN teacher is under-confident), no LSP, and distil",
      "the FP32 teacher again in stage 2 at lr 0.001 from the intermediate's weights.",
      "cora_sage and citeseer_gcn are binary SAGE / GCN models trained without any",
      "teacher (`staged: false`, 150 epochs); the KD runs' own no-KD reference is their",
      "`scratch` column.",
      "The point-cloud runs (`DIGITS_BINARY`: digits_bin_edgeconv, digits_xor_edgeconv)",
      "train 30 epochs per stage (scratch: 60) with a cosine-decayed Adam step from 0.005",
      "and a real-valued classifier (`classifier: float`, Bahri et al.'s default); the",
      "`_8ep` rows are the first runs (8 epochs per stage, constant step, binary",
      "classifier; their intermediate reached 84 % train accuracy: under-fitted); the",
      "`_movingbn` rows are DIGITS_BINARY before `reestimate_batch_norm` (evaluated,",
      "handed to stage 2 and exported with BatchNorm's moving averages; see the",
      "BatchNorm section below); the `_wide` rows are DIGITS_BINARY at twice the width",
      "(64 hidden units, 128-unit embedding); `digits_bin_edgeconv_wide_fp32kd` is the",
      "wide BinEdgeConv with stage 2 distilling the FP32 twin instead of the intermediate",
      "(`final_teacher: teacher`, as the citation recipe does);",
      "`digits_bin_edgeconv_wide_ft` fine-tunes stage 2 at lr 0.001 (`final_learning_rate`,",
      "also as the citation recipe does) instead of 0.005;",
      "`digits_bin_edgeconv_wide_lsp0.1` weights LSP at lambda 0.1 instead of 1 (both stages).",
      *_width_reading(by_name),
      *_variant_readings(by_name),
      "Per-stage accuracies (intermediate included) and validation curves are in the JSON",
      "(`stages`). Timings were taken on a shared, heavily loaded host and are noisy.", "",
      "| experiment | seeds | FP32 teacher | intermediate | staged KD | scratch "
      "| LCE agreement | LCE acc |",
      "|---|---|---|---|---|---|---|---|"]
  for name, rs in by_name.items():
    staged = [r["test_accuracy"] for r in rs if r["stages"][0]["stage"] != "scratch"]
    lines.append(
        f"| {name} | {', '.join(str(r['seed']) for r in rs)} | "
        f"{_stat([r['teacher_test_accuracy'] for r in rs])} | "
        f"{_stat([r['stages'][0]['test_accuracy'] for r in rs if r['stages'][0]['stage'] == 'binary_weights'])} | "
        f"{_stat(staged)} | "
        f"{_stat([r['scratch_test_accuracy'] for r in rs])} | "
        f"{_stat([r['artifacts']['lce']['agreement'] for r in rs])} | "
        f"{_stat([r['artifacts']['lce']['test_accuracy'] for r in rs])} |")
  lines += _batch_norm_table(by_name)
  lines += ["", "## Artifacts and x86 latency", "",
            "Sizes of the first seed's artifacts (the lowest seed whose run measured them;",
            "later seeds record only the LCE artifact's agreement and accuracy); latency is the p50 of 30 runs after 3",
            "warm-up runs, 1 thread, on this x86-64 host (shared with other jobs), `lce` on",
            "the LCE interpreter, float32 on ai-edge-litert. LCE has no optimised x86",
            "kernels: the binary artifact is smaller, not faster, here (see deploy/pi).", "",
            "| experiment | lce bytes | float32 same arch. bytes | ratio | FP32 teacher bytes "
            "| lce ms | float32 same arch. ms | teacher ms | binarized MAC ratio | "
            "weight memory (larq) |",
            "|---|---|---|---|---|---|---|---|---|---|"]
  for name, rs in by_name.items():
    r = _sized(rs)
    a = r["artifacts"]
    s = r["summary"]
    lines.append(
        f"| {name} | {a['lce']['bytes']} | {a['float32_same_architecture']['bytes']} | "
        f"{a['float32_same_architecture']['bytes'] / a['lce']['bytes']:.1f}x | "
        f"{a['float32_teacher']['bytes']} | {a['lce']['latency_ms_p50']} | "
        f"{a['float32_same_architecture']['latency_ms_p50']} | "
        f"{a['float32_teacher']['latency_ms_p50']} | {s['binarized_mac_ratio']} | "
        f"{s['memory_bytes']} B ({s['memory_compression']}x vs float32) |")
  lines += ["", "## LCE op lists (first seed)", ""]
  for name, rs in by_name.items():
    ops = ", ".join(f"{k} {v}" for k, v in sorted(_sized(rs)["artifacts"]["lce"]["ops"].items()))
    lines.append(f"- {name}: {ops}")
  lines += ["", "## How the models binarise", "",
            "- Every linear map is an `edgegnn.binary.BinaryLinear`: sign(BN(x)) (*) sign(W)",
            "  times a learned per-channel scale Gamma, computed as a 1x1 larq `QuantConv2D`",
            "  over an NHWC view [1, rows, 1, C]. The LCE converter lowers exactly this to",
            "  `LceBconv2d` (a `QuantDense` would stay a float FULLY_CONNECTED);",
            "  `tests/test_binary_lce.py` checks the op list of every architecture.",
            "- Citation graphs (GCN / SAGE): both layers fully binary. The 0/1 bag-of-words",
            "  input is coded as sign(x - 0.5) and the first binary map is followed by a",
            "  batch normalisation (without it the common offset of the many -1 'absent'",
            "  codes stops training). Aggregation (GATHER + UNSORTED_SEGMENT_SUM) stays float.",
            "- Point clouds (DGCNN): the first EdgeConv sees raw (x, y, intensity)",
            "  coordinates and keeps real inputs with binary weights (one float CONV_2D with",
            "  +-1 weights); all other maps (EdgeConv transforms, embedding, head) are fully",
            "  binary. The classifier is binary in the `_8ep` rows and real-valued",
            "  (`classifier: float`: BN(h) W Gamma + b, a second float CONV_2D of",
            "  32 x 10 weights + 10 biases, counted in the lce bytes above) in",
            "  digits_bin_edgeconv / digits_xor_edgeconv. k-NN graphs are computed inside the model",
            "  (euclidean; Hamming for XorEdgeConv) with an exact integer tie-break, so the",
            "  artifact takes raw points and agrees with Keras.",
            "- Float FULLY_CONNECTED ops left in the point-cloud artifacts multiply two",
            "  activations (k-NN distance matrix, readout membership), not weights.", ""]
  lines += _status(by_name)
  return "\n".join(lines)


def _batch_norm_table(by_name) -> list:
  """Per stage: accuracy with BatchNorm's moving averages vs re-estimated statistics."""
  rows = []
  for name, rs in by_name.items():
    stages = {}
    for r in rs:
      for st in r["stages"]:
        if "val_accuracy_before_batch_norm" in st:
          stages.setdefault(st["stage"], []).append(st)
    for stage, ss in stages.items():
      cells = []
      for split in ("val", "test"):
        before = [st[f"{split}_accuracy_before_batch_norm"] for st in ss]
        after = [st[f"{split}_accuracy"] for st in ss]
        cells += [_stat(before), _stat(after),
                  f"{100 * np.mean(np.subtract(after, before)):+.1f}"]
      seeds = ", ".join(str(r["seed"]) for r in rs
                        if any(st["stage"] == stage and "val_accuracy_before_batch_norm" in st
                               for st in r["stages"]))
      rows.append(f"| {name} | {stage} | {seeds} | " + " | ".join(cells) + " |")
  if not rows:
    return []
  return ["", "## BatchNorm statistics: moving averages vs re-estimated", "",
          "With `reestimate_batch_norm: true` every stage, after restoring its best",
          "validation weights (selected with the moving averages), measures validation and",
          "test accuracy with BatchNorm's moving averages (momentum 0.9), then sets the",
          "statistics to the mean batch statistics over the training clouds (batches of 32,",
          "as in training) and measures again (`*_before_batch_norm` vs `*_accuracy` in the",
          "JSON's `stages`). The weights are the same; only the sign thresholds",
          "h = sign(BN(x)) move. Stage 2 starts from (and, in the cascade, distils) the",
          "re-estimated intermediate. Mean ± std over the seeds listed, in %.", "",
          "| experiment | stage | seeds | val moving | val re-est. | Δ val | test moving "
          "| test re-est. | Δ test |",
          "|---|---|---|---|---|---|---|---|---|"] + rows + [
              "", "Reading (5 seeds of digits_bin_edgeconv): on test, re-estimation moves every",
              "stage by less than the seeds' spread, so stale statistics do not explain the gap",
              "between the binary student and its FP32 twin. Validation drops because the best",
              "epoch was chosen on the moving-average figure (a selection bias)."]


# Issue 5's accuracy targets: a fixed floor, or "within 5 pt of the FP32 teacher".
TARGETS = {"cora_gcn": 0.79, "cora_sage": 0.79, "citeseer_gcn": 0.66,
           "citeseer_gcn_kd": 0.66,
           "digits_bin_edgeconv": "teacher-5", "digits_xor_edgeconv": "teacher-5",
           "digits_bin_edgeconv_8ep": "teacher-5", "digits_xor_edgeconv_8ep": "teacher-5",
           "digits_bin_edgeconv_movingbn": "teacher-5",
           "digits_xor_edgeconv_movingbn": "teacher-5",
           "digits_bin_edgeconv_wide": "teacher-5",
           "digits_xor_edgeconv_wide": "teacher-5",
           "digits_bin_edgeconv_wide_fp32kd": "teacher-5"}
MIN_RATIO = 20.0


def _sized(rs) -> dict:
  """The first record (lowest seed) with artifact sizes and latencies."""
  return next(r for r in rs if "float32_teacher" in r["artifacts"])


def _status(by_name) -> list:
  """The targets of the issue against the means above (computed, not hand-written)."""
  lines = ["## Status against the issue's targets", "",
           "Computed by `render` from the records above: means over the seeds listed",
           "(the issue asks for 5 seeds); `binary` is the staged student when the",
           "experiment is staged, else the scratch model.", ""]
  for name, rs in by_name.items():
    staged = [r["test_accuracy"] for r in rs if r["stages"][0]["stage"] != "scratch"]
    scratch = [r["scratch_test_accuracy"] for r in rs if r["scratch_test_accuracy"] is not None]
    binary = float(np.mean(staged if staged else scratch))
    target = TARGETS.get(name)
    if target == "teacher-5":
      target = float(np.mean([r["teacher_test_accuracy"] for r in rs])) - 0.05
    parts = [f"{name} ({len(rs)} seed{'s' if len(rs) > 1 else ''}): binary "
             f"{100 * binary:.1f}"]
    if target is not None:
      parts.append(f"target {100 * target:.1f}: {'met' if binary >= target else 'NOT met'}")
    if staged and scratch:
      better = np.mean(staged) > np.mean(scratch)
      parts.append(f"staged KD {'beats' if better else 'does NOT beat'} scratch "
                   f"({100 * np.mean(staged):.1f} vs {100 * np.mean(scratch):.1f})")
    a = _sized(rs)["artifacts"]
    ratio = a["float32_same_architecture"]["bytes"] / a["lce"]["bytes"]
    if name in ("cora_gcn", "cora_sage", "citeseer_gcn", "citeseer_gcn_kd"):
      parts.append(f"lce {ratio:.1f}x smaller than float32 (target {MIN_RATIO:.0f}x: "
                   f"{'met' if ratio >= MIN_RATIO else 'NOT met'})")
    lines.append("- " + "; ".join(parts) + ".")
  return lines + [""]


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  sub = parser.add_subparsers(dest="command", required=True)
  run_parser = sub.add_parser("run")
  run_parser.add_argument("--experiments", default=",".join(EXPERIMENTS))
  run_parser.add_argument("--seeds", type=int, nargs="+", default=[0])
  sub.add_parser("render")
  args = parser.parse_args()
  if args.command == "run":
    names = args.experiments.split(",")
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
      raise SystemExit(f"unknown experiments {unknown}; expected {', '.join(EXPERIMENTS)}")
    run(names, args.seeds)
  else:
    render()


if __name__ == "__main__":
  main()
