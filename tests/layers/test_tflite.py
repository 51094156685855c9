"""Layers converted to TFLite: float32 equals Keras in both layouts; dense GCN full int8."""
import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import numpy as np
import pytest
import tensorflow as tf

from edgegnn import layers as gl
from edgegnn.data import Graph
from edgegnn.deploy import tflite_file
from edgegnn.deploy.convert import convert
from edgegnn.deploy.runtimes import open_runtime
from edgegnn.models import ModelSpec, build_model, feeds

from .common import (F, GRAPH, GRID, N, randomize_weights)


TFLITE_LAYERS = {
    "gcn": lambda: gl.GCNConv(4, activation="relu"),
    "gat": lambda: gl.GATConv(2, num_heads=2),
    "sage": lambda: gl.SAGEConv(4, activation="elu"),
    "gin": lambda: gl.GINConv(4, mlp=tf.keras.layers.Dense(4)),
    "mp_gat": lambda: gl.MessagePassing(2, num_heads=2, attention="gat", activation="tanh"),
    "edge_conv": lambda: gl.EdgeConv(4, k=2, message_fn=tf.keras.layers.Dense(4)),
}


def _tflite_model(name, layout):
  """A one-layer functional model over the plain-tensor input contract, and its feed."""
  layer = TFLITE_LAYERS[name]()
  if name == "edge_conv":
    if layout == "sparse":  # a batch of graphs, dynamic node count
      inputs = {"node_features": tf.keras.Input([2], name="node_features"),
                "node_graph_index": tf.keras.Input([], dtype=tf.int32,
                                                   name="node_graph_index")}
      membership = gl.Membership("node_graph_index")(inputs["node_graph_index"])
      feed = {"node_features": GRID[:5], "node_graph_index": np.array([0, 0, 0, 1, 1],
                                                                      np.int32)}
    else:  # one padded graph of capacity 6
      inputs = {"node_features": tf.keras.Input([2], batch_size=6, name="node_features"),
                "node_mask": tf.keras.Input([], batch_size=6, name="node_mask")}
      membership = gl.Membership("node_mask")(inputs["node_mask"])
      feed = {"node_features": GRID, "node_mask": np.array([1, 1, 1, 1, 1, 0], np.float32)}
    output = layer((inputs["node_features"], gl.KnnCandidates()(membership)))
  elif layout == "sparse":
    inputs = {"node_features": tf.keras.Input([F], name="node_features"),
              "edge_source": tf.keras.Input([], dtype=tf.int32, name="edge_source"),
              "edge_target": tf.keras.Input([], dtype=tf.int32, name="edge_target")}
    graph = gl.GraphTensorFromPieces()(
        [inputs["node_features"], inputs["edge_source"], inputs["edge_target"]])
    output = layer((inputs["node_features"], graph))
    feed = feeds.graph_feed(GRAPH, "sparse")
  else:
    inputs = {"node_features": tf.keras.Input([F], batch_size=N, name="node_features"),
              "adjacency": tf.keras.Input([N], batch_size=N, name="adjacency")}
    output = layer((inputs["node_features"], inputs["adjacency"]))
    feed = {k: v for k, v in feeds.graph_feed(GRAPH, "dense").items() if k in inputs}
  randomize_weights(layer, np.random.default_rng(18))
  return tf.keras.Model(inputs, {"logits": output}), feed


@pytest.mark.parametrize("layout", ["sparse", "dense"])
@pytest.mark.parametrize("name", sorted(TFLITE_LAYERS))
def test_tflite_float32_matches_keras(name, layout, tmp_path):
  model, feed = _tflite_model(name, layout)
  expected = model(feed)["logits"].numpy()
  path = tmp_path / f"{name}_{layout}.tflite"
  result = convert(model, "tflite-float32", path)
  output = open_runtime(path).run(feed)["logits"]
  assert output.shape == expected.shape
  assert np.abs(expected).max() > 1e-2
  np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-5)
  if name != "edge_conv":
    segment_ops = result.ops.get("UNSORTED_SEGMENT_SUM", 0)
    assert segment_ops >= 1 if layout == "sparse" else segment_ops == 0
    assert (result.ops.get("BATCH_MATMUL", 0) >= 1) == (layout == "dense")


def _random_graph(rng, capacity, num_features):
  n = int(rng.integers(capacity // 2, capacity + 1))
  e = int(rng.integers(n, 3 * n))
  source = rng.integers(0, n, e)
  target = (source + rng.integers(1, n, e)) % n  # no self-loops
  return Graph(rng.random((n, num_features)).astype(np.float32), source, target)


def test_dense_gcn_full_int8(tmp_path):
  capacity, num_features = 8, 6
  rng = np.random.default_rng(19)
  model = build_model(ModelSpec("gcn", hidden_units=16, dropout=0.0),
                      num_features=num_features, num_classes=3, layout="dense",
                      capacity=capacity)
  representative = [feeds.graph_feed(_random_graph(rng, capacity, num_features), "dense",
                                     capacity) for _ in range(16)]
  path = tmp_path / "gcn.int8.tflite"
  result = convert(model, "tflite-int8", path, representative_feeds=representative)
  info = tflite_file.read_model(path)
  assert tflite_file.float_compute_ops(info) == []
  assert result.ops.get("BATCH_MATMUL", 0) == 2 and "UNSORTED_SEGMENT_SUM" not in result.ops
  assert info.runtimes.tflm_compatible
  runtime = open_runtime(path)
  agree = total = 0
  for _ in range(8):
    graph = _random_graph(rng, capacity, num_features)
    feed = feeds.graph_feed(graph, "dense", capacity)
    expected = model(feed)["logits"].numpy()[:graph.num_nodes]
    output = runtime.run(feed)["logits"][:graph.num_nodes]
    np.testing.assert_allclose(output, expected, atol=0.25 * np.abs(expected).max())
    agree += int((output.argmax(1) == expected.argmax(1)).sum())
    total += graph.num_nodes
  assert agree >= 0.85 * total, f"{agree}/{total}"


@pytest.mark.parametrize("min_total,max_error", [(1.0, 0.05), (1e-12, None)])
def test_row_normalize_full_int8_with_an_empty_feature_row(min_total, max_error, tmp_path):
  """CiteSeer has empty feature rows: the int8 reciprocal must not be scaled for 1/1e-12."""
  rng = np.random.default_rng(3)
  counts = (rng.random((40, 30)) < 0.2).astype(np.float32)
  counts[7] = 0.0                                              # an empty row
  inputs = tf.keras.Input([30], name="node_features")
  dense = tf.keras.layers.Dense(4, name="transform")
  model = tf.keras.Model({"node_features": inputs},
                         {"logits": dense(gl.RowNormalize(min_total)(inputs))})
  result = convert(model, "tflite-int8", tmp_path / "rows.tflite",
                   representative_feeds=[{"node_features": counts}])
  output = open_runtime(result.path).run({"node_features": counts})["logits"]
  expected = model({"node_features": counts})["logits"].numpy()
  error = np.abs(output - expected).max() / np.abs(expected).max()
  if max_error is not None:
    assert error <= max_error
    np.testing.assert_allclose(output[7], 0.0, atol=1e-6)     # 0 * anything = 0, no bias
  else:   # the trap, kept as a regression guard: the float floor destroys the int8 scale
    assert error > 0.5


def test_row_normalize_rejects_a_non_positive_floor():
  with pytest.raises(ValueError, match="min_total must be > 0"):
    gl.RowNormalize(0.0)
