"""The two layouts: every convolution computes the same in sparse and dense form;
structure helpers (reciprocal, softmax at target) with gradients.
"""
import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import numpy as np
import pytest
import tensorflow as tf

from edgegnn import layers as gl
from edgegnn.layers.attention import ATTENTIONS
from edgegnn.layers.structure import DenseStructure, SparseStructure, reciprocal

from .common import (GRAPH, MULTI, N, SOURCE, TARGET, X, assert_close, layout_inputs,
                     randomize_weights)


CONV_FACTORIES = {
    "gcn": lambda: gl.GCNConv(4, activation="relu"),
    "gcn_no_self_loops": lambda: gl.GCNConv(4, add_self_loops=False),
    "sage": lambda: gl.SAGEConv(4, activation="tanh", normalize=True),
    "gin": lambda: gl.GINConv(4, mlp=tf.keras.layers.Dense(4), epsilon=0.3),
    "gat": lambda: gl.GATConv(3, num_heads=2),
    **{f"mp_{kind}": (lambda kind=kind: gl.MessagePassing(3, num_heads=2, attention=kind,
                                                          activation="elu"))
       for kind in ATTENTIONS},
}


@pytest.mark.parametrize("graph_name", ["simple", "multi"])
@pytest.mark.parametrize("name", sorted(CONV_FACTORIES))
def test_sparse_equals_dense(name, graph_name, request):
  graph = GRAPH if graph_name == "simple" else MULTI
  layouts = layout_inputs(graph)
  layer = CONV_FACTORIES[name]()
  layer((X, layouts["sparse"]))
  randomize_weights(layer, np.random.default_rng(9))
  sparse = layer((X, layouts["sparse"])).numpy()
  dense = layer((X, layouts["dense"])).numpy()
  assert np.abs(sparse).max() > 1e-2  # not trivially zero
  assert_close(dense, sparse)


def test_dense_graph_input_must_be_a_matrix():
  with pytest.raises(ValueError, match=r"adjacency matrix \[N, N\]"):
    gl.GCNConv(2)((X, np.ones((1, N, N), np.float32)))


def test_reciprocal_value_and_gradient():
  x = tf.constant([0.25, 0.5, 1.0, 3.0, 40.0])
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = reciprocal(x)
  grad = tape.gradient(y, x)
  assert_close(y, 1.0 / x.numpy())
  assert_close(grad, -1.0 / x.numpy() ** 2)


def test_softmax_at_target_gradients_sparse_vs_dense():
  rng = np.random.default_rng(15)
  heads = 2
  logits = rng.normal(size=(len(SOURCE), heads)).astype(np.float32)
  upstream = rng.normal(size=(len(SOURCE), heads)).astype(np.float32)
  # Dense [T, S, H]: edge values at [t, s]; junk elsewhere must get no weight and no grad.
  dense_logits = rng.normal(scale=10.0, size=(N, N, heads)).astype(np.float32)
  dense_upstream = rng.normal(size=(N, N, heads)).astype(np.float32)
  dense_logits[TARGET, SOURCE] = logits
  dense_upstream[TARGET, SOURCE] = upstream
  edge = np.zeros((N, N), bool)
  edge[TARGET, SOURCE] = True

  def grad_of(structure, values, weights):
    values = tf.constant(values)
    with tf.GradientTape() as tape:
      tape.watch(values)
      alpha = structure.softmax_at_target(values)
      loss = tf.reduce_sum(alpha * weights)
    return alpha.numpy(), tape.gradient(loss, values).numpy()

  alpha_s, grad_s = grad_of(SparseStructure(SOURCE, TARGET, N), logits, upstream)
  alpha_d, grad_d = grad_of(DenseStructure(tf.constant(GRAPH.dense_adjacency())),
                            dense_logits, dense_upstream)

  # numpy: alpha = softmax per target; d loss / d e = alpha (w - sum_group alpha w).
  ref_alpha, ref_grad = np.zeros_like(logits), np.zeros_like(logits)
  for t in range(N):
    group = TARGET == t
    if not group.any():
      continue
    e = np.exp(logits[group] - logits[group].max(0))
    ref_alpha[group] = e / e.sum(0)
    mean_w = (ref_alpha[group] * upstream[group]).sum(0)
    ref_grad[group] = ref_alpha[group] * (upstream[group] - mean_w)
  assert_close(alpha_s, ref_alpha)
  assert_close(grad_s, ref_grad)
  assert_close(alpha_d[TARGET, SOURCE], alpha_s)
  assert_close(grad_d[TARGET, SOURCE], grad_s)
  np.testing.assert_array_equal(alpha_d[~edge], 0.0)
  np.testing.assert_array_equal(grad_d[~edge], 0.0)
