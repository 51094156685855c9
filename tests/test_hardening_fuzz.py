"""Issue 24, fuzzing: mutated artifacts (flipped bytes, overwritten offsets and counts,
truncations, zeroed ranges, inserted bytes) through `edgegnn inspect`, `edgegnn bench`
and the runtime wrapper: each is run or refused with one clear line, never a traceback,
and the process running them never crashes.

The mutants run in a worker subprocess (tests/hardening_fuzz_worker.py) so that a crash
(SIGSEGV in an interpreter) fails this test naming the mutant instead of killing pytest.
"""
import json
import pathlib
import subprocess
import sys

import edgegnn._keras_env  # noqa: F401  (Keras 2 before TensorFlow is imported)
import numpy as np
import pytest

N, F, C = 16, 8, 3
WORKER = pathlib.Path(__file__).with_name("hardening_fuzz_worker.py")


def _base_models(folder: pathlib.Path) -> list[pathlib.Path]:
  """A float32 sparse GCN (GATHER + UNSORTED_SEGMENT_SUM on edge lists of dynamic
  length) and a full-int8 dense one (adjacency and node mask), a few kB each: a mutation
  lands in the structure, not in a large weight blob."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  tf.keras.utils.set_random_seed(0)
  module = tf.Module()
  module.w1 = tf.Variable(tf.random.normal((F, 8)))
  module.w2 = tf.Variable(tf.random.normal((8, C)))

  @tf.function(input_signature=[tf.TensorSpec([N, F], tf.float32, name="node_features"),
                                tf.TensorSpec([None], tf.int32, name="edge_source"),
                                tf.TensorSpec([None], tf.int32, name="edge_target")])
  def sparse(node_features, edge_source, edge_target):
    hidden = tf.nn.relu(tf.matmul(node_features, module.w1))
    summed = tf.math.unsorted_segment_sum(tf.gather(hidden, edge_source), edge_target, N)
    return {"logits": tf.matmul(summed, module.w2)}

  @tf.function(input_signature=[tf.TensorSpec([N, F], tf.float32, name="node_features"),
                                tf.TensorSpec([N, N], tf.float32, name="adjacency"),
                                tf.TensorSpec([N], tf.float32, name="node_mask")])
  def dense(node_features, adjacency, node_mask):
    hidden = tf.nn.relu(tf.matmul(adjacency, tf.matmul(node_features, module.w1)))
    return {"logits": tf.matmul(hidden * node_mask[:, None], module.w2)}

  module.sparse, module.dense = sparse, dense
  paths = []
  converter = tf.lite.TFLiteConverter.from_concrete_functions(
      [sparse.get_concrete_function()], module)
  paths.append(folder / "sparse_float32.tflite")
  paths[-1].write_bytes(converter.convert())
  rng = np.random.default_rng(0)

  def representative():
    for _ in range(8):
      yield {"node_features": rng.normal(size=(N, F)).astype(np.float32),
             "adjacency": (rng.random((N, N)) < 0.2).astype(np.float32),
             "node_mask": np.ones(N, np.float32)}

  converter = tf.lite.TFLiteConverter.from_concrete_functions(
      [dense.get_concrete_function()], module)
  converter.optimizations = [tf.lite.Optimize.DEFAULT]
  converter.representative_dataset = representative
  converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
  paths.append(folder / "dense_int8.tflite")
  paths[-1].write_bytes(converter.convert())
  return paths


@pytest.mark.slow
def test_mutated_artifacts_never_crash_or_trace(tmp_path):
  total = 0
  for seed, base in enumerate(_base_models(tmp_path)):
    work = tmp_path / f"work{seed}"
    work.mkdir()
    done = subprocess.run([sys.executable, str(WORKER), str(base), str(seed), "300",
                           str(work)], capture_output=True, text=True, timeout=1800)
    current = (work / "current").read_text() if (work / "current").exists() else "?"
    assert done.returncode == 0, (f"the worker died (exit {done.returncode}) on {current}: "
                                  f"{done.stderr[-2000:]}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["problems"] == [], summary["problems"][:5]
    assert summary["ok"] > 10 and summary["refused"] > 100, summary  # both paths exercised
    total += summary["mutants"]
  assert total >= 500
