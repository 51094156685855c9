"""Cost growth: latency and peak memory of GCN artifacts on synthetic graphs of 10 k to 1 M nodes.

    python tools/bench_cost_growth.py --json docs/results/cost_growth.json \
        --plot docs/results/cost_growth.png

For each size N, `edgegnn.data.synthetic.synthetic_dataset(N, avg_degree=10,
num_features=F, words_per_node=W, seed)` (defaults F = 500 words, W = 20 draws per node,
7 classes; 10 N directed edges) is fed to four untrained 2-layer GCNs (16 hidden units,
float32, ai-edge-litert; weights do not change latency or memory):

* `stock-float32`: the stock anchor (`edgegnn.deploy.stock`), dense row-normalised
  features [N, F] plus precomputed edge weights;
* `edgegnn-sparse-dense`: edgegnn's serving GCN, sparse (edge-list) layout, dense
  features [N, F] (`build_model(layout="sparse", features="dense", serving=True)`);
* `edgegnn-sparse-binary`: the same with binary sparse features (`feature_node`,
  `feature_index`, `in_degree`: only the non-zeros are read);
* `edgegnn-sparse-binary-sorted`: the same artifact and graph, the edge list given in
  target order (stably sorted by `edge_target`, as a CSR store holds it) instead of the
  generator's order (random node ids, so both endpoints of consecutive edges are random);
* `edgegnn-neighbors-binary`: the neighbors layout with binary sparse features, built per
  size with `max_neighbors` = that graph's largest in-degree.

The dense-feature variants are skipped, with the reason recorded, where the dense matrix
N x F x 4 bytes exceeds `--dense-limit-gib` (each run holds it twice: the app's array and
the interpreter's input tensor).

Each (N, variant) runs in a fresh subprocess (numpy, ai-edge-litert and
`edgegnn.deploy.tflite_file` only: no TensorFlow) that loads the inputs from .npy files,
records its resident set (`baseline`: Python, runtime, inputs), resets the kernel's
high-water mark (/proc/self/clear_refs, as `edgegnn.deploy.bench`), loads the artifact,
sets the inputs once, invokes once untimed and `--invokes` times timed (1 thread), and
reports the p50 of the timed invokes and VmHWM (`peak`: the whole process, inputs
included). Every pair runs `--repeats` times, variants interleaved; the JSON keeps each
repeat and the tables use the median p50 and the largest peak.

Latency per edge = p50 / (10 N directed edges). The growth criterion
is `edgegnn-sparse-binary`'s per-edge latency at 1 M over that at 100 k (<= 2) and its
peak RSS at 1 M (<= 4 GiB).
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
from edgegnn.atomic import atomic_write_bytes, atomic_write_text  # noqa: E402

VARIANTS = ("stock-float32", "edgegnn-sparse-dense", "edgegnn-sparse-binary",
            "edgegnn-sparse-binary-sorted", "edgegnn-neighbors-binary")
DENSE_VARIANTS = ("stock-float32", "edgegnn-sparse-dense")
CRITERION_VARIANT = "edgegnn-sparse-binary"
LABELS = {"stock-float32": "stock float32 (dense features)",
          "edgegnn-sparse-dense": "edgegnn float32, sparse layout, dense features",
          "edgegnn-sparse-binary": "edgegnn float32, sparse layout, binary sparse features",
          "edgegnn-sparse-binary-sorted": ("edgegnn float32, sparse layout, binary sparse "
                                           "features, edges sorted by target"),
          "edgegnn-neighbors-binary": "edgegnn float32, neighbors layout, binary sparse features"}
GIB = 2**30
PEAK_LIMIT_BYTES = 4 * GIB
RATIO_LIMIT = 2.0

# The measured child process (argv: package root, model path, inputs dir, threads, invokes).
_CHILD = pathlib.Path(__file__).with_name("cost_growth_child.py")


# ---------------------------------------------------------------- pure helpers (tested)

def dense_feature_bytes(num_nodes: int, num_features: int) -> int:
  """Bytes of the dense float32 feature matrix [N, F]."""
  return int(num_nodes) * int(num_features) * 4


def skip_reason(variant: str, num_nodes: int, num_features: int, dense_limit_bytes: int):
  """Why `variant` is not run at this size (None: it runs)."""
  if variant in DENSE_VARIANTS:
    need = dense_feature_bytes(num_nodes, num_features)
    if need > dense_limit_bytes:
      return (f"dense features N x F x 4 = {need / GIB:.2f} GiB exceed the "
              f"{dense_limit_bytes / GIB:.2f} GiB limit (--dense-limit-gib); a run holds "
              "them twice (the app's array and the interpreter's input tensor)")
  return None


def summarize(rows: list[dict]) -> dict:
  """Per variant and size: wall and CPU p50 over repeats, per-edge latency, largest peak.

  Args:
    rows: measurements {"variant", "num_nodes", "num_edges", "p50_ms", "cpu_p50_ms",
      "peak_bytes"} (several per pair when repeated) and skips {"variant", "num_nodes",
      "skipped"}.

  Returns:
    {variant: {"points": {N: point or {"skipped": reason}}, "per_edge_ratio": {...},
    "cpu_per_edge_ratio": {...}}}. A point has "p50_ms" (median over repeats of the wall
    p50), "best_p50_ms" (smallest), "cpu_p50_ms" (median of the CPU-time p50: the
    process's own time, which other jobs on a shared machine do not inflate the way
    they inflate wall time), "ns_per_edge" and "cpu_ns_per_edge" (p50 / edges),
    "peak_bytes" (largest), "num_edges", "repeats". A ratio {"B/A": ...} is ns per edge at
    B over that at A, for consecutive measured sizes A < B.
  """
  out: dict = {}
  for row in rows:
    entry = out.setdefault(row["variant"], {"points": {}, "per_edge_ratio": {},
                                            "cpu_per_edge_ratio": {}})
    n = int(row["num_nodes"])
    if "skipped" in row:
      entry["points"][n] = {"skipped": row["skipped"]}
      continue
    point = entry["points"].setdefault(n, {"num_edges": int(row["num_edges"]), "_wall": [],
                                           "_cpu": [], "peak_bytes": 0})
    point["_wall"].append(float(row["p50_ms"]))
    point["_cpu"].append(float(row.get("cpu_p50_ms", row["p50_ms"])))
    point["peak_bytes"] = max(point["peak_bytes"], int(row["peak_bytes"]))
  for entry in out.values():
    measured = []
    for n in sorted(entry["points"]):
      point = entry["points"][n]
      if "skipped" in point:
        continue
      wall, cpu = point.pop("_wall"), point.pop("_cpu")
      point["repeats"] = len(wall)
      point["p50_ms"] = statistics.median(wall)
      point["best_p50_ms"] = min(wall)
      point["cpu_p50_ms"] = statistics.median(cpu)
      point["ns_per_edge"] = point["p50_ms"] * 1e6 / point["num_edges"]
      point["cpu_ns_per_edge"] = point["cpu_p50_ms"] * 1e6 / point["num_edges"]
      measured.append(n)
    for a, b in zip(measured, measured[1:]):
      pa, pb = entry["points"][a], entry["points"][b]
      entry["per_edge_ratio"][f"{b}/{a}"] = pb["ns_per_edge"] / pa["ns_per_edge"]
      entry["cpu_per_edge_ratio"][f"{b}/{a}"] = pb["cpu_ns_per_edge"] / pa["cpu_ns_per_edge"]
  return out


def criterion(summary: dict, small: int = 100_000, large: int = 1_000_000,
              variant: str = CRITERION_VARIANT) -> dict:
  """The growth criterion on `variant`: peak RSS at `large` <= 4 GiB and latency per edge at
  `large` <= 2x that at `small`. The latency is judged on CPU time (`cpu_met`; on a
  shared machine wall time measures the other jobs as much as the artifact) and also
  reported on wall time (`wall_met`). met = peak_met and cpu_met; missing points give
  False."""
  points = summary.get(variant, {}).get("points", {})
  a, b = points.get(small, {}), points.get(large, {})
  peak = b.get("peak_bytes")

  def ratio(key):
    return b[key] / a[key] if key in a and key in b else None

  cpu, wall = ratio("cpu_ns_per_edge"), ratio("ns_per_edge")
  peak_ok = peak is not None and peak <= PEAK_LIMIT_BYTES
  cpu_ok = cpu is not None and cpu <= RATIO_LIMIT
  return {"variant": variant, "sizes": [small, large], "peak_bytes_at_large": peak,
          "peak_limit_bytes": PEAK_LIMIT_BYTES, "peak_met": peak_ok,
          "cpu_per_edge_ratio": cpu, "wall_per_edge_ratio": wall, "ratio_limit": RATIO_LIMIT,
          "cpu_met": cpu_ok, "wall_met": wall is not None and wall <= RATIO_LIMIT,
          "met": peak_ok and cpu_ok}


def _size(n: int) -> str:
  return f"{n // 1_000_000} M" if n % 1_000_000 == 0 else f"{n // 1000} k"


def render_table(report: dict) -> str:
  """The markdown tables of docs/cost_growth.md, from the JSON report."""
  summary = {v: {**e, "points": {int(n): p for n, p in e["points"].items()}}
             for v, e in report["summary"].items()}
  lines = ["| artifact | N | edges | CPU p50 ms | wall p50 ms (median; best) | CPU ns / edge | "
           "peak RSS GiB |", "|---|---|---|---|---|---|---|"]
  for variant in VARIANTS:
    if variant not in summary:
      continue
    for n, point in sorted(summary[variant]["points"].items()):
      if "skipped" in point:
        lines.append(f"| {variant} | {_size(n)} | | not run: dense features "
                     f"{dense_feature_bytes(n, report['num_features']) / GIB:.1f} GiB | | | |")
        continue
      lines.append(f"| {variant} | {_size(n)} | {point['num_edges']:,} | "
                   f"{point['cpu_p50_ms']:.1f} | {point['p50_ms']:.1f}; "
                   f"{point['best_p50_ms']:.1f} | {point['cpu_ns_per_edge']:.0f} | "
                   f"{point['peak_bytes'] / GIB:.2f} |")
  lines += ["", "| artifact | per-edge ratio 100 k / 10 k (CPU; wall) | "
            "1 M / 100 k (CPU; wall) |", "|---|---|---|"]
  for variant in VARIANTS:
    if variant not in summary:
      continue
    cells = []
    for key in ("100000/10000", "1000000/100000"):
      cpu = summary[variant]["cpu_per_edge_ratio"].get(key)
      wall = summary[variant]["per_edge_ratio"].get(key)
      cells.append("n/a" if cpu is None else f"{cpu:.2f}; {wall:.2f}")
    lines.append(f"| {variant} | {cells[0]} | {cells[1]} |")
  return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- artifacts and feeds

def _build_artifacts(folder: pathlib.Path, num_features: int, num_classes: int,
                     hidden: int, variants) -> dict[str, pathlib.Path]:
  """The size-independent artifacts (TensorFlow imported here only)."""
  from edgegnn.deploy import stock  # pylint: disable=g-import-not-at-top
  paths = {}
  if "stock-float32" in variants:
    paths["stock-float32"] = folder / "stock-float32.tflite"
    atomic_write_bytes(paths["stock-float32"],
                       stock.stock_gcn_tflite(num_features, num_classes, hidden))
  for variant, features in (("edgegnn-sparse-dense", "dense"),
                            ("edgegnn-sparse-binary", "binary")):
    if variant in variants or (variant == "edgegnn-sparse-binary"
                               and "edgegnn-sparse-binary-sorted" in variants):
      paths[variant] = _edgegnn_artifact(folder / f"{variant}.tflite", num_features,
                                         num_classes, hidden, "sparse", features)
  return paths


def _edgegnn_artifact(path, num_features, num_classes, hidden, layout, features,
                      max_neighbors=None):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from edgegnn.deploy.convert import convert  # pylint: disable=g-import-not-at-top
  from edgegnn.models import ModelSpec, build_model  # pylint: disable=g-import-not-at-top
  tf.keras.utils.set_random_seed(0)
  spec = ModelSpec(architecture="gcn", hidden_units=hidden, num_layers=2,
                   input_normalization="row")
  model = build_model(spec, num_features=num_features, num_classes=num_classes,
                      layout=layout, features=features, serving=True,
                      max_neighbors=max_neighbors)
  convert(model, "tflite-float32", path)
  return path


def _write_feed(folder: pathlib.Path, variant: str, graph, model_path) -> int:
  """Writes the variant's inputs as NAME.npy; returns their bytes."""
  from edgegnn.deploy import tflite_file  # pylint: disable=g-import-not-at-top
  from edgegnn.models import feeds  # pylint: disable=g-import-not-at-top
  folder.mkdir(parents=True, exist_ok=True)
  names = [io.name for io in tflite_file.read_model(model_path).inputs]
  if variant == "stock-float32":
    from edgegnn.deploy import stock  # pylint: disable=g-import-not-at-top
    # stock.stock_gcn_feed's arithmetic (features / max(row sum, 1)), in place: one
    # N x F copy instead of two.
    features = graph.sparse_features.to_dense()
    features /= np.maximum(features.sum(axis=1, keepdims=True), 1.0)
    feed = {"node_features": features,
            **stock.gcn_edge_weights(graph.edge_source, graph.edge_target, graph.num_nodes)}
  elif variant == "edgegnn-neighbors-binary":
    # Built here rather than by feeds.graph_feed(graph, "neighbors"), which materialises
    # the dense node_features eagerly even for an artifact that takes sparse features.
    max_neighbors = max(int(graph.in_degree().max(initial=0)), 1)
    feed = feeds.GraphFeed(graph.neighbor_lists(max_neighbors), graph=graph,
                           layout="neighbors")
  else:
    feed = feeds.graph_feed(graph, "sparse")
    if variant == "edgegnn-sparse-binary-sorted":
      order = np.argsort(graph.edge_target, kind="stable")
      feed["edge_source"] = feed["edge_source"][order]
      feed["edge_target"] = feed["edge_target"][order]
  total = 0
  for name in names:
    array = np.ascontiguousarray(feed[name])
    np.save(folder / f"{name}.npy", array)
    total += array.nbytes
  return total


