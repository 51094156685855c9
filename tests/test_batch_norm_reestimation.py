"""BatchNorm re-estimation: population statistics from batch statistics, nothing else changes."""
import numpy as np
import pytest

from edgegnn import quantization as qz
from edgegnn.training.batch_norm import reestimate_batch_norm
import tensorflow as tf


def _model():
  x = tf.keras.Input([2], name="x")
  h = qz.ActivationQuantizer(8, "minmax", name="quantizer")(x)
  h = tf.keras.layers.Dropout(0.5, name="dropout")(h)
  h = tf.keras.layers.BatchNormalization(name="norm")(h)
  return tf.keras.Model(x, h)


def test_moving_statistics_become_the_mean_of_batch_statistics():
  model = _model()
  quantizer = model.get_layer("quantizer")
  quantizer.lo.assign(-4.0)
  quantizer.hi.assign(4.0)
  quantizer.seen.assign(7.0)
  a = np.array([[0.0, 1.0], [2.0, 3.0]], np.float32)
  b = np.array([[1.0, -1.0], [1.0, 3.0], [4.0, 0.0]], np.float32)
  assert reestimate_batch_norm(model, [{"x": a}, {"x": b}]) == 1
  norm = model.get_layer("norm")
  # 8-bit grid on [-4, 4] holds these values to within 1/64; no dropout (else means x2)
  np.testing.assert_allclose(norm.moving_mean.numpy(), (a.mean(0) + b.mean(0)) / 2, atol=0.02)
  np.testing.assert_allclose(norm.moving_variance.numpy(), (a.var(0) + b.var(0)) / 2, atol=0.05)
  assert norm.momentum == pytest.approx(0.99)
  assert model.get_layer("dropout").rate == 0.5
  assert (float(quantizer.lo), float(quantizer.hi), float(quantizer.seen)) == (-4.0, 4.0, 7.0)


def test_models_without_batch_norm_are_left_alone_and_no_feeds_is_an_error():
  x = tf.keras.Input([2])
  assert reestimate_batch_norm(tf.keras.Model(x, tf.keras.layers.Dense(1)(x)), []) == 0
  model = _model()
  before = model.get_layer("norm").moving_variance.numpy()
  with pytest.raises(ValueError, match="no feeds given"):
    reestimate_batch_norm(model, [])
  np.testing.assert_array_equal(model.get_layer("norm").moving_variance.numpy(), before)
