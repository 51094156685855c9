"""GCNConv: hand-computed and golden outputs, injected transform."""
import math

import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_gnn as tfgnn

from edgegnn import layers as gl
from edgegnn.data import Graph

from .common import (F, GRAPH, NP_ACTIVATIONS, X, assert_close, constant_dense, layout_inputs,
                     ref_gcn, reference_adjacency)


def _two_components():
  """Two components of two nodes each, 0 <-> 1 and 2 <-> 3 (as in TF-GNN's GCN test)."""
  features = tf.constant([[1.0, 0, 0], [0, 1, 0]] * 2)
  return tfgnn.GraphTensor.from_pieces(
      node_sets={"nodes": tfgnn.NodeSet.from_fields(
          sizes=[2, 2], features={tfgnn.HIDDEN_STATE: features})},
      edge_sets={"edges": tfgnn.EdgeSet.from_fields(
          sizes=[2, 2], adjacency=tfgnn.Adjacency.from_indices(
              source=("nodes", tf.constant([0, 1, 2, 3])),
              target=("nodes", tf.constant([1, 0, 3, 2]))))})


_S3 = 1.0 / math.sqrt(3.0)


@pytest.mark.parametrize("features,source,target,self_loops,expected", [
    pytest.param([[1.0, 0, 0], [0, 1, 0]], [0, 1], [1, 0], False,
                 [[0.0, 1, 0], [1, 0, 0]], id="two_nodes_no_self_loops"),
    pytest.param([[1.0, 0, 0], [0, 1, 0]], [0, 1], [1, 0], True,
                 [[0.5, 0.5, 0], [0.5, 0.5, 0]], id="two_nodes_self_loops"),
    # 0 -> 1 <- 2: D = diag(1, 3, 1); node 1 gets x1/3 + (x0 + x2)/sqrt(3).
    pytest.param([[1.0, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 2], [1, 1], True,
                 [[1.0, 0, 0], [_S3, 1 / 3, _S3], [0, 0, 1]], id="star_self_loops"),
    pytest.param([[1.0, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 2], [1, 1], False,
                 [[0.0, 0, 0], [1 / math.sqrt(2), 0, 1 / math.sqrt(2)], [0, 0, 0]],
                 id="star_no_self_loops"),
])
@pytest.mark.parametrize("layout", ["sparse", "dense"])
def test_gcn_conv_hand_computed(features, source, target, self_loops, expected, layout):
  graph = layout_inputs(Graph(np.array(features, np.float32), source, target))[layout]
  conv = gl.GCNConv(3, use_bias=False, add_self_loops=self_loops,
                    transform=tf.keras.layers.Dense(
                        3, use_bias=False, kernel_initializer=tf.keras.initializers.Identity()))
  assert_close(conv((np.array(features, np.float32), graph)), np.array(expected))


def test_gcn_conv_two_components():
  graph = _two_components()
  conv = gl.GCNConv(3, use_bias=False, add_self_loops=False,
                    transform=tf.keras.layers.Dense(
                        3, use_bias=False, kernel_initializer=tf.keras.initializers.Identity()))
  result = conv((graph.node_sets["nodes"][tfgnn.HIDDEN_STATE], graph))
  assert_close(result, np.array([[0.0, 1, 0], [1, 0, 0]] * 2))


@pytest.mark.parametrize("layout", ["sparse", "dense"])
@pytest.mark.parametrize("self_loops,activation", [(True, "none"), (True, "relu"),
                                                   (False, "tanh")])
def test_gcn_conv_golden(layout, self_loops, activation):
  rng = np.random.default_rng(1)
  w, b = rng.normal(size=(F, 4)), rng.normal(size=4)
  conv = gl.GCNConv(4, activation=activation, add_self_loops=self_loops)
  graph = layout_inputs(GRAPH)[layout]
  conv((X, graph))
  conv.transform.kernel.assign(w)
  conv.bias.assign(b)
  expected = NP_ACTIVATIONS[activation](ref_gcn(X, reference_adjacency(GRAPH), w, b, self_loops))
  assert_close(conv((X, graph)), expected)


@pytest.mark.parametrize("layout", ["sparse", "dense"])
def test_gcn_conv_uses_injected_transform(layout):
  rng = np.random.default_rng(10)
  kernel, shift = rng.normal(size=(F, 2)), rng.normal(size=2)
  transform = constant_dense(2, kernel, shift, activation="relu")
  conv = gl.GCNConv(2, use_bias=False, transform=transform)
  result = conv((X, layout_inputs(GRAPH)[layout]))
  assert conv.transform is transform
  assert {v.ref() for v in conv.weights} == {v.ref() for v in transform.weights}
  # GCN aggregation of the injected map x -> relu(x K + c), not of x W.
  expected = ref_gcn(np.maximum(X @ kernel + shift, 0.0), reference_adjacency(GRAPH),
                     np.eye(2), 0.0)
  assert_close(result, expected)
