"""Edge attention coefficients by string alias (the LPGNAS / GraphNAS search space).

Each kind maps per-head node states z [N, H, C] to coefficients e_ts per edge s -> t
and head. Kinds marked *softmax* are normalised over the incoming edges of t:
alpha_ts = exp(e_ts) / sum_{s' -> t} exp(e_ts'); the others are used as they are.

| alias | e_ts | softmax |
|---|---|---|
| const | 1 | no |
| gcn | 1 / sqrt(d_t d_s)  (d = in-degree incl. the self-loop) | no |
| gat | LeakyReLU_0.2(a_t . z_t + a_s . z_s) | yes |
| sym-gat | e^gat_ts + e^gat_st | yes |
| cos | sum_c (a_t * z_t)_c (a_s * z_s)_c | yes |
| linear | tanh(a_s . z_s) | yes |
| gene-linear | g . tanh(a_t * z_t + a_s * z_s) | yes |

`a_t`, `a_s` are [H, C] learned vectors, `g` is [H, C]. `get(name, ...)` is the one place
aliases resolve and rejects unknown names.
"""
from __future__ import annotations

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.layers.structure import Structure

ATTENTIONS = ("const", "gcn", "gat", "sym-gat", "cos", "linear", "gene-linear")
_SOFTMAX = {"gat", "sym-gat", "cos", "linear", "gene-linear"}


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class EdgeAttention(tf.keras.layers.Layer):
  """Computes attention coefficients of one kind (see the module docstring).

  Call with `(z, structure)`: z [N, H, C] per-head node states and a `Structure`.
  Returns edge coefficients ([E, H] sparse, [N, N, H] dense), softmax-normalised when the
  kind requires it.
  """

  def __init__(self, kind: str, negative_slope: float = 0.2, **kwargs):
    super().__init__(**kwargs)
    if kind not in ATTENTIONS:
      raise ValueError(f"Unknown attention {kind!r}; expected one of {', '.join(ATTENTIONS)}.")
    self.kind = kind
    self.negative_slope = negative_slope

  @property
  def normalized(self) -> bool:
    return self.kind in _SOFTMAX

  def build(self, input_shape):
    heads, channels = int(input_shape[-2]), int(input_shape[-1])
    if self.kind in ("gat", "sym-gat", "cos", "gene-linear"):
      self.target_vector = self.add_weight(name="target_vector", shape=[heads, channels],
                                           initializer="glorot_uniform")
    if self.kind in ("gat", "sym-gat", "cos", "linear", "gene-linear"):
      self.source_vector = self.add_weight(name="source_vector", shape=[heads, channels],
                                           initializer="glorot_uniform")
    if self.kind == "gene-linear":
      self.general_vector = self.add_weight(name="general_vector", shape=[heads, channels],
                                            initializer="glorot_uniform")
    super().build(input_shape)

  def call(self, z: tf.Tensor, structure: Structure) -> tf.Tensor:
    kind = self.kind
    if kind == "const":
      return structure.source_values(tf.ones_like(z[..., 0]))
    if kind == "gcn":
      norm = tf.expand_dims(structure.degree_function(
          lambda degree: tf.math.rsqrt(tf.maximum(degree, 1.0))), 1)
      return structure.target_values(norm) * structure.source_values(norm)
    if kind in ("gat", "sym-gat"):
      score_t = tf.reduce_sum(z * self.target_vector, -1)   # [N, H]
      score_s = tf.reduce_sum(z * self.source_vector, -1)
      logits = tf.nn.leaky_relu(structure.target_values(score_t) +
                                structure.source_values(score_s), self.negative_slope)
      if kind == "sym-gat":
        logits += tf.nn.leaky_relu(structure.target_values(score_s) +
                                   structure.source_values(score_t), self.negative_slope)
    elif kind == "cos":
      logits = tf.reduce_sum(structure.target_values(z * self.target_vector) *
                             structure.source_values(z * self.source_vector), -1)
    elif kind == "linear":
      logits = structure.source_values(tf.tanh(tf.reduce_sum(z * self.source_vector, -1)))
    else:  # gene-linear
      mixed = tf.tanh(structure.target_values(z * self.target_vector) +
                      structure.source_values(z * self.source_vector))
      logits = tf.reduce_sum(mixed * self.general_vector, -1)
    return structure.softmax_at_target(logits)

  def get_config(self):
    return dict(super().get_config(), kind=self.kind, negative_slope=self.negative_slope)


def get(kind: str, **kwargs) -> EdgeAttention:
  """Returns an `EdgeAttention` layer for the alias `kind`; rejects unknown names."""
  return EdgeAttention(kind, **kwargs)
