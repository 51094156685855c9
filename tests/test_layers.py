"""Tests of `edgegnn.layers`: golden outputs, sparse == dense, configs, gradients, TFLite.

In the style of tensorflow_gnn/models/gcn/gcn_conv_test.py: tiny hand-built graphs with
known features, layers with explicitly set weights, outputs compared with golden values
(written out by hand, or computed here by an independent numpy reference that loops over
edges), plus conversion of small functional models to TFLite.

The graph used by most tests (5 nodes, 7 directed edges s -> t; node 4 has no incoming
edge, node 3 has three):

    0 -> 1, 1 -> 2, 2 -> 0, 3 -> 0, 0 -> 3, 4 -> 3, 2 -> 3
"""
import math

import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_gnn as tfgnn

from edgegnn import layers as gl
from edgegnn.data import Graph
from edgegnn.deploy import tflite_file
from edgegnn.deploy.convert import convert
from edgegnn.deploy.runtimes import open_runtime
from edgegnn.layers.attention import ATTENTIONS
from edgegnn.layers.structure import DenseStructure, SparseStructure, reciprocal
from edgegnn.models import ModelSpec, build_model, feeds

RTOL, ATOL = 1e-5, 1e-6

X = np.array([[1.0, 0.0, 2.0],
              [0.0, 1.0, -1.0],
              [2.0, 1.0, 0.0],
              [-1.0, 0.5, 1.0],
              [0.5, -2.0, 1.5]], np.float32)
SOURCE = np.array([0, 1, 2, 3, 0, 4, 2], np.int32)
TARGET = np.array([1, 2, 0, 0, 3, 3, 3], np.int32)
N, F = X.shape
GRAPH = Graph(X, SOURCE, TARGET)
# The same graph plus a self-loop 3 -> 3 and a second (parallel) edge 0 -> 1.
MULTI = Graph(X, np.r_[SOURCE, 3, 0], np.r_[TARGET, 3, 1])

SOFTMAX_KINDS = ("gat", "sym-gat", "cos", "linear", "gene-linear")

NP_ACTIVATIONS = {
    "none": lambda x: x,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": np.tanh,
    "softplus": lambda x: np.log1p(np.exp(x)),
    "relu": lambda x: np.maximum(x, 0.0),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "relu6": lambda x: np.clip(x, 0.0, 6.0),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
}


@pytest.fixture(autouse=True)
def _seed():
  tf.keras.utils.set_random_seed(0)


def _layouts(graph):
  """The two graph inputs of a layer: GraphTensor (sparse) and adjacency [N, N] (dense)."""
  return {"sparse": graph.to_graph_tensor(), "dense": graph.dense_adjacency()}


def _adjacency(graph):
  """Independent numpy adjacency: A[t, s] = number of edges s -> t."""
  a = np.zeros((graph.num_nodes, graph.num_nodes))
  for s, t in zip(graph.edge_source, graph.edge_target):
    a[t, s] += 1
  return a


def _close(actual, expected):
  np.testing.assert_allclose(np.asarray(actual), expected, rtol=RTOL, atol=ATOL)


def _randomize(layer, rng, scale=0.5):
  """Replaces every weight with random values (biases become non-zero; BatchNorm
  variances stay positive)."""
  values = []
  for w in layer.weights:
    value = rng.normal(scale=scale, size=w.shape)
    values.append(np.abs(value) + 0.5 if "variance" in w.name else value)
  layer.set_weights([v.astype(np.float32) for v in values])


def _constant_dense(units, kernel, bias=None, **kwargs):
  """A Dense layer with a known kernel (and bias, if given)."""
  return tf.keras.layers.Dense(
      units, use_bias=bias is not None,
      kernel_initializer=tf.keras.initializers.Constant(kernel),
      bias_initializer=tf.keras.initializers.Constant(0.0 if bias is None else bias), **kwargs)


# ----------------------------------------------------------------------------------------
# numpy references
# ----------------------------------------------------------------------------------------


def ref_gcn(x, a, w, b, self_loops=True):
  n = len(x)
  a_hat = a + np.eye(n) if self_loops else a
  degree = a.sum(1) + (1.0 if self_loops else 0.0)
  norm = 1.0 / np.sqrt(np.maximum(degree, 1.0))
  return (norm[:, None] * a_hat * norm[None, :]) @ x @ w + b


def ref_sage(x, a, w_self, w_neigh, b, activation, normalize):
  out = np.zeros((len(x), w_self.shape[1]))
  for t in range(len(x)):
    sources = [s for s in range(len(x)) for _ in range(int(a[t, s]))]
    mean = np.mean([x[s] for s in sources], axis=0) if sources else np.zeros(x.shape[1])
    out[t] = x[t] @ w_self + mean @ w_neigh + b
  out = NP_ACTIVATIONS[activation](out)
  if normalize:
    out = out / np.sqrt(np.maximum((out ** 2).sum(-1, keepdims=True), 1e-12))
  return out


