"""The stock anchor: what a TF-GNN user gets without edgegnn, for side-by-side benchmarks.

A plain 2-layer GCN in Keras (TF-GNN's own GCN, `tensorflow_gnn.models.gcn.GCNConv`, does
the same per layer), converted with the stock `tf.lite.TFLiteConverter`:

    H = relu( Â (X W1) + b1 ),   logits = Â (H W2) + b2

with Â = D^-1/2 (A + I) D^-1/2 given as an edge list plus its weights, precomputed
once from the graph and fed (`edge_weight`), and X the (row-normalised) dense feature
matrix as the app would feed it. Each Â product is GATHER · edge_weight then
UNSORTED_SEGMENT_SUM. Two formats: float32 (stock settings) and dynamic-range int8
(`optimizations=[DEFAULT]`, no representative data), the two a user converts first.

Speed and size claims of edgegnn artifacts are ratios against these, measured in the
same process (`edgegnn.deploy.side_by_side`). Weights are random: latency does not
depend on their values.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

STOCK_FORMATS = ("stock-float32", "stock-dynamic-int8")


def gcn_edge_weights(edge_source: np.ndarray, edge_target: np.ndarray, num_nodes: int
                     ) -> dict[str, np.ndarray]:
  """The stock model's graph inputs: edges with one self-loop per node and Â's entries."""
  loops = np.arange(num_nodes, dtype=np.int32)
  source = np.concatenate([np.asarray(edge_source, np.int32), loops])
  target = np.concatenate([np.asarray(edge_target, np.int32), loops])
  degree = np.bincount(target, minlength=num_nodes).astype(np.float32)
  weight = (degree[source] ** -0.5) * (degree[target] ** -0.5)
  return {"edge_source": source, "edge_target": target,
          "edge_weight": weight.astype(np.float32)}


def stock_gcn_feed(graph) -> dict[str, np.ndarray]:
  """The inputs of the stock GCN for an `edgegnn.data.Graph` (features row-normalised as
  a user preprocesses them once)."""
  features = graph.dense_features().astype(np.float32)
  total = features.sum(axis=1, keepdims=True)
  features = features / np.maximum(total, 1.0)
  return {"node_features": features,
          **gcn_edge_weights(graph.edge_source, graph.edge_target, graph.num_nodes)}


def stock_gcn_weights(num_features: int, num_classes: int, hidden_units: int = 16,
                      seed: int = 0) -> tuple[np.ndarray, ...]:
  """Random (W1, b1, W2, b2) of the stock GCN (latency does not depend on them)."""
  rng = np.random.default_rng(seed)
  return (rng.normal(0, 0.05, (num_features, hidden_units)).astype(np.float32),
          np.zeros(hidden_units, np.float32),
          rng.normal(0, 0.3, (hidden_units, num_classes)).astype(np.float32),
          np.zeros(num_classes, np.float32))


def stock_gcn_tflite(num_features: int, num_classes: int, hidden_units: int = 16,
                     fmt: str = "stock-float32", seed: int = 0,
                     weights: Optional[tuple[np.ndarray, ...]] = None) -> bytes:
  """The stock GCN's flatbuffer in `fmt` (one of STOCK_FORMATS), with `weights` (W1, b1,
  W2, b2) or random ones (`stock_gcn_weights`)."""
  if fmt not in STOCK_FORMATS:
    raise ValueError(f"Unknown stock format {fmt!r}; expected one of {STOCK_FORMATS}.")
  if weights is None:
    weights = stock_gcn_weights(num_features, num_classes, hidden_units, seed)
  w1, b1, w2, b2 = (tf.constant(np.asarray(w, np.float32)) for w in weights)

  def propagate(h, source, target, weight):
    messages = tf.gather(h, source) * weight[:, None]
    return tf.math.unsorted_segment_sum(messages, target, tf.shape(h)[0])

  @tf.function(input_signature=[
      tf.TensorSpec([None, num_features], tf.float32, name="node_features"),
      tf.TensorSpec([None], tf.int32, name="edge_source"),
      tf.TensorSpec([None], tf.int32, name="edge_target"),
      tf.TensorSpec([None], tf.float32, name="edge_weight")])
  def serve(node_features, edge_source, edge_target, edge_weight):
    h = tf.nn.relu(propagate(tf.matmul(node_features, w1), edge_source, edge_target,
                             edge_weight) + b1)
    return {"logits": propagate(tf.matmul(h, w2), edge_source, edge_target, edge_weight) + b2}

  module = tf.Module()   # the trackable object gives the artifact its SignatureDef
  module.serve = serve
  converter = tf.lite.TFLiteConverter.from_concrete_functions(
      [serve.get_concrete_function()], module)
  if fmt == "stock-dynamic-int8":
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
  return converter.convert()


def stock_anchors(num_features: int, num_classes: int, hidden_units: int = 16,
                  seed: Optional[int] = 0) -> dict[str, bytes]:
  """Both stock artifacts, by format."""
  return {fmt: stock_gcn_tflite(num_features, num_classes, hidden_units, fmt, seed or 0)
          for fmt in STOCK_FORMATS}
