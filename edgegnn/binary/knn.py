"""Dynamic k-nearest-neighbour graphs with an exact, runtime-independent tie-break.

For node states X [N, C] and a candidate mask A [N, N] (1 where j may be a neighbour of
i: same graph, both real nodes; `edgegnn.layers.KnnCandidates` builds it):

    euclidean: d_ij = ||x_i||^2 + ||x_j||^2 - 2 <x_i, x_j>     (clamped at 0)
    hamming:   d_ij = (C - <x_i, x_j>) / 2   (the Hamming distance of +-1 codes; a
               relaxation of it for real states)

Distances are put on an integer grid and ranked with the node index as a tie-break:

    key_ij   = floor(Q d_ij / D_i + 1/2)     D_i = max_{j: A_ij = 1} d_ij (euclidean) or C
    score_ij = -(key_ij N + j)               (key_ij = Q + 1 where A_ij = 0)
    N_k(i)   = the k largest score_ij (i itself included when it is a candidate)

Scores are integers below 2^24, exact in float32, so equal distances (points on a pixel
grid, +-1 codes) pick the same neighbours in TensorFlow, LiteRT and LCE. Hamming
distances of binary codes are integers and map to distinct keys while C <= Q. A neighbour
slot is valid when key <= Q (graphs with fewer than k candidates).
"""
from __future__ import annotations

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

METRICS = ("euclidean", "hamming")
GRID = 1024  # Q


def check_metric(metric: str) -> str:
  if metric not in METRICS:
    raise ValueError(f"Unknown k-NN metric {metric!r}; expected one of {', '.join(METRICS)}.")
  return metric


def pairwise_distance(states: tf.Tensor, metric: str) -> tf.Tensor:
  """d_ij [N, N] of the module docstring."""
  dot = tf.matmul(states, states, transpose_b=True)
  if check_metric(metric) == "hamming":
    return (tf.cast(tf.shape(states)[-1], states.dtype) - dot) * 0.5
  squared = tf.reduce_sum(tf.square(states), axis=-1)
  return tf.nn.relu(tf.expand_dims(squared, 1) + tf.expand_dims(squared, 0) - 2.0 * dot)


def knn_neighbors(states: tf.Tensor, candidates: tf.Tensor, k: int,
                  metric: str = "euclidean") -> tuple[tf.Tensor, tf.Tensor]:
  """The k-NN graph of `states` among `candidates`.

  Returns:
    neighbors: int32 [N, k'] (k' = min(k, N)), row i lists N_k(i) nearest first.
    valid: float [N, k'], 1 where the slot holds a real candidate.
  """
  candidates = tf.cast(candidates, states.dtype)
  distance = pairwise_distance(states, metric)
  if metric == "hamming":
    scale = tf.cast(tf.shape(states)[-1], states.dtype)
  else:
    scale = tf.maximum(tf.reduce_max(distance * candidates, axis=1, keepdims=True), 1e-12)
  key = tf.floor(distance * (GRID / scale) + 0.5)
  key = tf.minimum(key, GRID) * candidates + (GRID + 1.0) * (1.0 - candidates)
  count = tf.shape(states)[0]
  index = tf.cast(tf.range(count), states.dtype)
  score = -(key * tf.cast(count, states.dtype) + tf.expand_dims(index, 0))
  top_score, neighbors = tf.math.top_k(score, k=tf.minimum(k, count))
  valid_limit = -(GRID + 1.0) * tf.cast(count, states.dtype) + 0.5
  valid = tf.cast(top_score > valid_limit, states.dtype)
  return neighbors, valid


def knn_edges(states: tf.Tensor, candidates: tf.Tensor, k: int,
              metric: str = "euclidean") -> tuple[tf.Tensor, tf.Tensor]:
  """The k-NN graph as an edge list (source = neighbour j, target = node i), valid only."""
  neighbors, valid = knn_neighbors(states, candidates, k, metric)
  count, width = tf.shape(neighbors)[0], tf.shape(neighbors)[1]
  target = tf.repeat(tf.range(count), width)
  keep = tf.reshape(valid, [-1]) > 0.5
  return tf.boolean_mask(tf.reshape(neighbors, [-1]), keep), tf.boolean_mask(target, keep)