def ref_gin(x, a, eps, kernel, bias):
  return ((1.0 + eps) * x + a @ x) @ kernel + bias


def ref_logit(kind, z, t, s, h, v, degree):
  """e_ts for head h, following the table in edgegnn/layers/attention.py."""
  leaky = lambda u: u if u > 0 else 0.2 * u
  if kind == "const":
    return 1.0
  if kind == "gcn":
    return 1.0 / math.sqrt(degree[t] * degree[s])
  at, as_ = v.get("target"), v.get("source")
  if kind == "gat":
    return leaky(at[h] @ z[t, h] + as_[h] @ z[s, h])
  if kind == "sym-gat":
    return leaky(at[h] @ z[t, h] + as_[h] @ z[s, h]) + leaky(at[h] @ z[s, h] + as_[h] @ z[t, h])
  if kind == "cos":
    return np.sum((at[h] * z[t, h]) * (as_[h] * z[s, h]))
  if kind == "linear":
    return math.tanh(as_[h] @ z[s, h])
  assert kind == "gene-linear"
  return np.sum(v["general"][h] * np.tanh(at[h] * z[t, h] + as_[h] * z[s, h]))


def ref_message_passing(kind, x, a, w, vectors, bias, heads, units, activation, concat):
  """h'_t = act(concat_h / mean_h sum_{s -> t, incl. a self-loop} alpha_ts z_s + b).

  Loops over edges: an edge of multiplicity m (parallel edges, or a self-loop in the
  data plus the added one) is m separate edges, as in an edge list.
  """
  n = len(x)
  a_hat = a + np.eye(n)
  degree = a_hat.sum(1)
  z = (x @ w).reshape(n, heads, units)
  pooled = np.zeros((n, heads, units))
  for t in range(n):
    sources = [s for s in range(n) for _ in range(int(a_hat[t, s]))]
    for h in range(heads):
      e = np.array([ref_logit(kind, z, t, s, h, vectors, degree) for s in sources])
      if kind in SOFTMAX_KINDS:
        e = np.exp(e - e.max())
        e = e / e.sum()
      pooled[t, h] = sum(alpha * z[s, h] for alpha, s in zip(e, sources))
  out = pooled.reshape(n, heads * units) if concat else pooled.mean(1)
  return NP_ACTIVATIONS[activation](out + bias)


def ref_edge_conv(x, candidates, k, kernel, bias):
  out = np.zeros((len(x), kernel.shape[1]))
  for t in range(len(x)):
    allowed = np.flatnonzero(candidates[t])
    if not allowed.size:
      continue
    distance = ((x[allowed] - x[t]) ** 2).sum(-1)
    chosen = allowed[np.argsort(distance, kind="stable")[:k]]
    messages = np.concatenate([np.repeat(x[t:t + 1], len(chosen), 0), x[chosen] - x[t]], 1)
    out[t] = (messages @ kernel + bias).max(0)
  return out


# ----------------------------------------------------------------------------------------
# 1. golden outputs
# ----------------------------------------------------------------------------------------


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
  graph = _layouts(Graph(np.array(features, np.float32), source, target))[layout]
  conv = gl.GCNConv(3, use_bias=False, add_self_loops=self_loops,
                    transform=tf.keras.layers.Dense(
                        3, use_bias=False, kernel_initializer=tf.keras.initializers.Identity()))
  _close(conv((np.array(features, np.float32), graph)), np.array(expected))


def test_gcn_conv_two_components():
  graph = _two_components()
  conv = gl.GCNConv(3, use_bias=False, add_self_loops=False,
                    transform=tf.keras.layers.Dense(
                        3, use_bias=False, kernel_initializer=tf.keras.initializers.Identity()))
  result = conv((graph.node_sets["nodes"][tfgnn.HIDDEN_STATE], graph))
  _close(result, np.array([[0.0, 1, 0], [1, 0, 0]] * 2))


@pytest.mark.parametrize("layout", ["sparse", "dense"])
@pytest.mark.parametrize("self_loops,activation", [(True, "none"), (True, "relu"),
                                                   (False, "tanh")])
def test_gcn_conv_golden(layout, self_loops, activation):
  rng = np.random.default_rng(1)
  w, b = rng.normal(size=(F, 4)), rng.normal(size=4)
  conv = gl.GCNConv(4, activation=activation, add_self_loops=self_loops)
  graph = _layouts(GRAPH)[layout]
  conv((X, graph))
  conv.transform.kernel.assign(w)
  conv.bias.assign(b)
  expected = NP_ACTIVATIONS[activation](ref_gcn(X, _adjacency(GRAPH), w, b, self_loops))
  _close(conv((X, graph)), expected)


