"""EdgeConv: golden outputs, exact k-NN (ties, unit-scale clouds), batch == padded."""
import math

import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import numpy as np
import pytest
import tensorflow as tf

from edgegnn import data
from edgegnn import layers as gl
from edgegnn.deploy.convert import convert
from edgegnn.deploy.runtimes import open_runtime
from edgegnn.layers import edge_conv

from .common import (CANDIDATES, GRID, POINTS, assert_close, constant_dense, ref_edge_conv)


@pytest.mark.parametrize("k", [1, 2, 3, 6])
def test_edge_conv_golden(k):
  rng = np.random.default_rng(8)
  kernel, bias = rng.normal(size=(4, 3)), rng.normal(size=3)
  message_fn = tf.keras.layers.Dense(
      3, kernel_initializer=tf.keras.initializers.Constant(kernel),
      bias_initializer=tf.keras.initializers.Constant(bias))
  conv = gl.EdgeConv(3, k=k, message_fn=message_fn)
  result = conv((POINTS, CANDIDATES)).numpy()
  expected = ref_edge_conv(POINTS, CANDIDATES, k, kernel, bias)
  assert_close(result, expected)
  np.testing.assert_array_equal(result[5], 0.0)  # padding: no candidate
  if k >= 3:
    # Without the mask, node 5 (1, 1) would be a near neighbour of nodes 0 and 1.
    unmasked = conv((POINTS, np.ones((6, 6), np.float32))).numpy()
    assert np.abs(unmasked[:3] - result[:3]).max() > 1e-3


@pytest.mark.parametrize("k", [2, 3, 4])
def test_edge_conv_breaks_ties_toward_lower_index(k):
  rng = np.random.default_rng(20)
  kernel, bias = rng.normal(size=(4, 3)), rng.normal(size=3)
  conv = gl.EdgeConv(3, k=k, message_fn=constant_dense(3, kernel, bias))
  everything = np.ones((6, 6), np.float32)
  # Node 0's neighbours 1..4 are all at distance 1: it takes nodes 1, ..., k - 1.
  assert_close(conv((GRID, everything)), ref_edge_conv(GRID, everything, k, kernel, bias))


def test_edge_conv_knn_on_unit_scale_point_cloud():
  rng = np.random.default_rng(21)
  points = rng.uniform(-1.0, 1.0, size=(512, 3)).astype(np.float32)  # ModelNet-like scale
  kernel, bias = rng.normal(size=(6, 4)), rng.normal(size=4)
  conv = gl.EdgeConv(4, k=8, message_fn=constant_dense(4, kernel, bias))
  everything = np.ones((512, 512), np.float32)
  result = conv((points, everything)).numpy()
  expected = ref_edge_conv(points, everything, 8, kernel, bias)
  wrong = np.abs(result - expected).max(1) > 1e-4
  assert wrong.sum() == 0, f"{wrong.sum()} of 512 nodes got a wrong neighbourhood"


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "mean+max"])
def test_edge_conv_and_readout_batch_equals_padded(reduce):
  """A batch of merged graphs (node_graph_index) == each graph padded alone (node_mask)."""
  index = np.array([0, 0, 0, 1, 1], np.int32)
  conv = gl.EdgeConv(4, k=2, message_fn=tf.keras.layers.Dense(4, activation="relu"))
  readout = gl.GraphReadout(reduce)
  membership = gl.Membership("node_graph_index")(index)
  batched = readout((conv((POINTS[:5], gl.KnnCandidates()(membership))), membership)).numpy()
  for g, nodes in enumerate([[0, 1, 2], [3, 4]]):
    padded = np.zeros((4, 2), np.float32)
    padded[:len(nodes)] = POINTS[nodes]
    mask = gl.Membership("node_mask")(np.arange(4) < len(nodes))
    alone = readout((conv((padded, gl.KnnCandidates()(mask))), mask)).numpy()
    assert np.abs(alone).max() > 1e-3
    assert_close(alone[0], batched[g])


def test_edge_conv_default_message_fn_is_dense_bn_relu():
  conv = gl.EdgeConv(3, k=2)
  result = conv((POINTS, CANDIDATES), training=False).numpy()
  assert [type(l).__name__ for l in conv.message_fn.layers] == [
      "Dense", "BatchNormalization", "ReLU"]
  kernel = conv.message_fn.layers[0].kernel.numpy()
  # Fresh BN in inference: x / sqrt(1 + 1e-3).
  expected = np.maximum(ref_edge_conv(POINTS, CANDIDATES, 2, kernel, 0.0), 0.0)
  assert_close(result, expected / math.sqrt(1.0 + 1e-3))


