"""Regenerates docs/binary.md: binary GNNs (staged KD vs scratch), LCE artifacts, x86 latency.

    python tools/binary_results.py run --experiments cora_gcn --seeds 0 1 2
    python tools/binary_results.py render
    python tools/binary_results.py render --check    # exit 1 if docs/binary.md is stale

The experiments (teacher, recipe, targets) are experiments/binary/experiments.yaml.

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
import yaml

from edgegnn import _keras_env  # noqa: F401  (before TensorFlow)
import tensorflow as tf

from edgegnn import data
from edgegnn.atomic import atomic_write_text
from edgegnn.binary.models import build_binary_model
from edgegnn.binary.staged import BinarizeConfig, binarize, export_model, predict_logits
from edgegnn.deploy import bench, convert, verify
from edgegnn.models import ModelSpec, build_model, feeds, transfer_weights
from edgegnn.training import TrainConfig, make_task, train
from page_template import fill_template

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "binary_results.json"
DOC = ROOT / "docs" / "binary.md"

SWEEP = ROOT / "experiments" / "binary" / "experiments.yaml"
PAGE = ROOT / "experiments" / "binary" / "page.md"


def load_sweep(path=SWEEP) -> dict:
  """The sweep file: experiments (dataset, teacher, teacher_train, binarize), targets,
  min_size_ratio and wide_variants."""
  return yaml.safe_load(pathlib.Path(path).read_text())


_SWEEP = load_sweep()
EXPERIMENTS = _SWEEP["experiments"]
TARGETS = _SWEEP["targets"]
MIN_RATIO = float(_SWEEP["min_size_ratio"])
WIDE_VARIANTS = _SWEEP["wide_variants"]


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
    teacher = train(ModelSpec(), ds, TrainConfig(**exp["teacher_train"]), seed=seed,
                    progress=False, model=float_model)
  else:
    teacher = train(ModelSpec(**exp["teacher"]), ds, TrainConfig(**exp["teacher_train"]),
                    seed=seed, progress=False)
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


def render(check: bool = False) -> bool:
  """Writes docs/binary.md (or, with CHECK, only compares); True if it was up to date."""
  text = render_text(_load())
  if check:
    return DOC.read_text() == text
  atomic_write_text(DOC, text)
  return True


def _by_name(records) -> dict:
  by_name = {}
  for r in sorted(records, key=lambda r: r["seed"]):  # "first seed" = lowest seed
    by_name.setdefault(r["experiment"], []).append(r)
  return by_name


def _results_table(by_name) -> list:
  lines = ["| experiment | seeds | FP32 teacher | intermediate | staged KD | scratch "
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
  return lines


def _artifacts_table(by_name) -> list:
  lines = ["| experiment | lce bytes | float32 same arch. bytes | ratio | FP32 teacher bytes "
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
  return lines


def _op_lists(by_name) -> list:
  return [f"- {name}: " + ", ".join(
      f"{k} {v}" for k, v in sorted(_sized(rs)["artifacts"]["lce"]["ops"].items()))
          for name, rs in by_name.items()]


def render_text(records) -> str:
  """docs/binary.md for RECORDS (the entries of docs/binary_results.json): the page template
  experiments/binary/page.md with its {{block}} markers replaced by computed lines."""
  by_name = _by_name(records)
  blocks = {"width_reading": _width_reading(by_name),
            "variant_readings": _variant_readings(by_name),
            "results_table": _results_table(by_name),
            "batch_norm_table": _batch_norm_table(by_name),
            "artifacts_table": _artifacts_table(by_name),
            "op_lists": _op_lists(by_name),
            "status": _status(by_name)}
  return fill_template(PAGE, blocks)


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
  return ["| experiment | stage | seeds | val moving | val re-est. | Δ val | test moving "
          "| test re-est. | Δ test |",
          "|---|---|---|---|---|---|---|---|---|"] + rows




def _sized(rs) -> dict:
  """The first record (lowest seed) with artifact sizes and latencies."""
  return next(r for r in rs if "float32_teacher" in r["artifacts"])


def _status(by_name) -> list:
  """The targets (experiments.yaml) against the means above, one line per experiment."""
  lines = []
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
  return lines


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  sub = parser.add_subparsers(dest="command", required=True)
  run_parser = sub.add_parser("run")
  run_parser.add_argument("--experiments", default=",".join(EXPERIMENTS))
  run_parser.add_argument("--seeds", type=int, nargs="+", default=[0])
  render_parser = sub.add_parser("render")
  render_parser.add_argument("--check", action="store_true",
                             help="Compare docs/binary.md with a fresh render; exit 1 if stale.")
  args = parser.parse_args()
  if args.command == "run":
    names = args.experiments.split(",")
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
      raise SystemExit(f"unknown experiments {unknown}; expected {', '.join(EXPERIMENTS)}")
    run(names, args.seeds)
  elif not render(check=args.check):
    raise SystemExit(f"{DOC} is not what `python tools/binary_results.py render` makes of "
                     f"{RESULTS}; re-render it.")


if __name__ == "__main__":
  main()