@pytest.mark.parametrize("layout", ["sparse", "dense"])
@pytest.mark.parametrize("activation,normalize", [("none", False), ("elu", True)])
def test_sage_conv_golden(layout, activation, normalize):
  rng = np.random.default_rng(2)
  w_self, w_neigh, b = rng.normal(size=(F, 4)), rng.normal(size=(F, 4)), rng.normal(size=4)
  conv = gl.SAGEConv(4, activation=activation, normalize=normalize)
  graph = _layouts(GRAPH)[layout]
  conv((X, graph))
  conv.self_transform.kernel.assign(w_self)
  conv.neighbor_transform.kernel.assign(w_neigh)
  conv.bias.assign(b)
  expected = ref_sage(X, _adjacency(GRAPH), w_self, w_neigh, b, activation, normalize)
  _close(conv((X, graph)), expected)


@pytest.mark.parametrize("layout", ["sparse", "dense"])
@pytest.mark.parametrize("epsilon,learn", [(0.0, False), (0.25, True), (-0.5, False)])
def test_gin_conv_golden(layout, epsilon, learn):
  rng = np.random.default_rng(3)
  kernel, bias = rng.normal(size=(F, 2)), rng.normal(size=2)
  mlp = tf.keras.layers.Dense(2, kernel_initializer=tf.keras.initializers.Constant(kernel),
                              bias_initializer=tf.keras.initializers.Constant(bias))
  conv = gl.GINConv(2, mlp=mlp, epsilon=epsilon, learn_epsilon=learn)
  result = conv((X, _layouts(GRAPH)[layout]))
  assert conv.mlp is mlp
  assert conv.epsilon.trainable == learn
  assert len(conv.trainable_weights) == 2 + int(learn)
  _close(result, ref_gin(X, _adjacency(GRAPH), epsilon, kernel, bias))


def _set_attention_weights(layer, rng, kind_vectors=True):
  """Sets transform, attention vectors and bias of a MessagePassing; returns them."""
  w = rng.normal(size=layer.transform.kernel.shape)
  layer.transform.kernel.assign(w)
  vectors = {}
  for key in ("target", "source", "general"):
    variable = getattr(layer.score, f"{key}_vector", None)
    if variable is not None:
      vectors[key] = rng.normal(size=variable.shape)
      variable.assign(vectors[key])
  bias = rng.normal(size=layer.bias.shape)
  layer.bias.assign(bias)
  return w, vectors, bias


@pytest.mark.parametrize("layout", ["sparse", "dense"])
@pytest.mark.parametrize("heads,concat,activation", [(1, True, "none"), (2, True, "elu"),
                                                     (3, False, "relu")])
def test_gat_conv_golden(layout, heads, concat, activation):
  rng = np.random.default_rng(4)
  conv = gl.GATConv(2, num_heads=heads, concat_heads=concat, activation=activation)
  graph = _layouts(GRAPH)[layout]
  conv((X, graph))
  w, vectors, bias = _set_attention_weights(conv, rng)
  assert set(vectors) == {"target", "source"}
  expected = ref_message_passing("gat", X, _adjacency(GRAPH), w, vectors, bias, heads, 2,
                                 activation, concat)
  result = conv((X, graph))
  assert result.shape == (N, heads * 2 if concat else 2)
  _close(result, expected)


@pytest.mark.parametrize("graph_name,layout", [
    ("simple", "sparse"), ("simple", "dense"), ("multi", "sparse"), ("multi", "dense")])
@pytest.mark.parametrize("kind", ATTENTIONS)
def test_message_passing_golden(kind, graph_name, layout, request):
  graph = GRAPH if graph_name == "simple" else MULTI
  rng = np.random.default_rng(5)
  conv = gl.MessagePassing(3, num_heads=2, attention=kind, activation="leaky_relu")
  graph_input = _layouts(graph)[layout]
  conv((X, graph_input))
  w, vectors, bias = _set_attention_weights(conv, rng)
  expected = ref_message_passing(kind, X, _adjacency(graph), w, vectors, bias, 2, 3,
                                 "leaky_relu", True)
  _close(conv((X, graph_input)), expected)


@pytest.mark.parametrize("activation", sorted(NP_ACTIVATIONS))
def test_message_passing_activations(activation):
  assert set(NP_ACTIVATIONS) == set(gl.activations.ACTIVATIONS)
  rng = np.random.default_rng(6)
  conv = gl.MessagePassing(2, num_heads=2, attention="sym-gat", activation=activation,
                           concat_heads=False)
  graph = GRAPH.to_graph_tensor()
  conv((X, graph))
  w, vectors, bias = _set_attention_weights(conv, rng)
  # Scale up so that relu6 clips and the negative branches are exercised.
  w *= 3.0
  conv.transform.kernel.assign(w)
  expected = ref_message_passing("sym-gat", X, _adjacency(GRAPH), w, vectors, bias, 2, 2,
                                 activation, False)
  _close(conv((X, graph)), expected)