# ----------------------------------------------------------------------------------------
# exact k-NN scores: identical in Keras and TFLite on a pixel grid full of ties
# ----------------------------------------------------------------------------------------


def _snapped_scores(x, candidates):
  """numpy int64 reference of `knn_scores`: 2 <q_t, q_s> - ||q_s||^2 on the same grid."""
  half = edge_conv.grid_half_bits(x.shape[1])
  factor = np.float32(2.0 ** (2 * half)) / np.float32(max(np.abs(x).max(), 1e-30))
  q = np.round(x * factor).astype(np.int64)
  scores = 2 * q @ q.T - (q * q).sum(1)[None, :]
  return np.where(candidates > 0, scores, -(2 ** 62)), q


@pytest.mark.parametrize("features", [1, 3, 16, 85, 86, 200, 1433])
def test_grid_half_bits_keeps_float32_sums_exact(features):
  half = edge_conv.grid_half_bits(features)
  assert 3 * features * 2 ** (2 * half) <= 2 ** 24
  assert half == 8 or 3 * features * 2 ** (2 * half + 2) > 2 ** 24   # the largest such h


def _digits_batch(count):
  ds = data.load("digits_points")
  graphs = [ds.graphs[i] for i in range(count)]
  x = np.concatenate([g.node_features for g in graphs]).astype(np.float32)
  index = np.repeat(np.arange(count), [g.num_nodes for g in graphs]).astype(np.int32)
  return x, index


def test_knn_scores_exact_on_digits_pixel_grid():
  x, index = _digits_batch(6)
  candidates = (index[:, None] == index[None, :]).astype(np.float32)
  scores = edge_conv.knn_scores(x, candidates).numpy()
  expected, _ = _snapped_scores(x, candidates)
  inside = candidates > 0
  np.testing.assert_array_equal(scores[inside], expected[inside])
  assert scores[~inside].max() < -(2 ** 59)
  # Real ties: points are (column / 7, row / 7, intensity / 16); in exact units of 1/112
  # many candidates of a node are equally far (what float rounding used to split
  # differently in TF and TFLite).
  units = np.round(x * np.array([7, 7, 16])).astype(np.int64) * np.array([16, 16, 7])
  exact = ((units[:, None, :] - units[None, :, :]) ** 2).sum(-1)
  tied_rows = sum(int((np.diff(np.sort(exact[t][inside[t]])[:7]) == 0).any())
                  for t in range(len(x)))
  assert tied_rows > len(x) // 2


def test_knn_neighbours_identical_in_keras_tflite_and_numpy(tmp_path):
  """Neighbour indices of a batch of digits graphs: Keras == ai-edge-litert == numpy
  (ascending snapped distance, equal distances to the lower node index)."""
  k = 6
  x, index = _digits_batch(8)
  inputs = {"node_features": tf.keras.Input([3], name="node_features"),
            "node_graph_index": tf.keras.Input([], dtype=tf.int32, name="node_graph_index")}
  membership = gl.Membership("node_graph_index")(inputs["node_graph_index"])
  candidates = gl.KnnCandidates()(membership)
  neighbors = tf.keras.layers.Lambda(
      lambda pair: tf.cast(tf.math.top_k(edge_conv.knn_scores(*pair), k=k)[1], tf.float32))(
          (inputs["node_features"], candidates))
  model = tf.keras.Model(inputs, {"logits": neighbors})
  feed = {"node_features": x, "node_graph_index": index}
  keras = model(feed)["logits"].numpy().astype(np.int64)
  path = tmp_path / "knn.tflite"
  result = convert(model, "tflite-float32", path)
  assert result.ops.get("TOPK_V2") == 1 and result.ops.get("CAST", 0) >= 3
  lite = open_runtime(path).run(feed)["logits"].astype(np.int64)
  same = (index[:, None] == index[None, :]).astype(np.float32)
  expected_scores, _ = _snapped_scores(x, same)
  expected = np.argsort(-expected_scores, axis=1, kind="stable")[:, :k]
  np.testing.assert_array_equal(keras, expected)
  np.testing.assert_array_equal(lite, expected)
