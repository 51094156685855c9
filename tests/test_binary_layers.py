"""Binary layers: straight-through gradients and golden outputs vs numpy, k-NN tie-break,
save -> reload with exact layer types, larq summary figures."""
import numpy as np
import pytest

import edgegnn  # noqa: F401
import tensorflow as tf

from edgegnn import binary
from edgegnn.binary import knn, quantizers
from edgegnn.binary.edge_conv import BinEdgeConv, XorEdgeConv
from edgegnn.binary.linear import BinaryLinear
from edgegnn.binary.summary import binary_summary
from edgegnn.layers import GCNConv, SAGEConv

BN_EPS = 1e-3  # Keras BatchNormalization default; a fresh BN in inference is x / sqrt(1 + eps).


def np_sign(x):
  return np.where(x >= 0, 1.0, -1.0).astype(np.float32)


STE_GRADIENTS = {
    "ste_sign": lambda x: (np.abs(x) <= 1).astype(np.float32),
    "approx_sign": lambda x: np.where(np.abs(x) <= 1, 2 - 2 * np.abs(x), 0).astype(np.float32),
    "swish_sign": lambda x: (5 * (2 - 5 * x * np.tanh(5 * x / 2)) / (1 + np.cosh(5 * x))),
}


@pytest.mark.parametrize("name", quantizers.QUANTIZERS)
def test_sign_quantizer_forward_and_straight_through_gradient(name):
  x = np.array([-2.0, -1.0, -0.6, -0.1, 0.0, 0.2, 0.7, 1.0, 1.5], np.float32)
  upstream = np.arange(1, 10, dtype=np.float32)
  xt = tf.constant(x)
  with tf.GradientTape() as tape:
    tape.watch(xt)
    y = quantizers.get(name)(xt)
  grad = tape.gradient(y, xt, output_gradients=tf.constant(upstream)).numpy()
  np.testing.assert_array_equal(y.numpy(), np_sign(x))
  np.testing.assert_allclose(grad, upstream * STE_GRADIENTS[name](x), rtol=1e-5, atol=1e-6)


def test_unknown_aliases_are_rejected_with_the_valid_names():
  with pytest.raises(ValueError, match="ste_sign, approx_sign, swish_sign"):
    quantizers.get("sign")
  with pytest.raises(ValueError, match="float, binary_weights, binary"):
    BinaryLinear(4, precision="ternary")
  with pytest.raises(ValueError, match="euclidean, hamming"):
    BinEdgeConv(4, metric="cosine")
  with pytest.raises(ValueError, match="units"):
    BinaryLinear(0)


def _linear_case():
  rng = np.random.default_rng(0)
  x = rng.uniform(-1.5, 1.5, size=(5, 4)).astype(np.float32)
  kernel = rng.uniform(-1.2, 1.2, size=(4, 3)).astype(np.float32)
  scale = np.array([0.5, -2.0, 1.5], np.float32)
  bias = np.array([0.1, 0.0, -0.3], np.float32)
  upstream = rng.normal(size=(5, 3)).astype(np.float32)
  return x, kernel, scale, bias, upstream


def _set(layer, x, kernel, scale, bias):
  layer(tf.constant(x))
  layer.conv.kernel.assign(kernel.reshape(1, 1, *kernel.shape))
  layer.scale.assign(scale)
  layer.bias.assign(bias)


