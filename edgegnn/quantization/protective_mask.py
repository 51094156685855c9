"""Degree-Quant's protective mask: high in-degree nodes stay at full precision in training."""
from __future__ import annotations

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.layers.structure import structure_of


def protection_probability(in_degree: tf.Tensor, p_min: float, p_max: float) -> tf.Tensor:
  """p_i = p_min + (p_max - p_min) * CDF(d_i), CDF the empirical CDF of the degrees given.

  CDF(d) = |{j : d_j <= d}| / N.
  """
  ordered = tf.sort(in_degree)
  count = tf.cast(tf.size(in_degree), tf.float32)
  cdf = tf.cast(tf.searchsorted(ordered, in_degree, side="right"), tf.float32) / count
  return p_min + (p_max - p_min) * cdf


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class ProtectiveMask(tf.keras.layers.Layer):
  r"""The Bernoulli mask of Degree-Quant (Tailor et al., ICLR 2021).

  In training, every node i is protected (kept at full precision by the quantizers of
  every layer of this forward pass) with probability

    p_i = p_min + (p_max - p_min) * CDF(in-degree of i)

  over the empirical CDF of in-degrees of the graph (of the batch, for merged graph
  batches): mask_i ~ Bernoulli(p_i). At evaluation the mask is all zeros: nothing is
  protected, and exported models contain no mask at all.

  Call with the `graph` input of the message-passing layers (any layout).

  Args:
    p_min, p_max: 0 <= p_min <= p_max <= 1 (INT8: 0.0, 0.1; INT4: 0.1, 0.2 in the paper).
    seed: optional seed of the Bernoulli draws.
  """

  def __init__(self, p_min: float = 0.0, p_max: float = 0.1, seed=None, **kwargs):
    super().__init__(**kwargs)
    if not 0.0 <= p_min <= p_max <= 1.0:
      raise ValueError(f"Need 0 <= p_min <= p_max <= 1, got p_min={p_min}, p_max={p_max}.")
    self.p_min, self.p_max, self.seed = float(p_min), float(p_max), seed

  def call(self, graph, training=None):
    degree = structure_of(graph).in_degree()
    if not training:
      return tf.zeros_like(degree)
    p = protection_probability(degree, self.p_min, self.p_max)
    draws = tf.random.uniform(tf.shape(degree), seed=self.seed)
    return tf.cast(draws < p, tf.float32)

  def get_config(self):
    return dict(super().get_config(), p_min=self.p_min, p_max=self.p_max, seed=self.seed)
