"""Quant-Noise (Fan et al., 2020): a random subset of weight rows quantized per training
step, all of them at inference; a qat option only."""
import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import numpy as np
import pytest
import tensorflow as tf

from edgegnn.quantization import QuantizationConfig
from edgegnn.quantization.fake_quant import QuantDense


def _quantized(kernel, bits):
  bound = np.abs(kernel).max()
  levels = 2 ** (bits - 1) - 1          # narrow range, symmetric
  return np.round(kernel / bound * levels) / levels * bound


def _layer(rate, rows=64, units=3, bits=4):
  layer = QuantDense(units, weight_bits=bits, noise_rate=rate, use_bias=False)
  layer.build([None, rows])
  kernel = np.random.default_rng(0).normal(size=(rows, units)).astype(np.float32)
  layer.set_weights([kernel])
  return layer, kernel


def test_inference_quantizes_every_row():
  layer, kernel = _layer(0.5)
  eye = np.eye(64, dtype=np.float32)
  np.testing.assert_allclose(layer(eye, training=False).numpy(), _quantized(kernel, 4),
                             atol=1e-5)


def test_training_quantizes_a_random_subset_of_rows():
  layer, kernel = _layer(0.5)
  eye = np.eye(64, dtype=np.float32)
  tf.random.set_seed(1)
  used = layer(eye, training=True).numpy()          # row i of the output is W_used[i]
  quantized = np.all(np.isclose(used, _quantized(kernel, 4), atol=1e-5), axis=1)
  exact = np.all(np.isclose(used, kernel, atol=1e-6), axis=1)
  assert np.all(quantized | exact)
  assert 10 < quantized.sum() < 54                  # about p * 64 = 32 of 64 rows
  with tf.GradientTape() as tape:
    tape.watch(layer.kernel)
    out = layer(eye, training=True)
  assert np.allclose(tape.gradient(out, layer.kernel).numpy(), 1.0)   # STE or float: 1


@pytest.mark.parametrize("raw, words", [
    (dict(method="dq", quant_noise=0.5), "qat option"),
    (dict(method="qat", quant_noise=1.0), "in \\[0, 1\\)"),
])
def test_quant_noise_settings_checked(raw, words):
  with pytest.raises(ValueError, match=words):
    QuantizationConfig.from_dict(raw)
  assert QuantizationConfig.from_dict(dict(method="qat", quant_noise=0.5,
                                           weight_bits=4, activation_bits=4)).label == \
      "qat-qn0.5-w4a4"