def _run_child(model_path, inputs_dir, threads, invokes, timeout) -> dict:
  proc = subprocess.run([sys.executable, str(_CHILD), str(ROOT), str(model_path),
                         str(inputs_dir), str(threads), str(invokes)],
                        capture_output=True, text=True, timeout=timeout, check=False)
  for line in proc.stdout.splitlines():
    if line.startswith("COST_GROWTH "):
      return json.loads(line[len("COST_GROWTH "):])
  raise RuntimeError(f"{model_path} on {inputs_dir}: child failed (exit {proc.returncode}): "
                     f"{proc.stderr.strip()[-2000:]}")


# ---------------------------------------------------------------- plot

def plot(report: dict, path) -> None:
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  styles = {"stock-float32": ("tab:red", "s", "-"),
            "edgegnn-sparse-dense": ("tab:orange", "^", "--"),
            "edgegnn-sparse-binary": ("tab:blue", "o", "-"),
            "edgegnn-sparse-binary-sorted": ("tab:purple", "v", ":"),
            "edgegnn-neighbors-binary": ("tab:green", "D", "-.")}
  fig, axes = plt.subplots(1, 3, figsize=(16, 5.8))
  panels = (("cpu_p50_ms", "latency per full-graph call\n(p50 CPU time, ms)", 1.0),
            ("cpu_ns_per_edge", "latency per directed edge\n(p50 CPU time / edges, ns)", 1.0),
            ("peak_bytes", "peak RSS of the process (GiB)", 1.0 / GIB))
  for ax, (key, title, scale) in zip(axes, panels):
    for variant in VARIANTS:
      points = report["summary"].get(variant, {}).get("points", {})
      xs = sorted(int(n) for n, p in points.items() if "skipped" not in p)
      if not xs:
        continue
      ys = [points[str(n)][key] * scale for n in xs]
      color, marker, line = styles[variant]
      ax.plot(xs, ys, color=color, marker=marker, linestyle=line, linewidth=2,
              markersize=7, label=LABELS[variant])
      skipped = [int(n) for n, p in points.items() if "skipped" in p]
      for n in skipped:
        ax.annotate("dense features\ndo not fit", (n, ys[-1]), fontsize=8, color=color,
                    ha="center", va="bottom")
    if key == "peak_bytes":
      ax.axhline(PEAK_LIMIT_BYTES / GIB, color="gray", linestyle=":", linewidth=1.5)
      ax.text(11000, PEAK_LIMIT_BYTES / GIB * 1.06, "4 GiB target", color="gray",
              fontsize=10)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"nodes N (about {report['avg_degree']:g} edges per node)", fontsize=11)
    ax.set_title(title, fontsize=12)
    if key == "cpu_ns_per_edge":
      ax.set_yscale("linear")
      ax.set_ylim(bottom=0)
    ax.grid(True, which="both", alpha=0.3)
    ax.tick_params(labelsize=10)
  handles, labels = axes[0].get_legend_handles_labels()
  fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=10, frameon=False)
  fig.suptitle(f"GCN (2 layers, {report['hidden_units']} hidden, float32, untrained) on "
               f"synthetic graphs, F = {report['num_features']} binary words, "
               f"{report['threads']} thread, ai-edge-litert", fontsize=13)
  fig.tight_layout(rect=(0, 0.14, 1, 0.95))
  buffer = pathlib.Path(tempfile.mkstemp(suffix=".png")[1])
  try:
    fig.savefig(buffer, dpi=110)
    atomic_write_bytes(path, buffer.read_bytes())
  finally:
    buffer.unlink(missing_ok=True)
    plt.close(fig)


