"""SAGEConv: golden outputs and injected transforms."""
import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import numpy as np
import pytest
import tensorflow as tf

from edgegnn import layers as gl

from .common import (F, GRAPH, X, assert_close, constant_dense, layout_inputs, ref_sage,
                     reference_adjacency)


@pytest.mark.parametrize("layout", ["sparse", "dense"])
@pytest.mark.parametrize("activation,normalize", [("none", False), ("elu", True)])
def test_sage_conv_golden(layout, activation, normalize):
  rng = np.random.default_rng(2)
  w_self, w_neigh, b = rng.normal(size=(F, 4)), rng.normal(size=(F, 4)), rng.normal(size=4)
  conv = gl.SAGEConv(4, activation=activation, normalize=normalize)
  graph = layout_inputs(GRAPH)[layout]
  conv((X, graph))
  conv.self_transform.kernel.assign(w_self)
  conv.neighbor_transform.kernel.assign(w_neigh)
  conv.bias.assign(b)
  expected = ref_sage(X, reference_adjacency(GRAPH), w_self, w_neigh, b, activation, normalize)
  assert_close(conv((X, graph)), expected)


def test_sage_conv_uses_injected_transforms():
  rng = np.random.default_rng(11)
  k_self, k_neigh = rng.normal(size=(F, 2)), rng.normal(size=(F, 2))
  conv = gl.SAGEConv(2, use_bias=False, self_transform=constant_dense(2, k_self),
                     neighbor_transform=constant_dense(2, k_neigh, bias=[1.0, -2.0]))
  result = conv((X, GRAPH.to_graph_tensor()))
  # The neighbour bias is averaged with the messages: isolated node 4 gets none of it.
  a = reference_adjacency(GRAPH)
  neigh = (a @ (X @ k_neigh + [1.0, -2.0])) / np.maximum(a.sum(1), 1.0)[:, None]
  assert_close(result, X @ k_self + neigh)
