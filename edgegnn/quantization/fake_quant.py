"""Fake-quantization of activations and weights, as ops the TFLite converter lowers to int8.

Every quantizer is `tf.quantization.fake_quant_with_min_max_vars` (the op tfmot's
quantizers emit), so a quantization-aware model converts with the stock converter to a
full-integer `.tflite` whose ranges are the ones learned in training.

Forward, with range [lo, hi] nudged so that 0 is representable and b bits:

    s = (hi - lo) / (2^b - 1),   FQ(x) = s * round((clip(x, lo, hi) - lo) / s) + lo

Straight-through gradient (zero outside the clipping range, as Degree-Quant requires):

    dFQ/dx = 1 if lo <= x <= hi else 0
"""
from __future__ import annotations

from typing import Optional

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

RANGE_TRACKING = ("minmax", "percentile")


def _check_bits(bits: Optional[int], what: str) -> Optional[int]:
  """bits in 2..8, or None: not quantized (a float layer of a mixed-precision model)."""
  if bits is None:
    return None
  if not isinstance(bits, int) or isinstance(bits, bool) or not 2 <= bits <= 8:
    raise ValueError(f"{what} must be an integer in [2, 8] (or None: float), got {bits!r}.")
  return bits


def fake_quant(x: tf.Tensor, lo: tf.Tensor, hi: tf.Tensor, bits: int,
               narrow_range: bool = False) -> tf.Tensor:
  """FQ(x) on [lo, hi] with b bits (see module docstring), STE gradient."""
  return tf.quantization.fake_quant_with_min_max_vars(x, lo, hi, num_bits=bits,
                                                      narrow_range=narrow_range)