def test_attention_coefficients_sum_to_one():
  """Softmax kinds are normalised over N(t) u {t}; the others are not."""
  structure = SparseStructure(SOURCE, TARGET, N).with_self_loops()
  z = tf.constant(np.random.default_rng(7).normal(size=(N, 2, 3)), tf.float32)
  for kind in ATTENTIONS:
    alpha = gl.EdgeAttention(kind)(z, structure).numpy()
    totals = np.zeros((N, 2))
    np.add.at(totals, structure.target.numpy(), alpha)
    if kind in SOFTMAX_KINDS:
      _close(totals, np.ones((N, 2)))
    elif kind == "const":
      _close(totals, np.repeat(_adjacency(GRAPH).sum(1)[:, None] + 1, 2, 1))
    else:  # gcn: sum_{s -> t} 1 / sqrt(d_t d_s), d = in-degree incl. the self-loop
      a_hat = _adjacency(GRAPH) + np.eye(N)
      degree = a_hat.sum(1)
      expected = (a_hat / np.sqrt(np.outer(degree, degree))).sum(1)
      _close(totals, np.repeat(expected[:, None], 2, 1))


# Points of two graphs, {0, 1, 2} and {3, 4}, and a padding node 5; distinct distances.
POINTS = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.5], [5.0, 5.0], [5.5, 7.0], [1.0, 1.0]],
                  np.float32)
CANDIDATES = np.zeros((6, 6), np.float32)
CANDIDATES[:3, :3] = 1.0
CANDIDATES[3:5, 3:5] = 1.0


@pytest.mark.parametrize("k", [1, 2, 3, 6])
def test_edge_conv_golden(k):
  rng = np.random.default_rng(8)
  kernel, bias = rng.normal(size=(4, 3)), rng.normal(size=3)
  message_fn = tf.keras.layers.Dense(
      3, kernel_initializer=tf.keras.initializers.Constant(kernel),
      bias_initializer=tf.keras.initializers.Constant(bias))
  conv = gl.EdgeConv(3, k=k, message_fn=message_fn)
  result = conv((POINTS, CANDIDATES)).numpy()
  expected = ref_edge_conv(POINTS, CANDIDATES, k, kernel, bias)
  _close(result, expected)
  np.testing.assert_array_equal(result[5], 0.0)  # padding: no candidate
  if k >= 3:
    # Without the mask, node 5 (1, 1) would be a near neighbour of nodes 0 and 1.
    unmasked = conv((POINTS, np.ones((6, 6), np.float32))).numpy()
    assert np.abs(unmasked[:3] - result[:3]).max() > 1e-3


# Points on a grid: many equal distances (ties broken toward the lower node index).
GRID = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0], [2.0, 2.0]],
                np.float32)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_edge_conv_breaks_ties_toward_lower_index(k):
  rng = np.random.default_rng(20)
  kernel, bias = rng.normal(size=(4, 3)), rng.normal(size=3)
  conv = gl.EdgeConv(3, k=k, message_fn=_constant_dense(3, kernel, bias))
  everything = np.ones((6, 6), np.float32)
  # Node 0's neighbours 1..4 are all at distance 1: it takes nodes 1, ..., k - 1.
  _close(conv((GRID, everything)), ref_edge_conv(GRID, everything, k, kernel, bias))


def test_edge_conv_knn_on_unit_scale_point_cloud():
  rng = np.random.default_rng(21)
  points = rng.uniform(-1.0, 1.0, size=(512, 3)).astype(np.float32)  # ModelNet-like scale
  kernel, bias = rng.normal(size=(6, 4)), rng.normal(size=4)
  conv = gl.EdgeConv(4, k=8, message_fn=_constant_dense(4, kernel, bias))
  everything = np.ones((512, 512), np.float32)
  result = conv((points, everything)).numpy()
  expected = ref_edge_conv(points, everything, 8, kernel, bias)
  wrong = np.abs(result - expected).max(1) > 1e-4
  assert wrong.sum() == 0, f"{wrong.sum()} of 512 nodes got a wrong neighbourhood"


# Node states (>= 0, as after a ReLU) and membership: graph 0 = {0, 1, 2}, graph 1 =
# {3, 4}, graph 2 empty; node 5 is padding.
STATES = np.array([[1.0, 0.0, 2.0], [3.0, 1.0, 0.5], [0.0, 4.0, 1.0], [2.0, 2.0, 2.0],
                   [0.5, 6.0, 0.0], [9.0, 9.0, 9.0]], np.float32)
MEMBERSHIP = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 0], [0, 0, 0, 0, 0, 0]],
                      np.float32)
_SUM = np.array([[4.0, 5.0, 3.5], [2.5, 8.0, 2.0], [0.0, 0.0, 0.0]])
_MEAN = np.array([[4 / 3, 5 / 3, 3.5 / 3], [1.25, 4.0, 1.0], [0.0, 0.0, 0.0]])
_MAX = np.array([[3.0, 4.0, 2.0], [2.0, 6.0, 2.0], [0.0, 0.0, 0.0]])


