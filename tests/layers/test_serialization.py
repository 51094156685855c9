"""Serialisation: get_config round trips, rebuilt layers compute the same, models save
and load with exact layer types.
"""
import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import numpy as np
import pytest
import tensorflow as tf

from edgegnn import layers as gl
from edgegnn.models import ModelSpec, build_model, feeds

from .common import (CANDIDATES, F, GRAPH, MEMBERSHIP, N, POINTS, STATES, X, assert_close,
                     randomize_weights)


CONFIG_CASES = {
    "gcn": (lambda: gl.GCNConv(3, activation="tanh", use_bias=False, add_self_loops=False,
                               kernel_regularizer="l2"), "graph"),
    "sage": (lambda: gl.SAGEConv(3, activation="relu6", normalize=True,
                                 kernel_regularizer="l1"), "graph"),
    "gin": (lambda: gl.GINConv(3, epsilon=0.5, learn_epsilon=True), "graph"),
    "gin_injected": (lambda: gl.GINConv(3, mlp=tf.keras.Sequential(
        [tf.keras.layers.Dense(5, activation="relu"), tf.keras.layers.Dense(3)])), "graph"),
    "gat": (lambda: gl.GATConv(2, num_heads=3, concat_heads=False, activation="elu",
                               attention_dropout=0.25), "graph"),
    "mp": (lambda: gl.MessagePassing(2, num_heads=2, attention="gene-linear",
                                     activation="softplus", use_bias=False,
                                     kernel_regularizer="l2"), "graph"),
    "mp_injected": (lambda: gl.MessagePassing(
        2, num_heads=2, attention="cos",
        transform=tf.keras.layers.Dense(4, activation="tanh", name="custom")), "graph"),
    "edge_conv": (lambda: gl.EdgeConv(3, k=2), "points"),
    "edge_conv_injected": (lambda: gl.EdgeConv(3, k=4, message_fn=tf.keras.layers.Dense(3)),
                           "points"),
    "readout": (lambda: gl.GraphReadout("mean+max"), "states"),
    "attention": (lambda: gl.EdgeAttention("sym-gat", negative_slope=0.1), None),
    "membership": (lambda: gl.Membership("node_graph_index"), None),
    "pieces": (lambda: gl.GraphTensorFromPieces(), None),
    "row_normalize": (lambda: gl.RowNormalize(), None),
    "knn": (lambda: gl.KnnCandidates(), None),
}


def _config_inputs(kind):
  return {"graph": (X, GRAPH.to_graph_tensor()), "points": (POINTS, CANDIDATES),
          "states": (STATES, MEMBERSHIP)}[kind]


@pytest.mark.parametrize("name", sorted(CONFIG_CASES))
def test_get_config_round_trip(name):
  layer = CONFIG_CASES[name][0]()
  config = layer.get_config()
  clone = type(layer).from_config(config)
  assert type(clone) is type(layer)
  assert clone.get_config() == config


@pytest.mark.parametrize("name", sorted(n for n, c in CONFIG_CASES.items() if c[1]))
def test_from_config_of_built_layer_computes_the_same(name):
  factory, kind = CONFIG_CASES[name]
  inputs = _config_inputs(kind)
  layer = factory()
  layer(inputs)
  randomize_weights(layer, np.random.default_rng(13))
  clone = type(layer).from_config(layer.get_config())
  clone(inputs)
  clone.set_weights(layer.get_weights())
  assert clone.get_config() == layer.get_config()
  assert [w.shape for w in clone.weights] == [w.shape for w in layer.weights]
  expected = layer(inputs).numpy()
  assert np.abs(expected).max() > 1e-3
  assert_close(clone(inputs), expected)
  if getattr(layer, "kernel_regularizer", None) is not None:
    assert len(clone.losses) == len(layer.losses) >= 1
    assert_close(tf.add_n(clone.losses), tf.add_n(layer.losses).numpy())


MODEL_CASES = [("gcn", "node", {}), ("gat", "node", dict(num_heads=2)),
               ("sage", "node", {}), ("gin", "graph", dict(learn_epsilon=True)),
               ("edgeconv", "graph", dict(k=3, readout="mean+max")),
               ("mp", "node", dict(attention="gene-linear", num_heads=2))]


@pytest.mark.parametrize("architecture,task,options", MODEL_CASES,
                         ids=[c[0] for c in MODEL_CASES])
def test_model_save_and_load_keras(architecture, task, options, tmp_path):
  spec = ModelSpec(architecture, hidden_units=4, dropout=0.0, **options)
  model = build_model(spec, num_features=F, num_classes=3, task=task)
  rng = np.random.default_rng(14)
  # Shift every weight by a positive amount (BN variances stay > 0, biases become != 0).
  model.set_weights([w + rng.uniform(0.1, 0.5, size=w.shape).astype(np.float32)
                     for w in model.get_weights()])
  feed = feeds.select(feeds.graph_feed(GRAPH), feeds.model_input_names(model))
  expected = model(feed)["logits"].numpy()
  path = str(tmp_path / "m.keras")
  model.save(path)
  loaded = tf.keras.models.load_model(path)
  assert [type(l).__name__ for l in loaded.layers] == [type(l).__name__ for l in model.layers]
  assert [type(l) for l in loaded.layers] == [type(l) for l in model.layers]
  assert [l.get_config() for l in loaded.layers] == [l.get_config() for l in model.layers]
  for a, b in zip(loaded.get_weights(), model.get_weights()):
    np.testing.assert_array_equal(a, b)
  result = loaded(feed)["logits"].numpy()
  assert result.shape == ((N, 3) if task == "node" else (1, 3))
  assert_close(result, expected)