@pytest.mark.parametrize("precision", ["binary", "binary_weights", "float"])
def test_binary_linear_output_and_gradients_match_numpy(precision):
  x, kernel, scale, bias, upstream = _linear_case()
  layer = BinaryLinear(3, precision=precision, input_norm=False, use_bias=True,
                       real_inputs="identity")
  _set(layer, x, kernel, scale, bias)
  xt = tf.constant(x)
  with tf.GradientTape() as tape:
    tape.watch(xt)
    y = layer(xt, training=True)
  grads = tape.gradient(y, [xt, layer.conv.kernel, layer.scale],
                        output_gradients=tf.constant(upstream))
  qx = np_sign(x) if precision == "binary" else x
  qw = kernel if precision == "float" else np_sign(kernel)
  product = qx @ qw
  np.testing.assert_allclose(y.numpy(), product * scale + bias, rtol=1e-5, atol=1e-5)
  dz = upstream * scale
  dx = dz @ qw.T
  if precision == "binary":
    dx = dx * (np.abs(x) <= 1)
  dw = qx.T @ dz
  if precision != "float":
    dw = dw * (np.abs(kernel) <= 1)
  np.testing.assert_allclose(grads[0].numpy(), dx, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(grads[1].numpy().reshape(4, 3), dw, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(grads[2].numpy(), np.sum(upstream * product, 0), rtol=1e-5,
                             atol=1e-5)


def test_knn_breaks_exact_ties_toward_lower_index_and_marks_padding():
  # Four points on a grid: from node 0, nodes 1 and 2 are equally far (distance 1).
  points = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [0, 0]], np.float32)
  candidates = np.ones((5, 5), np.float32)
  candidates[4, :] = candidates[:, 4] = 0  # node 4 is padding
  neighbors, valid = knn.knn_neighbors(tf.constant(points), tf.constant(candidates), 3)
  np.testing.assert_array_equal(neighbors.numpy()[:4], [[0, 1, 2], [1, 0, 3], [2, 0, 3],
                                                         [3, 1, 2]])
  np.testing.assert_array_equal(valid.numpy()[:4], np.ones((4, 3)))
  np.testing.assert_array_equal(valid.numpy()[4], np.zeros(3))
  codes = np.array([[1, 1, 1, 1], [1, -1, 1, 1], [-1, -1, 1, 1], [1, 1, 1, -1]], np.float32)
  hamming = knn.pairwise_distance(tf.constant(codes), "hamming").numpy()
  expected = np.array([[np.sum(a != b) for b in codes] for a in codes], np.float32)
  np.testing.assert_array_equal(hamming, expected)
  neighbors, _ = knn.knn_neighbors(tf.constant(codes), tf.ones((4, 4)), 2, "hamming")
  # Node 2: node 1 at distance 1; nodes 0 and 3 at distance 2, 3 -> lower index 0 first.
  np.testing.assert_array_equal(neighbors.numpy(), [[0, 1], [1, 0], [2, 1], [3, 0]])


def _np_knn(x, k, metric):
  if metric == "hamming":
    d = (x.shape[1] - x @ x.T) / 2
  else:
    d = ((x[:, None] - x[None]) ** 2).sum(-1)
  return np.stack([np.lexsort((np.arange(len(x)), row))[:k] for row in d])


def test_bin_edge_conv_matches_numpy_on_a_hand_built_point_cloud():
  points = np.array([[0.0, 0.0], [1.0, 0.2], [0.1, 1.0], [2.0, 2.0]], np.float32)
  layer = BinEdgeConv(3, k=2, precision="binary", metric="euclidean")
  layer((tf.constant(points), tf.ones((4, 4))))
  kernel = np.array([[1, -1, 0.5], [-0.5, 1, 1], [0.3, 0.2, -1], [-1, -0.4, 0.6]],
                    np.float32)
  layer.transform.conv.kernel.assign(kernel.reshape(1, 1, 4, 3))
  layer.transform.scale.assign([1.0, 0.5, 2.0])
  got = layer((tf.constant(points), tf.ones((4, 4))), training=False).numpy()
  neighbors = _np_knn(points, 2, "euclidean")
  edges = np.concatenate([np.repeat(points[:, None], 2, 1),
                          points[neighbors] - points[:, None]], -1)
  messages = (np_sign(edges / np.sqrt(1 + BN_EPS)) @ np_sign(kernel)) * [1.0, 0.5, 2.0]
  np.testing.assert_allclose(got, messages.max(1), rtol=1e-5)


def test_xor_edge_conv_matches_numpy_on_hand_built_codes():
  codes = np.array([[1, 1, -1], [1, -1, -1], [-1, -1, 1], [1, 1, 1], [-1, 1, 1]], np.float32)
  layer = XorEdgeConv(2, k=3, precision="binary")
  layer((tf.constant(codes), tf.ones((5, 5))))
  kernel = np.array([[1, -1], [-1, -1], [1, 1], [-1, 1], [1, -1], [-1, 1]], np.float32) * 0.5
  layer.transform.conv.kernel.assign(kernel.reshape(1, 1, 6, 2))
  layer.transform.scale.assign([1.0, 1.0])
  layer.output_norm.moving_mean.assign([1.0, -1.0])
  got = layer((tf.constant(codes), tf.ones((5, 5))), training=False).numpy()
  neighbors = _np_knn(codes, 3, "hamming")
  center = np.repeat(codes[:, None], 3, 1)
  edges = np.concatenate([center, -codes[neighbors] * center], -1)
  pooled = (edges @ np_sign(kernel)).max(1)
  expected = np_sign((pooled - [1.0, -1.0]) / np.sqrt(1 + BN_EPS))
  np.testing.assert_array_equal(got, expected)
  assert set(np.unique(got)) <= {-1.0, 1.0}


