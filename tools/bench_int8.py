"""Benchmark: is the full-int8 Cora GCN smaller and faster than float32? Writes JSON.

Trains the Cora GCN teacher (seed 0, the quickstart's settings), exports it as
float32 (sparse and neighbors layouts), dynamic-range int8 (sparse) and full int8
(neighbors, post-training quantization; with float and with int8 inputs/outputs), verifies each on ai-edge-litert over the test
split and times each in the same run (1 thread, interleaved rounds so that load on the
machine hits every artifact alike). Ratios are against the sparse float32 artifact.

    .venv/bin/python tools/bench_int8.py [--runs 200] [--out docs/results/int8_bench.json]
"""
from __future__ import annotations

import argparse
import json
import pathlib
import platform
import tempfile
import time

import numpy as np

import edgegnn  # noqa: F401  (Keras 2 before TensorFlow)
from edgegnn import data
from edgegnn.deploy import convert as convert_lib, runtimes, tflite_file, verify as verify_lib
from edgegnn.models import ModelSpec, build_model, feeds, transfer_weights
from edgegnn.training import TrainConfig, make_task, predict, train

# (format, layout, integer inputs/outputs). With int8 inputs the app hands the interpreter
# quantized features (Cora's 0/1 features are exact at scale 1/255): a quarter of the bytes
# to copy in and no QUANTIZE op. The feeds are quantized before timing, as an app would.
CASES = [("tflite-float32", "sparse", False), ("tflite-float32", "neighbors", False),
         ("tflite-dynamic-int8", "sparse", False), ("tflite-int8", "neighbors", False),
         ("tflite-int8", "neighbors", True)]


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--runs", type=int, default=200)
  parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
  parser.add_argument("--out", default="docs/results/int8_bench.json")
  args = parser.parse_args()
  cora = data.load("cora")
  spec = ModelSpec("gcn", input_normalization="row", weight_decay=5e-4)
  trained = train(spec, cora, TrainConfig(epochs=200, patience=100), seed=0,
                  progress=False).model
  reference = predict(trained, make_task(cora))[cora.test_index]
  _, k = feeds.layout_sizes(cora, "neighbors")
  results, interpreters = {}, {}
  with tempfile.TemporaryDirectory() as tmp:
    for fmt, layout, integer_io in CASES:
      name = f"{fmt}/{layout}" + ("/int8-io" if integer_io else "")
      model = transfer_weights(trained, build_model(
          spec, num_features=cora.num_features, num_classes=cora.num_classes, layout=layout,
          max_neighbors=k if layout == "neighbors" else None))
      names = feeds.model_input_names(model)
      feed = feeds.select(feeds.graph_feed(cora.graph, layout, max_neighbors=k), names)
      path = pathlib.Path(tmp) / f"{fmt}.{layout}.{integer_io}.tflite"
      converted = convert_lib.convert(model, fmt, path, target="mobile",
                                      representative_feeds=[feed], integer_io=integer_io)
      checked = verify_lib.verify(str(path), dataset=cora, test_index=cora.test_index,
                                  reference_logits=reference, input_names=names,
                                  layout=layout, max_neighbors=k, floor=0.0)
      info = tflite_file.read_model(str(path))
      # The same artifact with every internal tensor name kept: what stripping saves.
      named = convert_lib.convert(model, fmt, pathlib.Path(tmp) / "named.tflite",
                                  target="mobile", representative_feeds=[feed],
                                  integer_io=integer_io, keep_tensor_names=True)
      results[name] = {"bytes": converted.bytes, "bytes_with_tensor_names": named.bytes,
                       "ops": converted.ops,
                       "tensors": sum(len(g.tensors) for g in info.subgraphs),
                       "weight_bytes": info.total_weight_bytes,
                       "float_compute_ops": len(tflite_file.float_compute_ops(info)),
                       "test_accuracy": checked.test_accuracy, "agreement": checked.agreement,
                       "latency_ms": []}
      interpreter = runtimes.open_runtime(str(path), runtime="litert", num_threads=1)
      feed = {io.name: runtimes.prepare_input(feed[io.name], io, allow_dynamic=True)
              for io in interpreter.inputs}
      for _ in range(10):
        interpreter.run(feed)
      interpreters[name] = (interpreter, feed)
    for _ in range(args.rounds):
      for name, (interpreter, feed) in interpreters.items():
        for _ in range(args.runs // args.rounds):
          start = time.perf_counter()
          interpreter.run(feed)
          results[name]["latency_ms"].append(1000 * (time.perf_counter() - start))
  base = results["tflite-float32/sparse"]
  base_p50 = float(np.percentile(base["latency_ms"], 50))
  for entry in results.values():
    times = entry.pop("latency_ms")
    entry["latency_ms"] = {"p50": float(np.percentile(times, 50)),
                           "p90": float(np.percentile(times, 90))}
    entry["bytes_ratio"] = entry["bytes"] / base["bytes"]
    entry["latency_ratio"] = entry["latency_ms"]["p50"] / base_p50
  report = {"command": f".venv/bin/python tools/bench_int8.py --runs {args.runs}",
            "host": platform.processor() or platform.machine(), "threads": 1,
            "runtime": "ai-edge-litert", "keras_test_accuracy": float(
                np.mean(reference.argmax(-1) == cora.labels[cora.test_index])),
            "artifacts": results}
  out = pathlib.Path(args.out)
  out.parent.mkdir(parents=True, exist_ok=True)
  out.write_text(json.dumps(report, indent=1))
  for name, entry in results.items():
    print(f"{name:38s} {entry['bytes']:7d} B ({entry['bytes_ratio']:.3f}x) "
          f"acc {100 * entry['test_accuracy']:.1f} agree {entry['agreement']:.3f} "
          f"p50 {entry['latency_ms']['p50']:.2f} ms ({entry['latency_ratio']:.2f}x)")


if __name__ == "__main__":
  main()