@pytest.mark.parametrize("reduce,expected", [
    ("sum", _SUM), ("mean", _MEAN), ("max", _MAX),
    ("mean+max", np.concatenate([_MEAN, _MAX], 1))])
def test_graph_readout_golden(reduce, expected):
  _close(gl.GraphReadout(reduce)((STATES, MEMBERSHIP)), expected)


# ----------------------------------------------------------------------------------------
# 2. sparse layout == dense layout
# ----------------------------------------------------------------------------------------

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


def _attention_kind(name):
  return "gat" if name == "gat" else name[3:] if name.startswith("mp_") else None


@pytest.mark.parametrize("graph_name", ["simple", "multi"])
@pytest.mark.parametrize("name", sorted(CONV_FACTORIES))
def test_sparse_equals_dense(name, graph_name, request):
  graph = GRAPH if graph_name == "simple" else MULTI
  layouts = _layouts(graph)
  layer = CONV_FACTORIES[name]()
  layer((X, layouts["sparse"]))
  _randomize(layer, np.random.default_rng(9))
  sparse = layer((X, layouts["sparse"])).numpy()
  dense = layer((X, layouts["dense"])).numpy()
  assert np.abs(sparse).max() > 1e-2  # not trivially zero
  _close(dense, sparse)


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "mean+max"])
def test_edge_conv_and_readout_batch_equals_padded(reduce):
  """A batch of merged graphs (node_graph_index) == each graph padded alone (node_mask)."""
  index = np.array([0, 0, 0, 1, 1], np.int32)
  conv = gl.EdgeConv(4, k=2, message_fn=tf.keras.layers.Dense(4, activation="relu"))
  readout = gl.GraphReadout(reduce)
  membership = gl.Membership("node_graph_index")(index)
  batched = readout((conv((POINTS[:5], gl.KnnCandidates()(membership))), membership)).numpy()
  for g, nodes in enumerate([[0, 1, 2], [3, 4]]):
    padded = np.zeros((4, 2), np.float32)
    padded[:len(nodes)] = POINTS[nodes]
    mask = gl.Membership("node_mask")(np.arange(4) < len(nodes))
    alone = readout((conv((padded, gl.KnnCandidates()(mask))), mask)).numpy()
    assert np.abs(alone).max() > 1e-3
    _close(alone[0], batched[g])


# ----------------------------------------------------------------------------------------
# 3. injected sub-layers
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["sparse", "dense"])
def test_gcn_conv_uses_injected_transform(layout):
  rng = np.random.default_rng(10)
  kernel, shift = rng.normal(size=(F, 2)), rng.normal(size=2)
  transform = _constant_dense(2, kernel, shift, activation="relu")
  conv = gl.GCNConv(2, use_bias=False, transform=transform)
  result = conv((X, _layouts(GRAPH)[layout]))
  assert conv.transform is transform
  assert {v.ref() for v in conv.weights} == {v.ref() for v in transform.weights}
  # GCN aggregation of the injected map x -> relu(x K + c), not of x W.
  expected = ref_gcn(np.maximum(X @ kernel + shift, 0.0), _adjacency(GRAPH), np.eye(2), 0.0)
  _close(result, expected)


def test_sage_conv_uses_injected_transforms():
  rng = np.random.default_rng(11)
  k_self, k_neigh = rng.normal(size=(F, 2)), rng.normal(size=(F, 2))
  conv = gl.SAGEConv(2, use_bias=False, self_transform=_constant_dense(2, k_self),
                     neighbor_transform=_constant_dense(2, k_neigh, bias=[1.0, -2.0]))
  result = conv((X, GRAPH.to_graph_tensor()))
  # The neighbour bias is averaged with the messages: isolated node 4 gets none of it.
  a = _adjacency(GRAPH)
  neigh = (a @ (X @ k_neigh + [1.0, -2.0])) / np.maximum(a.sum(1), 1.0)[:, None]
  _close(result, X @ k_self + neigh)


def test_message_passing_uses_injected_transform():
  kernel = np.random.default_rng(12).normal(size=(F, 4))
  conv = gl.MessagePassing(2, num_heads=2, attention="const", use_bias=False,
                           transform=_constant_dense(4, kernel))
  result = conv((X, GRAPH.dense_adjacency()))
  a_hat = _adjacency(GRAPH) + np.eye(N)
  _close(result, a_hat @ X @ kernel)  # const attention: plain sum over N(t) u {t}


def test_edge_conv_default_message_fn_is_dense_bn_relu():
  conv = gl.EdgeConv(3, k=2)
  result = conv((POINTS, CANDIDATES), training=False).numpy()
  assert [type(l).__name__ for l in conv.message_fn.layers] == [
      "Dense", "BatchNormalization", "ReLU"]
  kernel = conv.message_fn.layers[0].kernel.numpy()
  # Fresh BN in inference: x / sqrt(1 + 1e-3).
  expected = np.maximum(ref_edge_conv(POINTS, CANDIDATES, 2, kernel, 0.0), 0.0)
  _close(result, expected / math.sqrt(1.0 + 1e-3))


