"""BinEdgeConv and XorEdgeConv: the binary EdgeConv operators of Bahri et al. (CVPR 2021)."""
from __future__ import annotations

from typing import Optional

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.binary import knn, quantizers
from edgegnn.binary.linear import BinaryLinear
from edgegnn.layers import _serialization
from edgegnn.layers import activations


def _max_over_neighbors(messages: tf.Tensor, valid: tf.Tensor) -> tf.Tensor:
  """max_{j valid} m_ij; rows without a valid slot (padding) give 0."""
  valid = tf.expand_dims(valid, -1)
  pooled = tf.reduce_max(messages * valid - 1e4 * (1.0 - valid), axis=1)
  return pooled * tf.reduce_max(valid, axis=1)


# The edge rule of each operator: its edge features and its default transform's options.
_EDGE_FEATURES = {
    "sub": lambda center, neighbor: tf.concat([center, neighbor - center], -1),
    "xor": lambda center, neighbor: tf.concat([center, -neighbor * center], -1),
}
_TRANSFORM_OPTIONS = {
    "sub": dict(input_norm=True),                            # sign(BN(e)) binarises e
    "xor": dict(input_norm=False, real_inputs="identity"),   # e is already +-1
}


class _BinaryEdgeConvBase(tf.keras.layers.Layer):
  """Shared k-NN / gather / transform / max / output-sign machinery; the subclass picks
  its edge rule by `edge_op` ("sub" or "xor")."""

  edge_op = "sub"

  def __init__(self, units: int, k: int = 8, precision: str = "binary",
               metric: str = "euclidean", activation: Optional[str] = "none",
               output_sign: bool = False, quantizer: str = "ste_sign",
               transform: Optional[tf.keras.layers.Layer] = None, **kwargs):
    super().__init__(**kwargs)
    self.units = _serialization.check_units("units", units)
    self.k = _serialization.check_units("k", k)
    self.precision = quantizers.check_precision(precision)
    self.metric = knn.check_metric(metric)
    activations.get(activation)
    self.activation = activation
    self.output_sign = bool(output_sign)
    quantizers.get(quantizer)
    self.quantizer = quantizer
    self.transform = _serialization.deserialize(transform) or self._default_transform()
    self.output_norm = (tf.keras.layers.BatchNormalization(momentum=0.9, name="output_norm")
                        if self.output_sign else None)

  def _default_transform(self) -> tf.keras.layers.Layer:
    return BinaryLinear(self.units, precision=self.precision, quantizer=self.quantizer,
                        name="transform", **_TRANSFORM_OPTIONS[self.edge_op])

  def _edge_features(self, center: tf.Tensor, neighbor: tf.Tensor) -> tf.Tensor:
    return _EDGE_FEATURES[self.edge_op](center, neighbor)

  def call(self, inputs, training=None):
    node_states, candidates = inputs
    neighbors, valid = knn.knn_neighbors(node_states, candidates, self.k, self.metric)
    neighbor_states = tf.gather(node_states, neighbors)              # [N, k, F]
    center = tf.broadcast_to(tf.expand_dims(node_states, 1), tf.shape(neighbor_states))
    edges = self._edge_features(center, neighbor_states)             # [N, k, 2F]
    messages = activations.get(self.activation)(self.transform(edges, training=training))
    pooled = _max_over_neighbors(messages, valid)
    if not self.output_sign:
      return pooled
    signed = quantizers.node_sign(self.output_norm(pooled, training=training),
                                  self.precision, self.quantizer)
    return signed * tf.reduce_max(valid, axis=1, keepdims=True)

  def get_config(self):
    return dict(super().get_config(), units=self.units, k=self.k, precision=self.precision,
                metric=self.metric, activation=self.activation, output_sign=self.output_sign,
                quantizer=self.quantizer, transform=_serialization.serialize(self.transform))


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class BinEdgeConv(_BinaryEdgeConvBase):
  r"""Binary EdgeConv with real-valued node states (Bahri et al.'s BinEdgeConv):

    N_k(i) = k-NN of x_i among the candidates (`edgegnn.binary.knn`, euclidean or hamming)
    e_ij   = [x_i || x_j - x_i]
    m_ij   = act( (sign(BN(e_ij)) (*) sign(W)) . Gamma )        (a `BinaryLinear`)
    x'_i   = max_{j in N_k(i)} m_ij,            or sign(BN(x'_i)) if output_sign

  The sign(BN(.)) before the product binarises the edge features; `precision` chooses
  which of sign(W), sign(BN(e)) are taken (see `BinaryLinear`; tanh stands in for sign in
  the non-binary precisions). Call with `(node_states [N, F], candidates [N, N])`.
  Padding rows (no candidate) output 0.

  Args:
    units: output channels.
    k: neighbours per node.
    precision: float, binary_weights or binary (a first layer on raw coordinates uses
      binary_weights: signs of raw xyz would discard the geometry).
    metric: k-NN distance: euclidean or hamming.
    activation: alias applied to the messages before the max.
    output_sign: returns sign(BN(x')) (binary node states, the input XorEdgeConv needs).
    quantizer: sign quantizer alias.
    transform: injected map of the [.., 2F] edge features; default
      `BinaryLinear(units, precision, input_norm=True)`.
  """

  edge_op = "sub"


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class XorEdgeConv(_BinaryEdgeConvBase):
  r"""EdgeConv on binary node states with XOR edge features (Bahri et al.'s XorEdgeConv):

    x_i in {-1, +1}^F
    N_k(i) = k-NN of x_i by Hamming distance H_ij = (F - <x_i, x_j>) / 2 (default)
    e_ij   = [x_i || -x_j . x_i]          (-x_j x_i = +1 iff the bits differ: XOR)
    m_ij   = act( (e_ij (*) sign(W)) . Gamma )                  (a `BinaryLinear`, no BN:
                                                                 e_ij is already +-1)
    x'_i   = sign( BN( max_{j in N_k(i)} m_ij ) )

  In the non-binary precisions x is tanh-valued and sign is tanh. Call with
  `(node_states [N, F], candidates [N, N])`; padding rows output 0.

  Args: as `BinEdgeConv`, with `metric` defaulting to hamming and `output_sign` fixed to
  True.
  """

  edge_op = "xor"

  def __init__(self, units: int, k: int = 8, precision: str = "binary",
               metric: str = "hamming", **kwargs):
    output_sign = kwargs.pop("output_sign", True)
    if not output_sign:
      raise ValueError("XorEdgeConv always outputs sign(BN(.)) (output_sign=True); use "
                       "BinEdgeConv for real-valued node states.")
    super().__init__(units, k=k, precision=precision, metric=metric, output_sign=True,
                     **kwargs)

