"""Per-node latency: GLNN MLP student (int8 .tflite) vs its GCN teacher (float32 .tflite).

    python tools/bench_glnn.py --out docs/results/glnn_latency.json

Trains a GCN teacher on Cora and distils it into the GLNN MLP (seed --seed), exports the
student to tflite-int8 with a [1, F] input (one node's features) and with a [N, F] input
(full graph), and the teacher to tflite-float32 (dynamic node/edge counts). Both run on
ai-edge-litert with 1 thread in this process. Per query node (test nodes, in random order):

  student: set that node's feature row, invoke, read logits;
  teacher: extract the node's 2-hop neighbourhood with numpy (every in-edge of the nodes
           within 2 hops, relabelled, `edgegnn.distill.neighbourhood`: exact outputs), set the three inputs, invoke, read logits.

Each query is timed end to end (extraction included); the JSON gives p50/p90/mean in ms,
the ratio teacher/student of the p50s, the predictions' agreement with the Keras models,
and the full-graph latency of both (`edgegnn.deploy.bench.benchmark`).

This is the dense-feature path. The device-side per-node predictors on sparse-feature
artifacts (`edgegnn.deploy.per_node`) are measured by `tools/bench_per_node.py`
(docs/per_node.md, docs/results/per_node_latency.json).
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
import tempfile
import time

import numpy as np

import edgegnn  # noqa: E402,F401
from edgegnn import data  # noqa: E402
from edgegnn.atomic import atomic_write_text  # noqa: E402
from edgegnn.deploy import bench, convert, runtimes  # noqa: E402
from edgegnn.distill import DistillConfig, distill  # noqa: E402
from edgegnn.distill.neighbourhood import InEdgeIndex  # noqa: E402
from edgegnn.models import ModelSpec, build_model, feeds, transfer_weights  # noqa: E402
from edgegnn.training import TrainConfig, train  # noqa: E402

TEACHER = ModelSpec("gcn", weight_decay=5e-4, input_normalization="row")
GLNN = DistillConfig(method="glnn", alpha=0.0, temperature=0.5, epochs=500)


def _percentiles(seconds: list[float]) -> dict[str, float]:
  ms = np.asarray(seconds) * 1e3
  return {"p50": float(np.percentile(ms, 50)), "p90": float(np.percentile(ms, 90)),
          "mean": float(ms.mean()), "min": float(ms.min()), "max": float(ms.max())}


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out", default="docs/results/glnn_latency.json")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--queries", type=int, default=500)
  parser.add_argument("--warmup", type=int, default=20)
  parser.add_argument("--full-runs", type=int, default=30)
  args = parser.parse_args(argv)

  cora = data.load("cora")
  graph = cora.graph
  teacher = train(TEACHER, cora, TrainConfig(epochs=200, patience=100), seed=args.seed,
                  progress=False)
  student = distill(teacher.model, None, cora, GLNN, seed=args.seed)
  spec = ModelSpec("mlp", hidden_units=256, num_layers=2, dropout=0.5)
  rng = np.random.default_rng(args.seed)
  calibration = rng.choice(cora.train_index.tolist() + cora.val_index.tolist(), 200,
                           replace=False)
  with tempfile.TemporaryDirectory(prefix="bench-glnn-") as folder:
    folder = pathlib.Path(folder)
    one = transfer_weights(student.model, build_model(
        spec, num_features=cora.num_features, num_classes=cora.num_classes, capacity=1))
    node_artifact = convert.convert(
        one, "tflite-int8", folder / "glnn_node.int8.tflite", target="mobile",
        representative_feeds=[{"node_features": graph.node_features[[i]]} for i in calibration])
    full = transfer_weights(student.model, build_model(
        spec, num_features=cora.num_features, num_classes=cora.num_classes,
        capacity=graph.num_nodes))
    full_artifact = convert.convert(
        full, "tflite-int8", folder / "glnn_full.int8.tflite", target="mobile",
        representative_feeds=[{"node_features": graph.node_features}])
    teacher_artifact = convert.convert(teacher.model, "tflite-float32",
                                       folder / "gcn.float32.tflite", target="mobile")

    student_rt = runtimes.open_runtime(node_artifact.path, "litert", num_threads=1)
    teacher_rt = runtimes.open_runtime(teacher_artifact.path, "litert", num_threads=1)
    index = InEdgeIndex(graph)
    queries = rng.permutation(cora.test_index)[:args.queries]
    features = graph.node_features

    def student_query(v):
      return student_rt.run({"node_features": features[v:v + 1]})["logits"][0]

    def teacher_query(v):
      return teacher_rt.run(index.k_hop(int(v), 2))["logits"][0]

    for v in queries[:args.warmup]:
      student_query(v), teacher_query(v)
    times = {"student": [], "teacher": []}
    predictions = {"student": [], "teacher": []}
    for v in queries:   # interleaved, so both see the same machine load
      for name, fn in (("student", student_query), ("teacher", teacher_query)):
        start = time.perf_counter()
        out = fn(v)
        times[name].append(time.perf_counter() - start)
        predictions[name].append(int(np.argmax(out)))
    keras_student = np.argmax(student.model(feeds.select(feeds.graph_feed(graph),
                                                         ["node_features"]))["logits"], -1)
    keras_teacher = np.argmax(teacher.model(feeds.graph_feed(graph))["logits"], -1)
    labels = cora.labels[queries]
    per_node = {name: _percentiles(times[name]) for name in times}
    full_inputs = {"student": {"node_features": features},
                   "teacher": feeds.graph_feed(graph)}
    full_graph = {}
    for name, artifact in (("student", full_artifact), ("teacher", teacher_artifact)):
      result = bench.benchmark(artifact.path, full_inputs[name], runs=args.full_runs,
                               warmup=3, num_threads=1, runtime="litert", measure_memory=False)
      full_graph[name] = {"latency_ms": result["latency_ms"], "model_bytes": result["model_bytes"]}
    report = {
        "command": "python tools/bench_glnn.py " + " ".join(argv or sys.argv[1:]),
        "dataset": "cora", "seed": args.seed, "runtime": "ai-edge-litert", "threads": 1,
        "queries": int(len(queries)),
        "student": {"artifact": "tflite-int8, input node_features [1, F]",
                    "ops": node_artifact.ops, "bytes": node_artifact.bytes,
                    "keras_test_accuracy": student.metrics["test_accuracy"]},
        "teacher": {"artifact": "tflite-float32, sparse, dynamic node/edge counts",
                    "ops": teacher_artifact.ops, "bytes": teacher_artifact.bytes,
                    "keras_test_accuracy": teacher.metrics["test_accuracy"]},
        "per_node_latency_ms": per_node,
        "per_node_p50_ratio_teacher_over_student":
            per_node["teacher"]["p50"] / per_node["student"]["p50"],
        "per_node_query_accuracy": {n: float(np.mean(np.array(p) == labels))
                                    for n, p in predictions.items()},
        "per_node_agreement_with_keras": {
            "student": float(np.mean(np.array(predictions["student"]) == keras_student[queries])),
            "teacher_2hop": float(np.mean(np.array(predictions["teacher"])
                                          == keras_teacher[queries]))},
        "mean_2hop_nodes": float(np.mean([len(index.k_hop(int(v))["node_features"])
                                          for v in queries])),
        "full_graph_latency_ms": full_graph,
        "full_graph_p50_ratio_teacher_over_student":
            full_graph["teacher"]["latency_ms"]["p50"]
            / full_graph["student"]["latency_ms"]["p50"],
    }
  atomic_write_text(args.out, json.dumps(report, indent=1))
  print(json.dumps({k: report[k] for k in ("per_node_latency_ms",
                                           "per_node_p50_ratio_teacher_over_student",
                                           "full_graph_p50_ratio_teacher_over_student",
                                           "per_node_agreement_with_keras")}, indent=1))


if __name__ == "__main__":
  main()