# ----------------------------------------------------------------------------------------
# 4. option validation
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("factory,words", [
    (lambda: gl.GCNConv(4, activation="swish"), ["activation", "'swish'"]),
    (lambda: gl.SAGEConv(4, activation="gelu"), ["activation", "'gelu'"]),
    (lambda: gl.MessagePassing(4, activation="mish"), ["activation", "'mish'"]),
    (lambda: gl.GATConv(4, activation="Relu7"), ["activation", "'Relu7'"]),
    (lambda: gl.MessagePassing(4, attention="dot"), ["attention", "'dot'"]),
    (lambda: gl.EdgeAttention("scaled-dot"), ["attention", "'scaled-dot'"]),
    (lambda: gl.GATConv(4, attention="cos"), ["attention"]),
    (lambda: gl.GCNConv(0), ["units", "0"]),
    (lambda: gl.SAGEConv(-3), ["units", "-3"]),
    (lambda: gl.GINConv(0), ["units", "0"]),
    (lambda: gl.GATConv(0), ["units", "0"]),
    (lambda: gl.MessagePassing(2.5), ["units", "2.5"]),
    (lambda: gl.MessagePassing(4, num_heads=0), ["num_heads", "0"]),
    (lambda: gl.EdgeConv(0), ["units", "0"]),
    (lambda: gl.EdgeConv(4, k=0), ["k", "0"]),
    (lambda: gl.MessagePassing(4, attention_dropout=1.5), ["attention_dropout", "1.5"]),
    (lambda: gl.GATConv(4, attention_dropout=-0.1), ["attention_dropout", "-0.1"]),
    (lambda: gl.MessagePassing(4, attention_dropout=1.0), ["attention_dropout", "1.0"]),
    (lambda: gl.GraphReadout("median"), ["reduce", "'median'"]),
    (lambda: gl.Membership("edges"), ["membership", "'edges'"]),
])
def test_invalid_options_raise_in_init(factory, words):
  with pytest.raises(ValueError) as info:
    factory()
  message = str(info.value)
  for word in words:
    assert word in message, message


def test_dense_graph_input_must_be_a_matrix():
  with pytest.raises(ValueError, match=r"adjacency matrix \[N, N\]"):
    gl.GCNConv(2)((X, np.ones((1, N, N), np.float32)))


# ----------------------------------------------------------------------------------------
# 5. serialisation
# ----------------------------------------------------------------------------------------

CONFIG_CASES = {
    "gcn": (lambda: gl.GCNConv(3, activation="tanh", use_bias=False, add_self_loops=False,
                               kernel_regularizer="l2"), "graph"),
    "sage": (lambda: gl.SAGEConv(3, activation="relu6", normalize=True,
                                 kernel_regularizer="l1"), "graph"),
    "gin": (lambda: gl.GINConv(3, epsilon=0.5, learn_epsilon=True), "graph"),
    "gin_injected": (lambda: gl.GINConv(3, mlp=tf.keras.Sequential(
        [tf.keras.layers.Dense(5, activation="relu"), tf.keras.layers.Dense(3)])), "graph"),
    "gat": (lambda: gl.GATConv(2, num_heads=3, concat_heads=False, activation="elu",
                               attention_dropout=0.25), "graph"),
    "mp": (lambda: gl.MessagePassing(2, num_heads=2, attention="gene-linear",
                                     activation="softplus", use_bias=False,
                                     kernel_regularizer="l2"), "graph"),
    "mp_injected": (lambda: gl.MessagePassing(
        2, num_heads=2, attention="cos",
        transform=tf.keras.layers.Dense(4, activation="tanh", name="custom")), "graph"),
    "edge_conv": (lambda: gl.EdgeConv(3, k=2), "points"),
    "edge_conv_injected": (lambda: gl.EdgeConv(3, k=4, message_fn=tf.keras.layers.Dense(3)),
                           "points"),
    "readout": (lambda: gl.GraphReadout("mean+max"), "states"),
    "attention": (lambda: gl.EdgeAttention("sym-gat", negative_slope=0.1), None),
    "membership": (lambda: gl.Membership("node_graph_index"), None),
    "pieces": (lambda: gl.GraphTensorFromPieces(), None),
    "row_normalize": (lambda: gl.RowNormalize(), None),
    "knn": (lambda: gl.KnnCandidates(), None),
}


def _config_inputs(kind):
  return {"graph": (X, GRAPH.to_graph_tensor()), "points": (POINTS, CANDIDATES),
          "states": (STATES, MEMBERSHIP)}[kind]


