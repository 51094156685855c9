"""GATConv: golden outputs against the numpy attention reference."""
import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import numpy as np
import pytest
import tensorflow as tf

from edgegnn import layers as gl

from .common import (GRAPH, N, X, assert_close, layout_inputs, ref_message_passing,
                     reference_adjacency, set_attention_weights)


@pytest.mark.parametrize("layout", ["sparse", "dense"])
@pytest.mark.parametrize("heads,concat,activation", [(1, True, "none"), (2, True, "elu"),
                                                     (3, False, "relu")])
def test_gat_conv_golden(layout, heads, concat, activation):
  rng = np.random.default_rng(4)
  conv = gl.GATConv(2, num_heads=heads, concat_heads=concat, activation=activation)
  graph = layout_inputs(GRAPH)[layout]
  conv((X, graph))
  w, vectors, bias = set_attention_weights(conv, rng)
  assert set(vectors) == {"target", "source"}
  expected = ref_message_passing("gat", X, reference_adjacency(GRAPH), w, vectors, bias, heads, 2,
                                 activation, concat)
  result = conv((X, graph))
  assert result.shape == (N, heads * 2 if concat else 2)
  assert_close(result, expected)
