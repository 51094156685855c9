"""Per-call time of the device-side k-hop extractor (`edgegnn.deploy.khop`) on Cora.

    python tools/bench_khop.py --out docs/results/khop_extract.json

Builds one `KHopExtractor` from Cora's in-edges (and, for the "with features" rows, the
CSR of its binary bag-of-words features), then times `extract(seed, k)` for k = 1, 2 on
--seeds random nodes (seeded), each call end to end with `time.perf_counter_ns`, after
--warmup untimed calls. Reports p50/p90/mean in microseconds and the subgraph sizes
(nodes, edges, feature non-zeros; p50/p90), plus the numpy and Python versions.

With --teacher it also times the per-node query end to end: extract the 2-hop subgraph
with features, build the serving feed (`Subgraph.inputs`), run a serving GCN artifact
(`build_model(features="binary", serving=True)`, tflite-float32, untrained weights of
the given width: the time does not depend on the values) through ai-edge-litert's
signature runner (resize, allocate, set inputs, invoke, read logits), 1 thread. This
needs TensorFlow to build the artifact; the timed loop does not.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import sys
import time

import numpy as np

from edgegnn import data  # noqa: E402
from edgegnn.atomic import atomic_write_text  # noqa: E402
from edgegnn.deploy.khop import KHopExtractor  # noqa: E402


def _stats(values) -> dict[str, float]:
  values = np.asarray(values, np.float64)
  return {"p50": float(np.percentile(values, 50)), "p90": float(np.percentile(values, 90)),
          "mean": float(values.mean())}


def _teacher_rows(graph, extractor, seeds, args) -> dict:
  """Per-node teacher query times (see the module doc)."""
  import tempfile  # pylint: disable=g-import-not-at-top
  import edgegnn  # noqa: F401  pylint: disable=g-import-not-at-top,unused-import
  from ai_edge_litert.interpreter import Interpreter  # pylint: disable=g-import-not-at-top
  from edgegnn.deploy import convert  # pylint: disable=g-import-not-at-top
  from edgegnn.models import ModelSpec, build_model  # pylint: disable=g-import-not-at-top
  num_classes = int(data.load(args.dataset).num_classes)
  model = build_model(ModelSpec("gcn", hidden_units=args.hidden_units), task="node",
                      num_features=graph.num_features, num_classes=num_classes,
                      layout="sparse", features="binary", serving=True)
  with tempfile.TemporaryDirectory() as folder:
    path = pathlib.Path(folder) / "teacher.tflite"
    converted = convert.convert(model, "tflite-float32", path, target="mobile")
    runner = Interpreter(model_path=str(path), num_threads=1).get_signature_runner()
  width = graph.num_features

  def query(seed):
    return runner(**extractor.extract(seed, 2).inputs(width))["logits"][0]

  for seed in seeds[: args.warmup].tolist():
    query(seed)
  times = []
  for seed in seeds.tolist():
    start = time.perf_counter_ns()
    query(seed)
    times.append((time.perf_counter_ns() - start) / 1e3)
  return {"artifact": f"gcn, {args.hidden_units} hidden units, 2 layers, binary sparse "
                      "features, serving (in_degree given), tflite-float32",
          "bytes": converted.bytes, "k": 2, "runtime": "ai-edge-litert signature runner, "
          "1 thread", "microseconds": _stats(times)}


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out", default="docs/results/khop_extract.json")
  parser.add_argument("--dataset", default="cora")
  parser.add_argument("--seeds", type=int, default=1000)
  parser.add_argument("--warmup", type=int, default=200)
  parser.add_argument("--random-seed", type=int, default=0)
  parser.add_argument("--teacher", action="store_true",
                      help="also time extract + feed + a serving GCN artifact per node")
  parser.add_argument("--hidden-units", type=int, default=16)  # the quickstart teacher
  args = parser.parse_args(argv)

  load_start = os.getloadavg()[0]   # a shared machine: the load is part of the figure
  graph = data.load(args.dataset).graph
  rows, cols = np.nonzero(graph.node_features)
  indptr = np.zeros(graph.num_nodes + 1, np.int64)
  np.cumsum(np.bincount(rows, minlength=graph.num_nodes), out=indptr[1:])
  binary = bool(np.all(graph.node_features[rows, cols] == 1.0))
  features = {"feature_indptr": indptr, "feature_indices": cols,
              "feature_values": None if binary else graph.node_features[rows, cols]}
  extractors = {
      "structure": KHopExtractor.from_edges(graph.edge_source, graph.edge_target,
                                            graph.num_nodes),
      "with_features": KHopExtractor.from_edges(graph.edge_source, graph.edge_target,
                                                graph.num_nodes, **features)}
  seeds = np.random.default_rng(args.random_seed).integers(0, graph.num_nodes, args.seeds)
  rows_out = []
  for k in (1, 2):
    for kind, extractor in extractors.items():
      for seed in seeds[: args.warmup]:
        extractor.extract(seed, k)
      times, nodes, edges, nnz = [], [], [], []
      for seed in seeds.tolist():
        start = time.perf_counter_ns()
        sub = extractor.extract(seed, k)
        times.append((time.perf_counter_ns() - start) / 1e3)
        nodes.append(sub.num_nodes)
        edges.append(sub.edge_source.size)
        nnz.append(0 if sub.feature_index is None else sub.feature_index.size)
      row = {"k": k, "extract": kind, "microseconds": _stats(times),
             "subgraph_nodes": _stats(nodes), "subgraph_edges": _stats(edges)}
      if kind == "with_features":
        row["feature_nonzeros"] = _stats(nnz)
      rows_out.append(row)
  teacher = _teacher_rows(graph, extractors["with_features"], seeds, args) \
      if args.teacher else None
  report = {
      "command": "python tools/bench_khop.py " + " ".join(argv if argv is not None
                                                          else sys.argv[1:]),
      "dataset": args.dataset, "num_nodes": graph.num_nodes, "num_edges": graph.num_edges,
      "binary_features": binary, "seeds": args.seeds, "warmup": args.warmup,
      "random_seed": args.random_seed,
      "timing": "time.perf_counter_ns around one extract(seed, k) call, 1 process, 1 thread",
      "numpy": np.__version__, "python": platform.python_version(),
      "machine": platform.machine(),
      "load_average_1min": {"start": load_start, "end": os.getloadavg()[0],
                            "cpus": os.cpu_count()},
      "rows": rows_out}
  if teacher is not None:
    report["teacher_per_node"] = teacher
  atomic_write_text(args.out, json.dumps(report, indent=1) + "\n")
  for row in rows_out:
    print(f"k={row['k']} {row['extract']:>13}: p50 {row['microseconds']['p50']:.1f} us, "
          f"p90 {row['microseconds']['p90']:.1f} us; nodes p50 "
          f"{row['subgraph_nodes']['p50']:.0f}, edges p50 {row['subgraph_edges']['p50']:.0f}")
  if teacher is not None:
    print(f"teacher per node (extract + feed + invoke): p50 "
          f"{teacher['microseconds']['p50']:.1f} us, p90 {teacher['microseconds']['p90']:.1f} us")


if __name__ == "__main__":
  main()