@pytest.mark.parametrize("name", sorted(CONFIG_CASES))
def test_get_config_round_trip(name):
  layer = CONFIG_CASES[name][0]()
  config = layer.get_config()
  clone = type(layer).from_config(config)
  assert type(clone) is type(layer)
  assert clone.get_config() == config


@pytest.mark.parametrize("name", sorted(n for n, c in CONFIG_CASES.items() if c[1]))
def test_from_config_of_built_layer_computes_the_same(name):
  factory, kind = CONFIG_CASES[name]
  inputs = _config_inputs(kind)
  layer = factory()
  layer(inputs)
  _randomize(layer, np.random.default_rng(13))
  clone = type(layer).from_config(layer.get_config())
  clone(inputs)
  clone.set_weights(layer.get_weights())
  assert clone.get_config() == layer.get_config()
  assert [w.shape for w in clone.weights] == [w.shape for w in layer.weights]
  expected = layer(inputs).numpy()
  assert np.abs(expected).max() > 1e-3
  _close(clone(inputs), expected)
  if getattr(layer, "kernel_regularizer", None) is not None:
    assert len(clone.losses) == len(layer.losses) >= 1
    _close(tf.add_n(clone.losses), tf.add_n(layer.losses).numpy())


MODEL_CASES = [("gcn", "node", {}), ("gat", "node", dict(num_heads=2)),
               ("sage", "node", {}), ("gin", "graph", dict(learn_epsilon=True)),
               ("edgeconv", "graph", dict(k=3, readout="mean+max")),
               ("mp", "node", dict(attention="gene-linear", num_heads=2))]


@pytest.mark.parametrize("architecture,task,options", MODEL_CASES,
                         ids=[c[0] for c in MODEL_CASES])
def test_model_save_and_load_keras(architecture, task, options, tmp_path):
  spec = ModelSpec(architecture, hidden_units=4, dropout=0.0, **options)
  model = build_model(spec, num_features=F, num_classes=3, task=task)
  rng = np.random.default_rng(14)
  # Shift every weight by a positive amount (BN variances stay > 0, biases become != 0).
  model.set_weights([w + rng.uniform(0.1, 0.5, size=w.shape).astype(np.float32)
                     for w in model.get_weights()])
  feed = feeds.select(feeds.graph_feed(GRAPH), feeds.model_input_names(model))
  expected = model(feed)["logits"].numpy()
  path = str(tmp_path / "m.keras")
  model.save(path)
  loaded = tf.keras.models.load_model(path)
  assert [type(l).__name__ for l in loaded.layers] == [type(l).__name__ for l in model.layers]
  assert [type(l) for l in loaded.layers] == [type(l) for l in model.layers]
  assert [l.get_config() for l in loaded.layers] == [l.get_config() for l in model.layers]
  for a, b in zip(loaded.get_weights(), model.get_weights()):
    np.testing.assert_array_equal(a, b)
  result = loaded(feed)["logits"].numpy()
  assert result.shape == ((N, 3) if task == "node" else (1, 3))
  _close(result, expected)


# ----------------------------------------------------------------------------------------
# 6. gradients
# ----------------------------------------------------------------------------------------


def test_reciprocal_value_and_gradient():
  x = tf.constant([0.25, 0.5, 1.0, 3.0, 40.0])
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = reciprocal(x)
  grad = tape.gradient(y, x)
  _close(y, 1.0 / x.numpy())
  _close(grad, -1.0 / x.numpy() ** 2)


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
  _close(alpha_s, ref_alpha)
  _close(grad_s, ref_grad)
  _close(alpha_d[TARGET, SOURCE], alpha_s)
  _close(grad_d[TARGET, SOURCE], grad_s)
  np.testing.assert_array_equal(alpha_d[~edge], 0.0)
  np.testing.assert_array_equal(grad_d[~edge], 0.0)


@pytest.mark.parametrize("kind", ATTENTIONS)
def test_message_passing_gradients_sparse_vs_dense(kind):
  layer = gl.MessagePassing(3, num_heads=2, attention=kind, activation="tanh")
  layouts = _layouts(GRAPH)
  layer((X, layouts["sparse"]))
  _randomize(layer, np.random.default_rng(16))
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
    _close(d, s.numpy())


# ----------------------------------------------------------------------------------------
# 7. TFLite
# ----------------------------------------------------------------------------------------

TFLITE_LAYERS = {
    "gcn": lambda: gl.GCNConv(4, activation="relu"),
    "gat": lambda: gl.GATConv(2, num_heads=2),
    "sage": lambda: gl.SAGEConv(4, activation="elu"),
    "gin": lambda: gl.GINConv(4, mlp=tf.keras.layers.Dense(4)),
    "mp_gat": lambda: gl.MessagePassing(2, num_heads=2, attention="gat", activation="tanh"),
    "edge_conv": lambda: gl.EdgeConv(4, k=2, message_fn=tf.keras.layers.Dense(4)),
}


