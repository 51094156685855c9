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


def test_train_option_reestimates_from_the_training_graphs_after_training():
  from edgegnn import data
  from edgegnn.models import ModelSpec, feeds
  from edgegnn.training import TrainConfig, make_task, train
  mutag = data.load("mutag")
  spec = ModelSpec("gin", hidden_units=8, num_layers=2)
  config = TrainConfig(epochs=2, batch_size=64, reestimate_batch_norm=True)
  result = train(spec, mutag, config, progress=False)
  assert result.metrics["batch_norm_reestimated"] == 4  # 2 GIN layers x (MLP BN + output BN)
  norms = [l for l in result.model.submodules if isinstance(l, tf.keras.layers.BatchNormalization)]
  kept = [(n.moving_mean.numpy(), n.moving_variance.numpy()) for n in norms]
  # The same statistics again from the fold's training graphs in the same fixed order.
  task = make_task(mutag, 0)
  names = feeds.model_input_names(result.model)
  reestimate_batch_norm(result.model, (feeds.select(f, names) for f, _ in
                                       task.batches(task.split("train"), 64)))
  for n, (mean, variance) in zip(norms, kept):
    np.testing.assert_allclose(n.moving_mean.numpy(), mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(n.moving_variance.numpy(), variance, rtol=1e-5, atol=1e-6)
  plain = train(spec, mutag, TrainConfig(epochs=2, batch_size=64), progress=False)
  assert "batch_norm_reestimated" not in plain.metrics