# ---------------------------------------------------------------- main

def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--json", type=pathlib.Path, default=ROOT / "docs/results/cost_growth.json")
  parser.add_argument("--plot", type=pathlib.Path, default=None,
                      help="PNG of the curves (default: beside the JSON).")
  parser.add_argument("--sizes", default="10000,100000,1000000")
  parser.add_argument("--variants", default=",".join(VARIANTS))
  parser.add_argument("--num-features", type=int, default=500)
  parser.add_argument("--words-per-node", type=float, default=20.0)
  parser.add_argument("--avg-degree", type=float, default=10.0)
  parser.add_argument("--num-classes", type=int, default=7)
  parser.add_argument("--hidden-units", type=int, default=16)
  parser.add_argument("--invokes", type=int, default=10)
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--threads", type=int, default=1)
  parser.add_argument("--dense-limit-gib", type=float, default=2.0)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--timeout", type=float, default=900.0)
  parser.add_argument("--resummarize", action="store_true",
                      help="Recompute the summary, criteria and plot of --json from its "
                           "rows; measures nothing.")
  args = parser.parse_args(argv)
  if args.resummarize:
    write_outputs(json.loads(args.json.read_text()), args.json,
                  args.plot or args.json.with_suffix(".png"))
    return 0
  variants = [v for v in args.variants.split(",") if v]
  unknown = sorted(set(variants) - set(VARIANTS))
  if unknown:
    parser.error(f"unknown variants {unknown}; choose from {VARIANTS}")
  sizes = [int(s) for s in args.sizes.split(",")]
  from edgegnn.data.synthetic import synthetic_dataset  # pylint: disable=g-import-not-at-top
  load_before = os.getloadavg()
  started = time.time()
  rows, artifact_bytes, inputs = [], {}, {}
  work = pathlib.Path(tempfile.mkdtemp(prefix="edgegnn-cost-growth-"))
  try:
    artifacts = _build_artifacts(work, args.num_features, args.num_classes,
                                 args.hidden_units, variants)
    for n in sizes:
      t0 = time.perf_counter()
      graph = synthetic_dataset(n, avg_degree=args.avg_degree, num_classes=args.num_classes,
                                num_features=args.num_features,
                                words_per_node=args.words_per_node, seed=args.seed).graph
      print(f"N={n}: {graph.num_edges} edges, {graph.sparse_features.nnz} feature "
            f"non-zeros, generated in {time.perf_counter() - t0:.1f} s", flush=True)
      paths, runnable = dict(artifacts), []
      if "edgegnn-sparse-binary" in artifacts:
        paths["edgegnn-sparse-binary-sorted"] = artifacts["edgegnn-sparse-binary"]
      for variant in variants:
        reason = skip_reason(variant, n, args.num_features, int(args.dense_limit_gib * GIB))
        if reason:
          rows.append({"variant": variant, "num_nodes": n, "skipped": reason})
          print(f"  {variant}: skipped ({reason})", flush=True)
          continue
        if variant == "edgegnn-neighbors-binary":
          max_neighbors = max(int(graph.in_degree().max(initial=0)), 1)
          paths[variant] = _edgegnn_artifact(work / f"{variant}-{n}.tflite", args.num_features,
                                             args.num_classes, args.hidden_units, "neighbors",
                                             "binary", max_neighbors)
          artifact_bytes[f"{variant}@{n}"] = paths[variant].stat().st_size
        else:
          artifact_bytes[variant] = paths[variant].stat().st_size
        folder = work / f"inputs-{n}-{variant}"
        inputs[f"{variant}@{n}"] = _write_feed(folder, variant, graph, paths[variant])
        runnable.append((variant, folder))
      num_edges = graph.num_edges
      del graph
      for repeat in range(args.repeats):
        order = runnable if repeat % 2 == 0 else runnable[::-1]
        for variant, folder in order:
          result = _run_child(paths[variant], folder, args.threads, args.invokes, args.timeout)
          rows.append({"variant": variant, "num_nodes": n, "num_edges": num_edges,
                       "repeat": repeat, **result})
          print(f"  {variant:28s} p50 {result['p50_ms']:9.2f} ms (CPU "
                f"{result['cpu_p50_ms']:9.2f})  peak "
                f"{result['peak_bytes'] / GIB:5.2f} GiB (baseline "
                f"{result['baseline_bytes'] / GIB:5.2f})", flush=True)
      for _, folder in runnable:
        shutil.rmtree(folder)
  finally:
    shutil.rmtree(work, ignore_errors=True)
  report = {
      "command": "python tools/bench_cost_growth.py " + " ".join(
          sys.argv[1:] if argv is None else argv),
      "generator": (f"synthetic_dataset(N, avg_degree={args.avg_degree:g}, num_classes="
                    f"{args.num_classes}, num_features={args.num_features}, words_per_node="
                    f"{args.words_per_node:g}, seed={args.seed})"),
      "model": (f"gcn, 2 layers, {args.hidden_units} hidden units, input_normalization row, "
                "untrained (random weights), float32; edgegnn: build_model(serving=True) + "
                "convert(tflite-float32); stock: edgegnn.deploy.stock.stock_gcn_tflite"),
      "num_features": args.num_features, "words_per_node": args.words_per_node,
      "avg_degree": args.avg_degree, "hidden_units": args.hidden_units,
      "threads": args.threads, "invokes": args.invokes, "repeats": args.repeats,
      "dense_limit_gib": args.dense_limit_gib,
      "timing": ("fresh subprocess per (N, variant, repeat); inputs set once; 1 untimed "
                 "invoke, then `invokes` timed Interpreter.invoke calls, each timed in wall "
                 "time (perf_counter) and CPU time of the process (process_time); p50 per "
                 "repeat; summary p50_ms / cpu_p50_ms = median over repeats, best_p50_ms = "
                 "smallest wall p50"),
      "memory": ("VmHWM of that subprocess, reset (/proc/self/clear_refs) after imports and "
                 "loading the inputs; peak_bytes is the whole process (Python, runtime, "
                 "inputs, interpreter); baseline_bytes the resident set before the model "
                 "was loaded; summary = largest over repeats"),
      "machine": {"platform": platform.platform(), "machine": platform.machine(),
                  "cpus": os.cpu_count(), "python": platform.python_version(),
                  "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
                  "note": ("shared 2-core machine, other engineers' jobs running (load "
                           "average above the core count): absolute times drift between "
                           "repeats; CPU time is what the criterion is judged on")},
      "seconds": round(time.time() - started, 1),
      "artifact_bytes": artifact_bytes, "input_bytes": inputs, "rows": rows}
  write_outputs(report, args.json, args.plot or args.json.with_suffix(".png"))
  return 0


def complete(report: dict) -> dict:
  """`report` with its summary and criteria (re)computed from its rows."""
  summary = summarize(report["rows"])
  report = {k: v for k, v in report.items() if k not in ("rows", "summary", "criterion",
                                                         "criterion_sorted_edges")}
  report["criterion"] = criterion(summary)
  report["criterion_sorted_edges"] = criterion(summary, variant="edgegnn-sparse-binary-sorted")
  report["summary"] = {v: {**e, "points": {str(n): p for n, p in e["points"].items()}}
                       for v, e in summary.items()}
  return report


def write_outputs(report: dict, json_path, plot_path) -> None:
  rows = report["rows"]
  report = complete(report)
  report["rows"] = rows
  atomic_write_text(json_path, json.dumps(report, indent=1) + "\n")
  plot(report, plot_path)
  print(render_table(report))
  print("criterion:", json.dumps(report["criterion"]))
  print("criterion, edges sorted by target:", json.dumps(report["criterion_sorted_edges"]))


if __name__ == "__main__":
  sys.exit(main())
