"""EdgeConv: the dynamic-graph convolution of DGCNN (Wang et al., TOG 2019)."""
from __future__ import annotations

from typing import Optional

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.layers import _serialization

# Exact-integer k-NN scores need every float32 partial sum to stay an integer <= 2^24.
_FLOAT32_EXACT_BITS = 24
_MAX_HALF_BITS = 8
_NO_CANDIDATE = -(2 ** 59)   # scores of non-candidates are below this
_MIN_SCALE = 2.0 ** -14       # the smallest normal float16: all-zero states stay finite


def grid_half_bits(features: int) -> int:
  """h: node states are snapped to integers of at most 2h bits (plus sign), split in two
  h-bit halves, so that the float32 matmuls of `knn_scores` are exact:
  3 * F * 2^(2h) <= 2^24, h <= 8 (a 2^16-step grid for up to 85 features)."""
  limit = 2 ** _FLOAT32_EXACT_BITS // (3 * max(int(features), 1))
  half = max(1, (limit.bit_length() - 1) // 2)                 # 2^(2h) <= limit
  return min(_MAX_HALF_BITS, half)


def knn_scores(node_states: tf.Tensor, candidates: tf.Tensor) -> tf.Tensor:
  r"""Exact int64 nearness scores: row t ranks the candidates s of node t, larger = nearer.

    c      = max(max_{i,f} |x_if|, 2^-14)             (padding rows are zero)
    q_i    = round(x_i * 2^(2h) / c)                  (integers, |q_if| <= 2^(2h))
    q_i    = 2^h a_i + b_i,   a_i = floor(q_i / 2^h),   b_i in [0, 2^h)
    score(t, s) = 2 <q_t, q_s> - ||q_s||^2
                = 2^(2h) (2 <a_t, a_s> - ||a_s||^2)
                + 2^(h+1) (<a_t, b_s> + <b_t, a_s> - <a_s, b_s>)
                + (2 <b_t, b_s> - ||b_s||^2)          if candidates[t, s] > 0
    score(t, s) ~ -2^60                               otherwise

  Since ||q_t - q_s||^2 = ||q_t||^2 - score(t, s), ranking a row by descending score
  ranks its candidates by ascending snapped squared distance. Each bracket is one float32
  matmul of integer operands (the column term rides along as an extra feature) whose
  partial sums stay below 3 F 2^(2h) <= 2^24 (`grid_half_bits`): every one is an exact
  integer whatever order a kernel sums in. The brackets are scaled and added in
  int64 (so a float16 artifact, whose float constants must fit float16, stays exact). Keras and
  every TFLite runtime therefore compute identical scores; equal scores (ties on a grid)
  stay equal and top_k takes the lower node index first, in TF and in TFLite alike. The
  grid step c / 2^(2h) (2^-16 of the largest coordinate for F <= 85) is far finer than
  the spacing of real neighbours.
  """
  x = tf.stop_gradient(node_states)
  half = grid_half_bits(x.shape[-1])
  # Every float constant here is a power of two of at most 2^h = 256, so a float16
  # artifact (whose converter stores float constants as float16, max 65504) keeps them
  # exact; larger factors are applied in int64.
  scale = tf.maximum(tf.reduce_max(tf.abs(x)), _MIN_SCALE)
  grid = tf.round((x * ((2.0 ** half) / scale)) * (2.0 ** half))   # x * 2^(2h) / c
  high = tf.floor(grid * (0.5 ** half))
  low = grid - high * (2.0 ** half)
  minus_one = -tf.ones_like(high[:, :1])

  def column(values):
    return tf.reduce_sum(values, axis=-1, keepdims=True)

  def exact_matmul(left, right, factor_bits):
    product = tf.matmul(tf.concat(left, -1), tf.concat(right, -1), transpose_b=True)
    return tf.cast(product, tf.int64) * tf.constant(2 ** factor_bits, tf.int64)

  high_term = exact_matmul([2.0 * high, minus_one], [high, column(high * high)], 2 * half)
  cross_term = exact_matmul([high, low, minus_one], [low, high, column(high * low)],
                            half + 1)
  low_term = exact_matmul([2.0 * low, minus_one], [low, column(low * low)], 0)
  excluded = tf.cast(1.0 - tf.cast(candidates, x.dtype), tf.int64) * tf.constant(
      2 ** 60, tf.int64)
  return high_term + cross_term + low_term - excluded


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class EdgeConv(tf.keras.layers.Layer):
  r"""Edge convolution over a k-nearest-neighbour graph recomputed from the input states:

    N_k(t) = the k nodes s (t itself included) with the smallest ||q_t - q_s||^2
             among the allowed candidates, equal distances to the lower index s
    h'_t   = max_{s in N_k(t)} message_fn( [x_t || x_s - x_t] )

  where q is x snapped to a grid of 2^16 steps of its largest coordinate (`knn_scores`),
  so that the distances are exact integers: the neighbours do not depend on float
  summation order, and Keras and TFLite pick the same ones even on a pixel grid full of
  ties. Messages use the unsnapped states x; no gradient flows through the selection.

  Call with `(node_states, candidates)`: `candidates` [N, N] is 1 where s may be a
  neighbour of t (same graph, both real nodes) and 0 elsewhere; a batch of graphs or a
  padded graph is expressed through it. Rows with no candidate (padding) output 0.
  Graphs with fewer than k candidates use the ones they have.

  The k-NN search is [N, N] int64 scores (three float32 matmuls of 8-bit halves) +
  TOPK_V2, all TFLite builtins, so an exported model takes raw points.

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
    k = tf.minimum(self.k, tf.shape(node_states)[0])
    top_score, neighbors = tf.math.top_k(knn_scores(node_states, candidates), k=k)  # [N, k]
    valid = tf.expand_dims(tf.cast(top_score > _NO_CANDIDATE, node_states.dtype), -1)  # [N, k, 1]
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
