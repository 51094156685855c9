"""Fixtures of the layer tests (inputs and numpy references live in `common`)."""
import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import pytest
import tensorflow as tf


@pytest.fixture(autouse=True)
def _seed():
  """Every layer test starts from the same Keras / numpy / Python seeds."""
  tf.keras.utils.set_random_seed(0)
