"""MessagePassing (the LPGNAS layer): every attention and activation, normalisation,
injected transform, gradients sparse == dense.
"""
import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import numpy as np
import pytest
import tensorflow as tf

from edgegnn import layers as gl
from edgegnn.layers.attention import ATTENTIONS
from edgegnn.layers.structure import SparseStructure

from .common import (F, GRAPH, MULTI, N, NP_ACTIVATIONS, SOFTMAX_KINDS, SOURCE, TARGET, X,
                     assert_close, constant_dense, layout_inputs, randomize_weights,
                     ref_message_passing, reference_adjacency, set_attention_weights)


@pytest.mark.parametrize("graph_name,layout", [
    ("simple", "sparse"), ("simple", "dense"), ("multi", "sparse"), ("multi", "dense")])
@pytest.mark.parametrize("kind", ATTENTIONS)
def test_message_passing_golden(kind, graph_name, layout, request):
  graph = GRAPH if graph_name == "simple" else MULTI
  rng = np.random.default_rng(5)
  conv = gl.MessagePassing(3, num_heads=2, attention=kind, activation="leaky_relu")
  graph_input = layout_inputs(graph)[layout]
  conv((X, graph_input))
  w, vectors, bias = set_attention_weights(conv, rng)
  expected = ref_message_passing(kind, X, reference_adjacency(graph), w, vectors, bias, 2, 3,
                                 "leaky_relu", True)
  assert_close(conv((X, graph_input)), expected)


@pytest.mark.parametrize("activation", sorted(NP_ACTIVATIONS))
def test_message_passing_activations(activation):
  assert set(NP_ACTIVATIONS) == set(gl.activations.ACTIVATIONS)
  rng = np.random.default_rng(6)
  conv = gl.MessagePassing(2, num_heads=2, attention="sym-gat", activation=activation,
                           concat_heads=False)
  graph = GRAPH.to_graph_tensor()
  conv((X, graph))
  w, vectors, bias = set_attention_weights(conv, rng)
  # Scale up so that relu6 clips and the negative branches are exercised.
  w *= 3.0
  conv.transform.kernel.assign(w)
  expected = ref_message_passing("sym-gat", X, reference_adjacency(GRAPH), w, vectors, bias, 2, 2,
                                 activation, False)
  assert_close(conv((X, graph)), expected)


def test_attention_coefficients_sum_to_one():
  """Softmax kinds are normalised over N(t) u {t}; the others are not."""
  structure = SparseStructure(SOURCE, TARGET, N).with_self_loops()
  z = tf.constant(np.random.default_rng(7).normal(size=(N, 2, 3)), tf.float32)
  for kind in ATTENTIONS:
    alpha = gl.EdgeAttention(kind)(z, structure).numpy()
    totals = np.zeros((N, 2))
    np.add.at(totals, structure.target.numpy(), alpha)
    if kind in SOFTMAX_KINDS:
      assert_close(totals, np.ones((N, 2)))
    elif kind == "const":
      assert_close(totals, np.repeat(reference_adjacency(GRAPH).sum(1)[:, None] + 1, 2, 1))
    else:  # gcn: sum_{s -> t} 1 / sqrt(d_t d_s), d = in-degree incl. the self-loop
      a_hat = reference_adjacency(GRAPH) + np.eye(N)
      degree = a_hat.sum(1)
      expected = (a_hat / np.sqrt(np.outer(degree, degree))).sum(1)
      assert_close(totals, np.repeat(expected[:, None], 2, 1))


def test_message_passing_uses_injected_transform():
  kernel = np.random.default_rng(12).normal(size=(F, 4))
  conv = gl.MessagePassing(2, num_heads=2, attention="const", use_bias=False,
                           transform=constant_dense(4, kernel))
  result = conv((X, GRAPH.dense_adjacency()))
  a_hat = reference_adjacency(GRAPH) + np.eye(N)
  assert_close(result, a_hat @ X @ kernel)  # const attention: plain sum over N(t) u {t}


@pytest.mark.parametrize("kind", ATTENTIONS)
def test_message_passing_gradients_sparse_vs_dense(kind):
  layer = gl.MessagePassing(3, num_heads=2, attention=kind, activation="tanh")
  layouts = layout_inputs(GRAPH)
  layer((X, layouts["sparse"]))
  randomize_weights(layer, np.random.default_rng(16))
  target = tf.constant(np.random.default_rng(17).normal(size=(N, 6)), tf.float32)

  def grads(graph):
    x = tf.constant(X)
    with tf.GradientTape() as tape:
      tape.watch(x)
      loss = tf.reduce_sum(layer((x, graph)) * target)
    return tape.gradient(loss, [x] + layer.trainable_weights)

  sparse, dense = grads(layouts["sparse"]), grads(layouts["dense"])
  assert len(sparse) == len(layer.trainable_weights) + 1
  for s, d in zip(sparse, dense):
    assert np.abs(s.numpy()).max() > 1e-4
    assert_close(d, s.numpy())
