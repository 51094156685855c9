"""BinaryLinear: a (binary) linear map over node or edge states that LCE lowers to LceBconv2d."""
from __future__ import annotations

import math
from typing import Optional

from edgegnn import _keras_env  # noqa: F401
import larq as lq
import tensorflow as tf

from edgegnn.binary import quantizers
from edgegnn.layers import _serialization

REAL_INPUTS = ("tanh", "identity")


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class BinaryLinear(tf.keras.layers.Layer):
  r"""Linear map over the last axis with learned per-channel scale (XNOR-Net++ style):

    h = BN(x - c)                   if input_norm, else x - c   (c = input_offset)
    y = (q_x(h) (*) q_W(W)) . Gamma + b
    y = BN'(y)                      if output_norm

  where (*) is the matrix product over channels, `Gamma` [units] the learned scale
  ("A (*) B ~ (sign A (*) sign B) . Gamma") and, by `precision`:

    float:           q_x(h) = r(h),     q_W(W) = W
    binary_weights:  q_x(h) = r(h),     q_W(W) = sign(W)
    binary:          q_x(h) = sign(h),  q_W(W) = sign(W)   (XNOR + popcount on device)

  r is the real stand-in for sign in the non-binary precisions: tanh (the default,
  Bahri et al.'s pseudo-quantiser, so weights carry over to the binary model) or identity.

  sign(v) = +1 if v >= 0 else -1, with a straight-through gradient (see
  `edgegnn.binary.quantizers`); binary kernels are clipped to [-1, 1] after each step.

  States of any rank [..., C] are viewed as an NHWC tensor [1, R, 1, C] (R = product of
  the leading dims) and multiplied by a 1x1 `larq.layers.QuantConv2D`: the LCE converter
  lowers exactly this form to `LceBconv2d` (a `QuantDense` would stay a float
  FULLY_CONNECTED). In float precision it converts to a plain CONV_2D.

  Gamma starts at 1/sqrt(C) for binary kernels (a +-1 dot product of C terms has variance
  C) and at 1 for float kernels.

  Args:
    units: output channels.
    precision: "float", "binary_weights" or "binary".
    input_norm: batch-normalises x before the (sign of the) product: sign(BN(x)).
    input_offset: c, a fixed shift of x (0.5 with input_norm=False binarises 0/1 features
      as sign(x - 0.5) = 2x - 1 without storing per-feature BN parameters).
    use_scale: learns Gamma (else Gamma = 1).
    use_bias: adds b.
    quantizer: sign quantizer alias (ste_sign, approx_sign, swish_sign).
    real_inputs: r above: "tanh" or "identity".
    output_norm: batch-normalises y (the "Norm" of x' = Norm((sign W (*) h) . Gamma)).
      On +-1 codes of sparse 0/1 features most terms of every row are "absent" (-1); the
      normalisation removes that common offset, without which training does not start.
      LCE folds it into LceBconv2d's output multiplier and bias.
    norm_momentum: momentum of the normalisations' moving statistics. 0.9 (not Keras'
      0.99): sign(BN(.)) thresholds move with every flipped weight sign, and inference
      uses the moving statistics, so they must follow the current weights closely.
  """

  def __init__(self, units: int, precision: str = "binary", input_norm: bool = True,
               use_scale: bool = True, use_bias: bool = False, quantizer: str = "ste_sign",
               real_inputs: str = "tanh", input_offset: float = 0.0,
               output_norm: bool = False, norm_momentum: float = 0.9, **kwargs):
    super().__init__(**kwargs)
    self.units = _serialization.check_units("units", units)
    self.precision = quantizers.check_precision(precision)
    quantizers.get(quantizer)
    self.quantizer = quantizer
    if real_inputs not in REAL_INPUTS:
      raise ValueError(f"Unknown real_inputs {real_inputs!r}; expected one of "
                       f"{', '.join(REAL_INPUTS)}.")
    self.real_inputs = real_inputs
    self.input_norm = bool(input_norm)
    self.input_offset = float(input_offset)
    self.use_scale = bool(use_scale)
    self.use_bias = bool(use_bias)
    binary_kernel = precision != "float"
    if not 0.0 <= norm_momentum < 1.0:
      raise ValueError(f"norm_momentum must be in [0, 1), got {norm_momentum}.")
    self.norm_momentum = float(norm_momentum)
    self.norm = (tf.keras.layers.BatchNormalization(momentum=norm_momentum, name="input_norm")
                 if input_norm else None)
    self.output_norm = bool(output_norm)
    self.out_norm = (tf.keras.layers.BatchNormalization(momentum=norm_momentum,
                                                        name="output_norm")
                     if output_norm else None)
    self.conv = lq.layers.QuantConv2D(
        units, 1, use_bias=False,
        input_quantizer=quantizers.get(quantizer) if precision == "binary" else None,
        kernel_quantizer=quantizers.get(quantizer) if binary_kernel else None,
        kernel_constraint=lq.constraints.WeightClip(1.0) if binary_kernel else None,
        name="conv")
    self.rows: Optional[int] = None  # Rows of the last call with static shapes (for MACs).

  @property
  def binary_kernel(self) -> bool:
    return self.precision != "float"

  @property
  def binary_inputs(self) -> bool:
    return self.precision == "binary"

  def build(self, input_shape):
    channels = int(input_shape[-1])
    self.channels = channels
    if self.norm is not None:
      self.norm.build(input_shape)
    self.conv.build([1, None, 1, channels])
    if self.out_norm is not None:
      self.out_norm.build([1, None, 1, self.units])
    start = 1.0 / math.sqrt(channels) if self.binary_kernel else 1.0
    if self.use_scale:
      self.scale = self.add_weight(name="scale", shape=[self.units],
                                   initializer=tf.keras.initializers.Constant(start))
    else:
      self.scale = None
    if self.use_bias:
      self.bias = self.add_weight(name="bias", shape=[self.units], initializer="zeros")
    super().build(input_shape)

  def call(self, x, training=None):
    if x.shape[:-1].is_fully_defined():
      self.rows = int(math.prod(x.shape[:-1]))
    h = x - self.input_offset if self.input_offset else x
    h = self.norm(h, training=training) if self.norm is not None else h
    if not self.binary_inputs and self.real_inputs == "tanh":
      h = tf.tanh(h)
    view = tf.reshape(h, [1, -1, 1, self.channels])
    y = self.conv(view)
    if self.scale is not None:
      y = y * self.scale
    if self.use_bias:
      y = y + self.bias
    if self.out_norm is not None:
      y = self.out_norm(y, training=training)
    if x.shape[:-1].is_fully_defined():
      return tf.reshape(y, list(x.shape[:-1]) + [self.units])
    return tf.reshape(y, tf.concat([tf.shape(x)[:-1], [self.units]], 0))

  def get_config(self):
    return dict(super().get_config(), units=self.units, precision=self.precision,
                input_norm=self.input_norm, use_scale=self.use_scale, use_bias=self.use_bias,
                quantizer=self.quantizer, real_inputs=self.real_inputs,
                input_offset=self.input_offset, output_norm=self.output_norm,
                norm_momentum=self.norm_momentum)
