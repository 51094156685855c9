"""EdgeConv: the dynamic-graph convolution of DGCNN (Wang et al., TOG 2019)."""
from __future__ import annotations

from typing import Optional

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.layers import _serialization


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class EdgeConv(tf.keras.layers.Layer):
  r"""Edge convolution over a k-nearest-neighbour graph recomputed from the input states:

    N_k(t) = the k nodes s (t itself included) with the smallest ||x_t - x_s||^2
             among the allowed candidates
    h'_t   = max_{s in N_k(t)} message_fn( [x_t || x_s - x_t] )

  Call with `(node_states, candidates)`: `candidates` [N, N] is 1 where s may be a
  neighbour of t (same graph, both real nodes) and 0 elsewhere; a batch of graphs or a
  padded graph is expressed through it. Rows with no candidate (padding) output 0.
  Graphs with fewer than k candidates use the ones they have. Equal distances are broken
  toward the lower node index (an offset of at most 1e-6 of the row's largest distance), so
  Keras and TFLite agree.

  The k-NN search is a dense [N, N] distance matrix + TOPK_V2, which converts to TFLite
  builtins, so an exported model takes raw points.

  Args:
    units: output channels of the default message function.
    k: neighbours per node.
    message_fn: injected Keras layer on [..., 2F] edge features; defaults to
      `Dense(units) -> BatchNorm -> ReLU` (DGCNN's shared edge MLP).
  """

  def __init__(self, units: int, k: int = 8,
               message_fn: Optional[tf.keras.layers.Layer] = None, **kwargs):
    super().__init__(**kwargs)
    self.units = _serialization.check_units("units", units)
    self.k = _serialization.check_units("k", k)
    self.message_fn = _serialization.deserialize(message_fn) or tf.keras.Sequential(
        [tf.keras.layers.Dense(units, use_bias=False), tf.keras.layers.BatchNormalization(),
         tf.keras.layers.ReLU()], name="message_fn")

  def call(self, inputs, training=None):
    node_states, candidates = inputs
    candidates = tf.cast(candidates, node_states.dtype)
    squared = tf.reduce_sum(tf.square(node_states), axis=-1)
    distance = (tf.expand_dims(squared, 1) + tf.expand_dims(squared, 0) -
                2.0 * tf.matmul(node_states, node_states, transpose_b=True))
    k = tf.minimum(self.k, tf.shape(node_states)[0])
    # Exact ties (e.g. points on a pixel grid) are broken toward the lower node index by an
    # offset of at most 1e-6 of the row's largest distance (so it never reorders distinct
    # distances at any scale), so TF and every TFLite runtime pick the same neighbours.
    count = tf.shape(node_states)[0]
    index = tf.cast(tf.range(count), node_states.dtype) / tf.cast(count, node_states.dtype)
    scale = tf.reduce_max(distance * candidates, axis=1, keepdims=True)
    score = (-distance - 1e-6 * scale * tf.expand_dims(index, 0) -
             1e9 * (1.0 - candidates))
    top_score, neighbors = tf.math.top_k(score, k=k)                   # [N, k]
    valid = tf.expand_dims(tf.cast(top_score > -1e8, node_states.dtype), -1)   # [N, k, 1]
    center = tf.expand_dims(node_states, 1)
    neighbor_states = tf.gather(node_states, neighbors)                # [N, k, F]
    edge_features = tf.concat(
        [tf.broadcast_to(center, tf.shape(neighbor_states)), neighbor_states - center], -1)
    messages = self.message_fn(edge_features, training=training)
    pooled = tf.reduce_max(messages * valid - 1e4 * (1.0 - valid), axis=1)
    has_neighbor = tf.reduce_max(valid, axis=1)
    return pooled * has_neighbor

  def get_config(self):
    return dict(super().get_config(), units=self.units, k=self.k,
                message_fn=_serialization.serialize(self.message_fn))