def test_binary_gcn_conv_matches_numpy_on_a_hand_built_graph():
  # Directed edges s -> t: 0->1, 1->0, 1->2, 3->2 (node 3 has no in-edges).
  source, target = np.array([0, 1, 1, 3]), np.array([1, 0, 2, 2])
  x = np.array([[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 1]], np.float32)
  layer = binary.binary_gcn_conv(2, precision="binary", input_offset=0.5)
  adjacency = np.zeros((4, 4), np.float32)
  adjacency[target, source] = 1
  layer((tf.constant(x), tf.constant(adjacency)))
  kernel = np.array([[1, -1], [-1, -1], [1, 1]], np.float32) * 0.5
  layer.transform.conv.kernel.assign(kernel.reshape(1, 1, 3, 2))
  layer.transform.scale.assign([1.0, 1.0])
  layer.bias.assign([0.5, -0.5])
  got = layer((tf.constant(x), tf.constant(adjacency)), training=False).numpy()
  xw = (np_sign(x - 0.5) @ np_sign(kernel)) / np.sqrt(1 + BN_EPS)  # output BN (fresh)
  a_hat = adjacency + np.eye(4)
  d = a_hat.sum(1) ** -0.5
  np.testing.assert_allclose(got, (d[:, None] * a_hat * d[None]) @ xw + [0.5, -0.5],
                             rtol=1e-5)


@pytest.mark.parametrize("architecture", binary.ARCHITECTURES)
def test_binary_models_save_and_reload_with_exact_layer_types(architecture, tmp_path):
  spec = binary.BinarySpec(architecture, hidden_units=8, embed_units=8, num_layers=2, k=3)
  graph_task = spec.task == "graph"
  model = binary.build_binary_model(spec, num_features=4, num_classes=3,
                                    capacity=6 if graph_task else None)
  rng = np.random.default_rng(0)
  feed = {"node_features": rng.uniform(size=(6, 4)).astype(np.float32)}
  if graph_task:
    feed["node_mask"] = np.array([1, 1, 1, 1, 1, 0], np.float32)
  else:
    feed["edge_source"] = np.array([0, 1, 2, 3, 4], np.int32)
    feed["edge_target"] = np.array([1, 2, 3, 4, 5], np.int32)
  before = model(feed, training=False)["logits"].numpy()
  path = str(tmp_path / "model.keras")
  model.save(path)
  loaded = tf.keras.models.load_model(path)
  np.testing.assert_allclose(loaded(feed, training=False)["logits"].numpy(), before, atol=1e-5)
  types = lambda m: sorted(type(l).__name__ for l in m.submodules
                          if isinstance(l, tf.keras.layers.Layer))
  assert types(loaded) == types(model)
  assert [(type(l), l.name) for l in loaded.layers] == [(type(l), l.name) for l in model.layers]
  conv = loaded.get_layer("conv1")
  expected = {"gcn": GCNConv, "sage": SAGEConv, "bin_edgeconv": BinEdgeConv,
              "xor_edgeconv": XorEdgeConv}[architecture]
  assert type(conv) is expected
  assert ([(l.name, l.precision) for l in binary.binary_layers(loaded)] ==
          [(l.name, l.precision) for l in binary.binary_layers(model)])


def test_summary_counts_binarized_macs_and_bits():
  spec = binary.BinarySpec("gcn", hidden_units=16)
  model = binary.build_binary_model(spec, num_features=64, num_classes=4, capacity=10,
                                    num_edges=20)
  figures = binary_summary(model)
  assert figures["macs"] == 10 * 64 * 16 + 10 * 16 * 4
  assert figures["binarized_mac_ratio"] == 1.0
  assert figures["binary_params"] == 64 * 16 + 16 * 4
  float_params = figures["params"] - figures["binary_params"]
  assert figures["memory_bits"] == figures["binary_params"] + 32 * float_params
  assert "Model size" in figures["larq_summary"]
  points = binary.build_binary_model(binary.BinarySpec("bin_edgeconv", hidden_units=8,
                                                       embed_units=8, k=4),
                                     num_features=3, num_classes=2, capacity=12)
  figures = binary_summary(points)
  first = 12 * 4 * 6 * 8  # rows = nodes x k, real (x, y, intensity) edge features
  assert figures["macs"] - figures["binary_macs"] == first
  assert 0 < figures["binarized_mac_ratio"] < 1
