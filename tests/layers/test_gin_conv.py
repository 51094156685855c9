"""GINConv: golden outputs with fixed and learned eps."""
import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import numpy as np
import pytest
import tensorflow as tf

from edgegnn import layers as gl

from .common import (F, GRAPH, X, assert_close, layout_inputs, ref_gin, reference_adjacency)


@pytest.mark.parametrize("layout", ["sparse", "dense"])
@pytest.mark.parametrize("epsilon,learn", [(0.0, False), (0.25, True), (-0.5, False)])
def test_gin_conv_golden(layout, epsilon, learn):
  rng = np.random.default_rng(3)
  kernel, bias = rng.normal(size=(F, 2)), rng.normal(size=2)
  mlp = tf.keras.layers.Dense(2, kernel_initializer=tf.keras.initializers.Constant(kernel),
                              bias_initializer=tf.keras.initializers.Constant(bias))
  conv = gl.GINConv(2, mlp=mlp, epsilon=epsilon, learn_epsilon=learn)
  result = conv((X, layout_inputs(GRAPH)[layout]))
  assert conv.mlp is mlp
  assert conv.epsilon.trainable == learn
  assert len(conv.trainable_weights) == 2 + int(learn)
  assert_close(result, ref_gin(X, reference_adjacency(GRAPH), epsilon, kernel, bias))