def _tflite_model(name, layout):
  """A one-layer functional model over the plain-tensor input contract, and its feed."""
  layer = TFLITE_LAYERS[name]()
  if name == "edge_conv":
    if layout == "sparse":  # a batch of graphs, dynamic node count
      inputs = {"node_features": tf.keras.Input([2], name="node_features"),
                "node_graph_index": tf.keras.Input([], dtype=tf.int32,
                                                   name="node_graph_index")}
      membership = gl.Membership("node_graph_index")(inputs["node_graph_index"])
      feed = {"node_features": GRID[:5], "node_graph_index": np.array([0, 0, 0, 1, 1],
                                                                      np.int32)}
    else:  # one padded graph of capacity 6
      inputs = {"node_features": tf.keras.Input([2], batch_size=6, name="node_features"),
                "node_mask": tf.keras.Input([], batch_size=6, name="node_mask")}
      membership = gl.Membership("node_mask")(inputs["node_mask"])
      feed = {"node_features": GRID, "node_mask": np.array([1, 1, 1, 1, 1, 0], np.float32)}
    output = layer((inputs["node_features"], gl.KnnCandidates()(membership)))
  elif layout == "sparse":
    inputs = {"node_features": tf.keras.Input([F], name="node_features"),
              "edge_source": tf.keras.Input([], dtype=tf.int32, name="edge_source"),
              "edge_target": tf.keras.Input([], dtype=tf.int32, name="edge_target")}
    graph = gl.GraphTensorFromPieces()(
        [inputs["node_features"], inputs["edge_source"], inputs["edge_target"]])
    output = layer((inputs["node_features"], graph))
    feed = feeds.graph_feed(GRAPH, "sparse")
  else:
    inputs = {"node_features": tf.keras.Input([F], batch_size=N, name="node_features"),
              "adjacency": tf.keras.Input([N], batch_size=N, name="adjacency")}
    output = layer((inputs["node_features"], inputs["adjacency"]))
    feed = {k: v for k, v in feeds.graph_feed(GRAPH, "dense").items() if k in inputs}
  _randomize(layer, np.random.default_rng(18))
  return tf.keras.Model(inputs, {"logits": output}), feed


@pytest.mark.parametrize("layout", ["sparse", "dense"])
@pytest.mark.parametrize("name", sorted(TFLITE_LAYERS))
def test_tflite_float32_matches_keras(name, layout, tmp_path):
  model, feed = _tflite_model(name, layout)
  expected = model(feed)["logits"].numpy()
  path = tmp_path / f"{name}_{layout}.tflite"
  result = convert(model, "tflite-float32", path)
  output = open_runtime(path).run(feed)["logits"]
  assert output.shape == expected.shape
  assert np.abs(expected).max() > 1e-2
  np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-5)
  if name != "edge_conv":
    segment_ops = result.ops.get("UNSORTED_SEGMENT_SUM", 0)
    assert segment_ops >= 1 if layout == "sparse" else segment_ops == 0
    assert (result.ops.get("BATCH_MATMUL", 0) >= 1) == (layout == "dense")


def _random_graph(rng, capacity, num_features):
  n = int(rng.integers(capacity // 2, capacity + 1))
  e = int(rng.integers(n, 3 * n))
  source = rng.integers(0, n, e)
  target = (source + rng.integers(1, n, e)) % n  # no self-loops
  return Graph(rng.random((n, num_features)).astype(np.float32), source, target)


def test_dense_gcn_full_int8(tmp_path):
  capacity, num_features = 8, 6
  rng = np.random.default_rng(19)
  model = build_model(ModelSpec("gcn", hidden_units=16, dropout=0.0),
                      num_features=num_features, num_classes=3, layout="dense",
                      capacity=capacity)
  representative = [feeds.graph_feed(_random_graph(rng, capacity, num_features), "dense",
                                     capacity) for _ in range(16)]
  path = tmp_path / "gcn.int8.tflite"
  result = convert(model, "tflite-int8", path, representative_feeds=representative)
  info = tflite_file.read_model(path)
  assert tflite_file.float_compute_ops(info) == []
  assert result.ops.get("BATCH_MATMUL", 0) == 2 and "UNSORTED_SEGMENT_SUM" not in result.ops
  assert info.runtimes.tflm_compatible
  runtime = open_runtime(path)
  agree = total = 0
  for _ in range(8):
    graph = _random_graph(rng, capacity, num_features)
    feed = feeds.graph_feed(graph, "dense", capacity)
    expected = model(feed)["logits"].numpy()[:graph.num_nodes]
    output = runtime.run(feed)["logits"][:graph.num_nodes]
    np.testing.assert_allclose(output, expected, atol=0.25 * np.abs(expected).max())
    agree += int((output.argmax(1) == expected.argmax(1)).sum())
    total += graph.num_nodes
  assert agree >= 0.85 * total, f"{agree}/{total}"
