"""GraphReadout: pools node states into one vector per graph."""
from __future__ import annotations

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.layers.structure import reciprocal

REDUCTIONS = ("sum", "mean", "max", "mean+max")


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class GraphReadout(tf.keras.layers.Layer):
  r"""Graph-level pooling through a membership matrix M [G, N] (M_gi = 1 if node i is a
  real node of graph g):

    sum:  r_g = sum_i M_gi h_i                 (a matmul: int8-friendly)
    mean: r_g = sum_i M_gi h_i / sum_i M_gi
    max:  r_g = max_i M_gi h_i                 (assumes h >= 0, e.g. after ReLU)
    mean+max: [mean || max]  (DGCNN)

  A batch of merged graphs uses M = one_hot(node_graph_index)^T; one padded graph uses
  M = node_mask[None, :]. Call with `(node_states, membership)`.
  """

  def __init__(self, reduce: str = "sum", **kwargs):
    super().__init__(**kwargs)
    if reduce not in REDUCTIONS:
      raise ValueError(f"Unknown readout reduce {reduce!r}; expected one of {REDUCTIONS}.")
    self.reduce = reduce

  def call(self, inputs):
    node_states, membership = inputs
    membership = tf.cast(membership, node_states.dtype)
    total = tf.matmul(membership, node_states)
    if self.reduce == "sum":
      return total
    mean = total * reciprocal(tf.maximum(tf.reduce_sum(membership, axis=1, keepdims=True), 1.0))
    if self.reduce == "mean":
      return mean
    peak = tf.reduce_max(membership[:, :, None] * node_states[None, :, :], axis=1)
    return peak if self.reduce == "max" else tf.concat([mean, peak], axis=-1)

  def get_config(self):
    return dict(super().get_config(), reduce=self.reduce)