def _sample(x: tf.Tensor, limit: int = 65536) -> tf.Tensor:
  """A strided sample of at most `limit` entries (percentiles of huge inputs stay cheap)."""
  flat = tf.reshape(x, [-1])
  stride = tf.maximum(tf.size(flat) // limit, 1)
  return tf.reshape(flat[::stride], [-1])  # rank 1 even when x's rank is unknown


def percentile(x: tf.Tensor, q: float) -> tf.Tensor:
  """The q-th percentile (0 <= q <= 100) of x's non-zero entries, nearest rank (0 if none).

  Zeros are left out: 0 is always on the quantization grid, and in sparse inputs (Cora's
  bag-of-words: 98.7 % zeros) or after ReLU they would pull both percentiles to 0 and
  collapse the range.
  """
  sample = _sample(x)
  values = tf.sort(tf.concat([tf.boolean_mask(sample, tf.not_equal(sample, 0.0)), [0.0]], 0))
  count = tf.cast(tf.size(values), tf.float32)
  index = tf.cast(tf.round(q / 100.0 * (count - 1.0)), tf.int32)
  return values[index]


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class ActivationQuantizer(tf.keras.layers.Layer):
  r"""Fake-quantizes node-level activations with tracked ranges and an optional mask.

  Range tracking, during training (and calibration), with momentum m:

    minmax:     lo <- m lo + (1 - m) min(x),          hi <- m hi + (1 - m) max(x)
    percentile: lo <- m lo + (1 - m) P_q(x),          hi <- m hi + (1 - m) P_{100-q}(x)

  (P over the non-zero entries, see `percentile`)
  (the first batch sets the range directly; the range always contains 0). Degree-Quant's protective mask keeps the
  rows i with protect_i = 1 at full precision during training:

    y_i = x_i if protect_i else FQ(x_i)

  At evaluation and in exported models every row is quantized.

  Args:
    bits: b, 2..8; None passes x through unquantized (ranges are still tracked, so a
      float layer of a mixed-precision model keeps the same variables).
    range_tracking: "minmax" (plain QAT) or "percentile" (Degree-Quant).
    percentile: q for "percentile" (0.1 at INT8, 1.0 at INT4 in the paper).
    momentum: m.
  """

  def __init__(self, bits: Optional[int] = 8, range_tracking: str = "minmax",
               percentile: float = 0.1, momentum: float = 0.9, **kwargs):
    super().__init__(**kwargs)
    self.bits = _check_bits(bits, "bits")
    if range_tracking not in RANGE_TRACKING:
      raise ValueError(f"Unknown range_tracking {range_tracking!r}; expected one of "
                       f"{', '.join(RANGE_TRACKING)}.")
    self.range_tracking = range_tracking
    if not 0.0 <= percentile < 50.0:
      raise ValueError(f"percentile must be in [0, 50), got {percentile}.")
    self.percentile = float(percentile)
    if not 0.0 <= momentum < 1.0:
      raise ValueError(f"momentum must be in [0, 1), got {momentum}.")
    self.momentum = float(momentum)
    self.calibrating = False  # set by `calibrate()` for post-training quantization

  def build(self, input_shape):
    zeros = tf.keras.initializers.Zeros()
    self.lo = self.add_weight(name="range_min", shape=[], initializer=zeros, trainable=False)
    self.hi = self.add_weight(name="range_max", shape=[], initializer=zeros, trainable=False)
    self.seen = self.add_weight(name="batches_seen", shape=[], initializer=zeros,
                                trainable=False)
    super().build(input_shape)

  def _observe(self, x: tf.Tensor) -> None:
    x = tf.stop_gradient(x)
    if self.range_tracking == "minmax":
      lo, hi = tf.reduce_min(x), tf.reduce_max(x)
    else:
      lo, hi = percentile(x, self.percentile), percentile(x, 100.0 - self.percentile)
    # The range always contains 0 (exactly representable, as int8 zero points need) and is
    # never empty: a constant tensor (one-hot features: all non-zeros are 1) would give
    # lo = hi and a zero quantization step.
    lo = tf.minimum(lo, 0.0)
    hi = tf.maximum(hi, lo + 1e-6)
    m = tf.where(self.seen > 0, self.momentum, 0.0)
    self.lo.assign(m * self.lo + (1.0 - m) * lo)
    self.hi.assign(m * self.hi + (1.0 - m) * hi)
    self.seen.assign_add(1.0)

  def call(self, x, protect: Optional[tf.Tensor] = None, training=None):
    if training or self.calibrating:
      self._observe(x)
    if self.bits is None:
      return x
    quantized = fake_quant(x, self.lo, self.hi, self.bits)
    if training and protect is not None:
      keep = tf.reshape(tf.cast(protect, tf.bool), [-1] + [1] * (len(x.shape) - 1))
      return tf.where(keep, x, quantized)
    return quantized

  def get_config(self):
    return dict(super().get_config(), bits=self.bits, range_tracking=self.range_tracking,
                percentile=self.percentile, momentum=self.momentum)


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class QuantDense(tf.keras.layers.Dense):
  r"""A Dense layer whose kernel is always fake-quantized, symmetric per tensor:

    W_q = FQ(W; -max|W|, max|W|, b, narrow range),   y = x W_q (+ bias)

  The bias stays float (TFLite stores it as int32 at scale s_x * s_W). Weights are
  quantized on every forward pass, training or not, so all uses share the quantized
  weights. Injected as the `transform` of a message-passing layer.

  Quant-Noise (Fan et al., 2020) with rate p = `noise_rate` > 0: in a training step each
  input row W[i, :] is quantized with probability p and left float otherwise,

    W_used[i, :] = W_q[i, :] if u_i < p else W[i, :],   u_i ~ U(0, 1) per step,

  so the float rows see exact gradients and the network learns to tolerate the quantized
  ones; at inference every row is quantized (p = 1).

  Args:
    units: output channels.
    weight_bits: b, 2..8; None keeps the kernel float (a float layer of a mixed-precision
      model, `edgegnn.quantization.layer_precision`).
    noise_rate: Quant-Noise's p in [0, 1); 0 quantizes every weight in every step.
    Other arguments: those of `tf.keras.layers.Dense`.
  """

  def __init__(self, units: int, weight_bits: Optional[int] = 8, noise_rate: float = 0.0,
               **kwargs):
    super().__init__(units, **kwargs)
    self.weight_bits = _check_bits(weight_bits, "weight_bits")
    if not 0.0 <= noise_rate < 1.0:
      raise ValueError(f"noise_rate must be in [0, 1), got {noise_rate!r}.")
    self.noise_rate = float(noise_rate)

  def call(self, inputs, training=None):
    if self.weight_bits is None:
      return super().call(inputs)
    bound = tf.stop_gradient(tf.reduce_max(tf.abs(self.kernel)))
    kernel = fake_quant(self.kernel, -bound, bound, self.weight_bits, narrow_range=True)
    if self.noise_rate and training:
      rows = tf.random.uniform([tf.shape(self.kernel)[0], 1]) < self.noise_rate
      kernel = tf.where(rows, kernel, self.kernel)
    outputs = tf.matmul(inputs, kernel)
    if self.use_bias:
      outputs = tf.nn.bias_add(outputs, self.bias)
    return self.activation(outputs) if self.activation is not None else outputs

  def get_config(self):
    return dict(super().get_config(), weight_bits=self.weight_bits,
                noise_rate=self.noise_rate)
