"""Costs of the single ops behind the Cora int8 GCN, each timed as its own TFLite model.

TFLite's op profiler is not reachable from the Python runtime, so docs/int8.md attributes
the int8 artifact's latency with these single-op models (Cora's shapes: N = 2708 nodes,
F = 1433 features, 16 hidden units; random data of Cora's density), timed on
ai-edge-litert with 1 thread, interleaved, median of `--runs`. Writes JSON.

    .venv/bin/python tools/int8_op_costs.py [--runs 200] [--out docs/results/int8_op_costs.json]
"""
from __future__ import annotations

import argparse
import json
import pathlib
import time

import numpy as np

import edgegnn  # noqa: F401  (Keras 2 before TensorFlow)
from edgegnn.atomic import atomic_write_text
from edgegnn.layers.structure import reciprocal
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

N, F, H = 2708, 1433, 16


def _convert(fn, specs, sample, int8: bool, int8_input: bool = False) -> bytes:
  converter = tf.lite.TFLiteConverter.from_concrete_functions(
      [fn.get_concrete_function(*specs)], fn)
  if int8:
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: iter([sample])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if int8_input:
      converter.inference_input_type = tf.int8
  return converter.convert()


def _interpreter(model: bytes, sample):
  interpreter = Interpreter(model_content=model, num_threads=1)
  interpreter.allocate_tensors()
  for detail, value in zip(interpreter.get_input_details(), sample):
    if detail["dtype"] == np.int8:
      scale, zero = detail["quantization"]
      value = np.clip(np.round(value / scale + zero), -128, 127)
    interpreter.set_tensor(detail["index"], value.astype(detail["dtype"]))
  return interpreter


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--runs", type=int, default=200)
  parser.add_argument("--out", default="docs/results/int8_op_costs.json")
  args = parser.parse_args()
  rng = np.random.default_rng(0)
  x = (rng.random((N, F)) < 0.013).astype(np.float32)
  weight = tf.constant(rng.normal(size=(F, H)).astype(np.float32) * 0.1)
  h = rng.normal(size=(N, H)).astype(np.float32)
  cases = {}

  @tf.function
  def transform(x):
    return tf.matmul(x, weight)

  @tf.function
  def normalize_then_transform(x):
    return tf.matmul(x * reciprocal(tf.maximum(tf.reduce_sum(x, 1, keepdims=True), 1.0)),
                     weight)

  @tf.function
  def transform_then_scale(x):
    return tf.matmul(x, weight) * reciprocal(
        tf.maximum(tf.reduce_sum(x, 1, keepdims=True), 1.0))

  x_spec = [tf.TensorSpec([N, F])]
  cases["transform float32"] = (_convert(transform, x_spec, [x], False), [x])
  cases["transform int8, float input"] = (_convert(transform, x_spec, [x], True), [x])
  cases["transform int8, int8 input"] = (_convert(transform, x_spec, [x], True, True), [x])
  for name, fn in [("normalize then transform", normalize_then_transform),
                   ("transform then scale", transform_then_scale)]:
    cases[f"{name} float32"] = (_convert(fn, x_spec, [x], False), [x])
    cases[f"{name} int8"] = (_convert(fn, x_spec, [x], True), [x])

  for k in (168, 16, 8):
    neighbors = rng.integers(0, N, (N, k)).astype(np.int32)
    mask = (rng.random((N, k)) < min(1.0, 3.9 / k)).astype(np.float32)

    @tf.function
    def row_sum(h, neighbors, mask):
      return tf.reduce_sum(tf.gather(h, neighbors) * mask[..., None], axis=1)
    specs = [tf.TensorSpec([N, H]), tf.TensorSpec([N, k], tf.int32), tf.TensorSpec([N, k])]
    sample = [h, neighbors, mask]
    cases[f"neighbour rows K={k} float32"] = (_convert(row_sum, specs, sample, False), sample)
    cases[f"neighbour rows K={k} int8"] = (_convert(row_sum, specs, sample, True), sample)

  edges = 13264
  source = rng.integers(0, N, edges).astype(np.int32)
  target = np.sort(rng.integers(0, N, edges)).astype(np.int32)

  @tf.function
  def segment_sum(h, source, target):
    return tf.math.unsorted_segment_sum(tf.gather(h, source), target, N)
  specs = [tf.TensorSpec([N, H]), tf.TensorSpec([edges], tf.int32),
           tf.TensorSpec([edges], tf.int32)]
  cases["segment sum float32 (sparse layout)"] = (
      _convert(segment_sum, specs, [h, source, target], False), [h, source, target])

  rows, overflow, listed = 2773, 10, 40
  row_values = rng.normal(size=(rows, H)).astype(np.float32)
  every_node = rng.integers(0, rows, (N, overflow)).astype(np.int32)

  @tf.function
  def second_level_every_node(row_values, overflow_rows):
    return row_values[:N] + tf.reduce_sum(tf.gather(row_values, overflow_rows), 1)
  specs = [tf.TensorSpec([rows, H]), tf.TensorSpec([N, overflow], tf.int32)]
  cases["second level over every node int8"] = (
      _convert(second_level_every_node, specs, [row_values, every_node], True),
      [row_values, every_node])
  listed_rows = rng.integers(0, rows, (listed, overflow)).astype(np.int32)
  index = np.full(N, listed, np.int32)
  index[:listed] = np.arange(listed)

  @tf.function
  def second_level_listed(row_values, overflow_rows, overflow_index):
    extra = tf.pad(tf.reduce_sum(tf.gather(row_values, overflow_rows), 1), [[0, 1], [0, 0]])
    return row_values[:N] + tf.gather(extra, overflow_index)
  specs = [tf.TensorSpec([rows, H]), tf.TensorSpec([listed, overflow], tf.int32),
           tf.TensorSpec([N], tf.int32)]
  sample = [row_values, listed_rows, index]
  cases[f"second level over {listed} listed nodes int8"] = (
      _convert(second_level_listed, specs, sample, True), sample)

  interpreters = {name: _interpreter(model, sample) for name, (model, sample) in cases.items()}
  times = {name: [] for name in cases}
  for interpreter in interpreters.values():
    for _ in range(5):
      interpreter.invoke()
  for _ in range(5):
    for name, interpreter in interpreters.items():
      for _ in range(args.runs // 5):
        start = time.perf_counter()
        interpreter.invoke()
        times[name].append(1000 * (time.perf_counter() - start))
  result = {name: float(np.median(t)) for name, t in times.items()}
  for name, ms in result.items():
    print(f"{name:45s} {ms:7.3f} ms")
  out = pathlib.Path(args.out)
  out.parent.mkdir(parents=True, exist_ok=True)
  atomic_write_text(out, json.dumps({
      "command": f".venv/bin/python tools/int8_op_costs.py --runs {args.runs}",
      "runtime": "ai-edge-litert", "threads": 1, "median_ms": result}, indent=1))


if __name__ == "__main__":
  main()
