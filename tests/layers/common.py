"""Shared inputs and independent numpy references of the layer tests.

The graph used by most tests (5 nodes, 7 directed edges s -> t; node 4 has no incoming
edge, node 3 has three):

    0 -> 1, 1 -> 2, 2 -> 0, 3 -> 0, 0 -> 3, 4 -> 3, 2 -> 3

`MULTI` adds a self-loop 3 -> 3 and a parallel edge 0 -> 1. The references loop over
edges (or use an explicit adjacency with multiplicities) and share no code with
`edgegnn.layers`.
"""
import math

import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import numpy as np
import tensorflow as tf

from edgegnn.data import Graph

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


def layout_inputs(graph):
  """The two graph inputs of a layer: GraphTensor (sparse) and adjacency [N, N] (dense)."""
  return {"sparse": graph.to_graph_tensor(), "dense": graph.dense_adjacency()}


def reference_adjacency(graph):
  """Independent numpy adjacency: A[t, s] = number of edges s -> t."""
  a = np.zeros((graph.num_nodes, graph.num_nodes))
  for s, t in zip(graph.edge_source, graph.edge_target):
    a[t, s] += 1
  return a


def assert_close(actual, expected):
  np.testing.assert_allclose(np.asarray(actual), expected, rtol=RTOL, atol=ATOL)


def randomize_weights(layer, rng, scale=0.5):
  """Replaces every weight with random values (biases become non-zero; BatchNorm
  variances stay positive)."""
  values = []
  for w in layer.weights:
    value = rng.normal(scale=scale, size=w.shape)
    values.append(np.abs(value) + 0.5 if "variance" in w.name else value)
  layer.set_weights([v.astype(np.float32) for v in values])


def constant_dense(units, kernel, bias=None, **kwargs):
  """A Dense layer with a known kernel (and bias, if given)."""
  return tf.keras.layers.Dense(
      units, use_bias=bias is not None,
      kernel_initializer=tf.keras.initializers.Constant(kernel),
      bias_initializer=tf.keras.initializers.Constant(0.0 if bias is None else bias), **kwargs)


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


def set_attention_weights(layer, rng, kind_vectors=True):
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


# Points of two graphs, {0, 1, 2} and {3, 4}, and a padding node 5; distinct distances.
POINTS = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.5], [5.0, 5.0], [5.5, 7.0], [1.0, 1.0]],
                  np.float32)
CANDIDATES = np.zeros((6, 6), np.float32)
CANDIDATES[:3, :3] = 1.0
CANDIDATES[3:5, 3:5] = 1.0


# Points on a grid: many equal distances (ties broken toward the lower node index).
GRID = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0], [2.0, 2.0]],
                np.float32)


# Node states (>= 0, as after a ReLU) and membership: graph 0 = {0, 1, 2}, graph 1 =
# {3, 4}, graph 2 empty; node 5 is padding.
STATES = np.array([[1.0, 0.0, 2.0], [3.0, 1.0, 0.5], [0.0, 4.0, 1.0], [2.0, 2.0, 2.0],
                   [0.5, 6.0, 0.0], [9.0, 9.0, 9.0]], np.float32)
MEMBERSHIP = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 0], [0, 0, 0, 0, 0, 0]],
                      np.float32)
