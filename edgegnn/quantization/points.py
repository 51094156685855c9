"""The quantization points of one message-passing layer, injected into it as one sub-layer."""
from __future__ import annotations

from typing import Optional

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.quantization.fake_quant import ActivationQuantizer

POINTS = ("input", "message", "aggregate", "output", "attention")


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class LayerQuantization(tf.keras.layers.Layer):
  r"""Activation quantizers at the places Degree-Quant quantizes a GNN layer.

  | point | tensor |
  |---|---|
  | input | the layer's input node states x |
  | message | the transformed states x W that become messages |
  | aggregate | the aggregated messages (where high in-degree nodes hurt most) |
  | output | the updated node state |
  | attention | attention coefficients alpha (GAT / MessagePassing; never masked) |

  Each active point is an `ActivationQuantizer` with its own range; inactive points pass
  their tensor through. A layer after a quantized layer leaves "input" inactive: its input
  is already the previous layer's quantized output, and two fake-quant ops with different
  ranges on one tensor break the converter's same-scale rule. A layer calls
  `quantization(x, point=..., protect=mask)`; protected rows skip quantization in
  training (see `ProtectiveMask`).

  Args:
    bits: activation bits (None: every point passes its tensor through, float).
    range_tracking: "minmax" or "percentile".
    percentile: lower percentile of "percentile" tracking.
    momentum: range momentum.
    points: the active points (default: all).
  """

  def __init__(self, bits: int = 8, range_tracking: str = "minmax", percentile: float = 0.1,
               momentum: float = 0.9, points=POINTS, **kwargs):
    super().__init__(**kwargs)
    unknown = sorted(set(points) - set(POINTS))
    if unknown:
      raise ValueError(f"Unknown quantization points {unknown}; expected some of {POINTS}.")
    self.points = tuple(p for p in POINTS if p in points)
    self.options = dict(bits=bits, range_tracking=range_tracking, percentile=percentile,
                        momentum=momentum)
    self.quantizers = {point: ActivationQuantizer(name=point, **self.options)
                       for point in self.points}

  def build(self, input_shape):
    for quantizer in self.quantizers.values():  # unused points too: a stable weight list
      if not quantizer.built:
        with tf.name_scope(quantizer.name):  # unique variable names (h5 weights files)
          quantizer.build(tf.TensorShape(None))
    super().build(input_shape)

  def set_bits(self, bits: Optional[int]) -> None:
    """Sets every point's activation bits (None: this layer's activations stay float)."""
    self.options["bits"] = bits
    for quantizer in self.quantizers.values():
      quantizer.bits = bits

  def call(self, x, point: str = "output", protect: Optional[tf.Tensor] = None, training=None):
    if point not in POINTS:
      raise ValueError(f"Unknown quantization point {point!r}; expected one of {POINTS}.")
    if point not in self.quantizers:
      return x
    if point == "attention":
      protect = None
    return self.quantizers[point](x, protect=protect, training=training)

  def get_config(self):
    return dict(super().get_config(), points=list(self.points), **self.options)
