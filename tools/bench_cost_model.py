"""Checks the host cost model: predicted vs measured latency of many artifacts.

Builds artifacts of tiny trained models (GCN, GAT, SAGE, MLP on Cora/CiteSeer, GIN on
MUTAG; a binary GCN for LCE) in every format (float32, float16, dynamic-int8, int8, lce)
and layout (sparse, dense, neighbors; sparse and binary features), with their real
inputs stored beside them. Then, per artifact:

  measured   `edgegnn.runtime.bench.benchmark` (1 thread, invoke only, p50; repeated in
             interleaved rounds, median of the rounds' p50s; peak memory in a subprocess);
  per op     every op alone on its interpreter (`edgegnn.deploy.cost_profile`);
  predicted  the host cost model (`edgegnn.deploy.cost`), calibrated by leave-one-model-
             out: the per-op latencies of every artifact of the same trained model are
             left out of the fit that predicts it (`cost_calibration.fit_calibration`).

The host roofline's peaks are measured here: single-op FULLY_CONNECTED models (float32,
int8) and an LceBconv2d model on 1 thread, and a 64 MiB numpy copy. Writes JSON with the
load average (the machine is shared: measured under load).

    .venv/bin/python tools/bench_cost_model.py [--out /tmp/edgegnn-cost-model] \
        [--json docs/results/cost_model_host.json] [--epochs 10] [--rounds 3]
    .venv/bin/python tools/bench_cost_model.py --render docs/results/cost_model_host.json

A second run (`--json docs/results/cost_model_host_repeat.json`) checks the result repeats.
The host target's figures are this JSON's, written into the package by
    .venv/bin/python tools/bench_cost_model.py --host-figures edgegnn/deploy/cost_host_figures.py
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import sys
import time

import numpy as np

import edgegnn  # noqa: F401  (Keras 2 before TensorFlow)
from edgegnn.atomic import atomic_write_text
from edgegnn.deploy import cost, cost_profile
from edgegnn.deploy.cost_evaluation import leave_one_model_out as evaluate
from edgegnn.deploy.cost_targets import HOST, TARGETS, Target
from edgegnn.runtime import bench, bench_inputs, tflite_file


def _best_invoke_s(data: bytes, inputs, runtime: str, runs: int = 30) -> float:
  from edgegnn.runtime import interpreters  # pylint: disable=g-import-not-at-top
  info = tflite_file.read_model(data)
  rt = interpreters.open_runtime(info, runtime)
  prepared = rt.prepare(dict(zip([io.name for io in info.inputs], inputs)))
  rt.invoke(prepared)
  times = []
  for _ in range(runs):
    start = time.perf_counter()
    rt.invoke(prepared)
    times.append(time.perf_counter() - start)
  return float(np.min(times))


def host_peaks() -> dict:
  """MACs/s of 1-thread FULLY_CONNECTED (float32, int8) and LceBconv2d; copy bandwidth."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  rows, k, m = 1024, 1024, 256
  rng = np.random.default_rng(0)
  x = rng.normal(size=(rows, k)).astype(np.float32)
  weight = tf.constant(rng.normal(size=(k, m)).astype(np.float32) * 0.05)

  @tf.function(input_signature=[tf.TensorSpec([rows, k])])
  def dense(v):
    return tf.matmul(v, weight)
  peaks = {}
  for name, int8 in (("float32", False), ("int8", True)):
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [dense.get_concrete_function()], dense)
    if int8:
      converter.optimizations = [tf.lite.Optimize.DEFAULT]
      converter.representative_dataset = lambda: iter([[x]])
      converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
      converter.inference_input_type = tf.int8
    seconds = _best_invoke_s(converter.convert(), [x], "litert")
    peaks[name] = rows * k * m / seconds
  import larq as lq  # pylint: disable=g-import-not-at-top
  import larq_compute_engine as lce  # pylint: disable=g-import-not-at-top
  channels, nodes = 256, 4096
  inp = tf.keras.Input([nodes, 1, channels], batch_size=1)
  out = lq.layers.QuantConv2D(channels, 1, input_quantizer="ste_sign",
                              kernel_quantizer="ste_sign", use_bias=False,
                              pad_values=1.0)(inp)
  model = tf.keras.Model(inp, out)
  seconds = _best_invoke_s(lce.convert_keras_model(model),
                              [rng.normal(size=(1, nodes, 1, channels)).astype(np.float32)],
                              "lce")
  peaks["binary"] = nodes * channels * channels / seconds
  src = np.ones(64 * 2 ** 20 // 8)
  dst = np.empty_like(src)
  times = []
  for _ in range(10):
    start = time.perf_counter()
    np.copyto(dst, src)
    times.append(time.perf_counter() - start)
  return {"peak_macs_per_s": peaks,
          "bandwidth_bytes_per_s": 2 * src.nbytes / float(np.min(times)),
          "how": f"FULLY_CONNECTED [{rows}x{k}] x [{k}x{m}] float32 and int8 (int8 input), "
                 f"LceBconv2d 1x1 over [1, {nodes}, 1, {channels}] -> {channels}, "
                 "ai-edge-litert / LCE 1 thread, fastest of 30 invokes; bandwidth: "
                 "np.copyto of 64 MiB, bytes read + written, fastest of 10"}


def measure(artifacts: list[dict], host: Target, rounds: int, runs: int,
            op_runs: int) -> None:
  """Adds to each artifact: bench latencies (interleaved rounds), the cost model's
  prediction inputs, and "ops": [index, op, kind, bound, roofline_ms, measured_ms]."""
  mins = {a["name"]: [] for a in artifacts}
  p50s = {a["name"]: [] for a in artifacts}
  for r in range(rounds):
    for a in artifacts:
      result = bench.benchmark(a["path"], runs=runs, warmup=5, measure_memory=r == 0)
      mins[a["name"]].append(result["latency_ms"]["min"])
      p50s[a["name"]].append(result["latency_ms"]["p50"])
      if r == 0:
        a["bench"] = {k: result[k] for k in ("runtime", "timed", "inputs_source",
                                             "peak_memory_bytes", "model_memory_bytes",
                                             "baseline_memory_bytes")}
      print(f"round {r} {a['name']:<44} min {result['latency_ms']['min']:8.3f} p50 "
            f"{result['latency_ms']['p50']:8.3f} ms", flush=True)
  for a in artifacts:
    a["measured_ms"] = float(np.median(mins[a["name"]]))
    a["measured_p50_ms"] = float(np.median(p50s[a["name"]]))
    a["measured_mins"], a["measured_p50s"] = mins[a["name"]], p50s[a["name"]]
    info = tflite_file.read_model(a["path"])
    inputs, _ = bench_inputs.resolve_inputs(info)
    op_runs_found, _ = cost_profile.profile_ops(info, inputs, runs=op_runs)
    report = cost.estimate(info, host)
    a["ops"] = [[s.index, s.name, s.kind, s.bound, s.roofline_ms, run.latency_ms]
                for s, run in zip(report.ops, op_runs_found)]
    a["roofline_ms"] = report.roofline_ms
    a["predicted_peak_memory_bytes"] = report.peak_memory_bytes
    a["devices_roofline_ms"] = {name: cost.estimate(info, name).roofline_ms
                                for name in TARGETS if name != "host"}


def _ms(value: float) -> str:
  return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def summary(result: dict) -> str:
  """The paragraph under the table: host peaks, rank correlations, load."""
  parts = []
  peaks = result["host"]["peak_macs_per_s"]
  parts.append(
      f"Host roofline measured in the same run: float32 {peaks['float32'] / 1e9:.1f} GMAC/s, "
      f"int8 {peaks['int8'] / 1e9:.1f} GMAC/s, LceBconv2d {peaks['binary'] / 1e9:.1f} G "
      f"binary MAC/s, copy bandwidth "
      f"{result['host']['bandwidth_bytes_per_s'] / 1e9:.1f} GB/s.")
  parts.append(
      f"Spearman rank correlation with the measured latency over {result['num_artifacts']} "
      f"artifacts: calibrated host model (leave-one-model-out) "
      f"**{result['spearman_calibrated_leave_one_model_out']:.3f}** (against the p50: "
      f"{result['spearman_calibrated_leave_one_model_out_vs_p50']:.3f}); uncalibrated host "
      f"roofline {result['spearman_roofline_uncalibrated']:.3f}; sum of the measured "
      f"single-op latencies {result['spearman_sum_of_measured_ops']:.3f}. Median "
      f"|log(predicted / measured)| {result['median_abs_log_ratio_calibrated']:.3f}. "
      f"Predicted peak memory against the memory each artifact added to a fresh process "
      f"(bench's model_memory_bytes): Spearman {result['spearman_peak_memory']:.3f}. "
      f"Load average {' '.join(result['loadavg_before'])} before, "
      f"{' '.join(result['loadavg_after'])} after (shared machine).")
  return "\n\n".join(parts)


def render(result: dict) -> str:
  """The markdown table of docs/hardware.md: every artifact, fastest measured first."""
  lines = ["| artifact | format | layout | features | bytes | measured ms | p50 ms "
           "| predicted ms | host roofline ms | memory-bound | Pi 4 (A72) ms | Pi 3 (A53) ms "
           "| M7 ms |",
           "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
  sram = result["targets"]["cortex-m7"]["memory_bytes"]
  for a in sorted(result["artifacts"], key=lambda a: a["measured_ms"]):
    device = a["devices_roofline_ms"]
    fits = "" if a["predicted_peak_memory_bytes"] <= sram else " †"
    lines.append(
        f"| {a['name']} | {a['format'].replace('tflite-', '')} | {a['layout']} | "
        f"{a['features']} | {a['bytes']:,} | {_ms(a['measured_ms'])} | "
        f"{_ms(a['measured_p50_ms'])} | "
        f"{_ms(a['predicted_ms'])} | {_ms(a['roofline_ms'])} | "
        f"{100 * a['memory_bound_share']:.0f} % | {_ms(device['cortex-a72'])} | "
        f"{_ms(device['cortex-a53'])} | {_ms(device['cortex-m7'])}{fits} |")
  lines.append("")
  lines.append(f"† predicted peak memory above the Cortex-M7's {sram // 1024} KiB of SRAM: "
               "the roofline time of work that does not fit there.")
  lines.append("")
  lines.append(summary(result))
  return "\n".join(lines)


def _literal(mapping: dict) -> str:
  lines, line = [], ""
  for item in (f'"{k}": {v!r}' for k, v in mapping.items()):
    if len(line) + len(item) + 2 > 86:
      lines.append("    " + line.rstrip())
      line = ""
    line += item + ", "
  lines.append("    " + line.rstrip())
  return "{\n" + "\n".join(lines) + "\n}"


def host_figures_module(result: dict) -> str:
  """The text of edgegnn/deploy/cost_host_figures.py for a result JSON."""
  host, calibration = result["host"], result["calibration"]
  return f'''"""This host's measured roofline and calibration (`cost_targets.HOST`).

Copied from docs/results/cost_model_host.json ("host", "calibration"), which
`tools/bench_cost_model.py` writes; tests/test_cost_model.py checks the two are equal. To
recalibrate on another machine, run the tool and pass its JSON as `--calibration` (or
`cost_targets.get_target("host", calibration=JSON)`), or copy its figures here.
"""

PEAK_MACS_PER_S = {_literal(host["peak_macs_per_s"])}

BANDWIDTH_BYTES_PER_S = {host["bandwidth_bytes_per_s"]!r}

INVOKE_MS = {calibration["invoke_ms"]!r}

FIXED_MS = {_literal(calibration["fixed_ms"])}

SLOWDOWN = {_literal(calibration["slowdown"])}

SOURCE = {calibration["source"]!r}
'''


def check(results: pathlib.Path) -> int:
  """0 if docs/hardware.md and edgegnn/deploy/cost_host_figures.py match the JSON, else 1."""
  root = pathlib.Path(__file__).resolve().parents[1]
  result = json.loads(results.read_text())
  docs = (root / "docs/hardware.md").read_text()
  problems = []
  if render(result) not in docs:
    problems.append(f"docs/hardware.md does not quote the table of {results}; run --render")
  repeat = results.with_name("cost_model_host_repeat.json")
  if repeat.is_file() and summary(json.loads(repeat.read_text())) not in docs:
    problems.append(f"docs/hardware.md does not quote the summary of {repeat}")
  figures = root / "edgegnn/deploy/cost_host_figures.py"
  if host_figures_module(result) != figures.read_text():
    problems.append(f"{figures} differs from {results}; run --host-figures")
  for problem in problems:
    print(problem, file=sys.stderr)
  return 1 if problems else 0


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out", default="/tmp/edgegnn-cost-model",
                      help="Directory for the artifacts and their inputs.")
  parser.add_argument("--json", default="docs/results/cost_model_host.json")
  parser.add_argument("--epochs", type=int, default=10)
  parser.add_argument("--rounds", type=int, default=3)
  parser.add_argument("--runs", type=int, default=50)
  parser.add_argument("--op-runs", type=int, default=20)
  parser.add_argument("--render", metavar="JSON", default=None,
                      help="Print the markdown table of a result JSON and exit.")
  parser.add_argument("--check", action="store_true",
                      help="Exit 1 unless docs/hardware.md quotes --json's table (and the "
                           "repeat run's summary) and the package's host figures equal it.")
  parser.add_argument("--refit", action="store_true",
                      help="Refit and re-evaluate the per-op measurements already in --json "
                           "(no building, no timing) and rewrite it.")
  parser.add_argument("--host-figures", metavar="PY", default=None,
                      help="Write the host figures module (edgegnn/deploy/"
                           "cost_host_figures.py) from --json and exit.")
  args = parser.parse_args()
  if args.host_figures:
    text = host_figures_module(json.loads(pathlib.Path(args.json).read_text()))
    atomic_write_text(pathlib.Path(args.host_figures), text)
    return
  if args.check:
    sys.exit(check(pathlib.Path(args.json)))
  if args.render:
    print(render(json.loads(pathlib.Path(args.render).read_text())))
    return
  if args.refit:
    result = json.loads(pathlib.Path(args.json).read_text())
    result.update(evaluate(result["artifacts"]))
    atomic_write_text(pathlib.Path(args.json), json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k.startswith("spearman")}, indent=1))
    return
  started = time.time()
  load_before = pathlib.Path("/proc/loadavg").read_text().split()[:3]
  peaks = host_peaks()
  host = Target(HOST.name, HOST.description, peaks["peak_macs_per_s"],
                peaks["bandwidth_bytes_per_s"], sources=HOST.sources)
  print(f"host peaks {peaks}", flush=True)
  from bench_cost_model_artifacts import build_artifacts  # pylint: disable=g-import-not-at-top
  artifacts, skipped = build_artifacts(pathlib.Path(args.out), args.epochs)
  measure(artifacts, host, args.rounds, args.runs, args.op_runs)
  summary = evaluate(artifacts)
  load_after = pathlib.Path("/proc/loadavg").read_text().split()[:3]
  rows = [{k: v for k, v in a.items() if k != "path"}
          | {"artifact": os.path.basename(a["path"])} for a in artifacts]
  result = {
      "command": "nice .venv/bin/python tools/bench_cost_model.py "
                 f"--epochs {args.epochs} --rounds {args.rounds} --runs {args.runs} "
                 f"--op-runs {args.op_runs}",
      "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
      "loadavg_before": load_before, "loadavg_after": load_after,
      "load_note": "measured on a shared 2-core machine under load from other jobs",
      "seconds": round(time.time() - started, 1),
      "host": {"peak_macs_per_s": peaks["peak_macs_per_s"],
               "bandwidth_bytes_per_s": peaks["bandwidth_bytes_per_s"], "how": peaks["how"]},
      "calibration_protocol": "leave-one-model-out: an artifact's prediction uses a "
                              "calibration fitted on the per-op latencies of the artifacts "
                              "of every other trained model only",
      "measured": "edgegnn.runtime.bench.benchmark, 1 thread, invoke only, fastest of "
                  "--runs (measured_ms) and p50 (measured_p50_ms), each the median over "
                  "interleaved rounds; per op: fastest of --op-runs invokes of its "
                  "single-op model (edgegnn.deploy.cost_profile)",
      "ops_columns": ["index", "op", "kind", "bound", "host_roofline_ms", "measured_ms"],
      "targets": {name: t.to_json() for name, t in TARGETS.items() if name != "host"},
      "num_artifacts": len(artifacts), "skipped": skipped, **summary, "artifacts": rows}
  atomic_write_text(pathlib.Path(args.json), json.dumps(result, indent=1))
  print(json.dumps({k: v for k, v in result.items() if k.startswith("spearman")}, indent=1))


if __name__ == "__main__":
  main()
