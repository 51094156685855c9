"""The graph layouts a layer can aggregate over: edge lists, dense adjacency, neighbour lists.

Every message-passing layer of edgegnn is written once, against the small interface
below, and runs unchanged in either layout:

* `SparseStructure`: edges as index vectors `source`, `target` (int32 [E]); edge values
  are [E, ...] tensors; aggregation is GATHER + UNSORTED_SEGMENT_SUM. This is what a
  `tfgnn.GraphTensor` holds, and what converts to float TFLite with builtin ops.
* `DenseStructure`: a padded adjacency `A` [N, N] with `A[t, s] = 1` for an edge s -> t;
  edge values are [N, N, ...] tensors (entry [t, s]); aggregation is BATCH_MATMUL. This
  converts to *full-integer* TFLite and runs on tflite-micro, where segment ops do not.
* `NeighborStructure`: padded in-neighbour lists ("ELL"): `neighbors` int32 [N, K] (row t
  lists the sources s of the edges s -> t), `neighbor_mask` [N, K] (1 for a real entry,
  0 for padding) and `in_degree` int32 [N]; edge values are [N, K, ...] tensors;
  aggregation is GATHER + BATCH_MATMUL. Memory is N*K instead of N*N, and it converts to
  *full-integer* TFLite that is fast on large sparse graphs (Cora: see docs/int8.md).

Degree-derived scales (GCN's D^-1/2, SAGE's 1/deg) go through `degree_function(fn)`. In
the neighbour layout fn is evaluated on the integers 0..K at conversion time and looked up
by the int32 degree (a GATHER of a constant table), so a full-int8 artifact never
quantizes a degree count: an 8-bit degree tensor spanning 1..169 (Cora) cannot tell
degree 1 from 2, which cost 12 points of agreement in the dense layout.

Edge values are built only from `source_values(x)` / `target_values(x)` plus elementwise
ops, so the same layer code broadcasts to [E, ...] or [N, N, ...].
"""
from __future__ import annotations

from typing import Union

from edgegnn import _keras_env  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TF)
import tensorflow as tf
import tensorflow_gnn as tfgnn

NODE_SET = "nodes"
EDGE_SET = "edges"


class SparseStructure:
  """Edge-list view of a homogeneous graph (one node set, one edge set)."""

  def __init__(self, source: tf.Tensor, target: tf.Tensor, num_nodes: tf.Tensor):
    self.source = tf.cast(source, tf.int32)
    self.target = tf.cast(target, tf.int32)
    self.num_nodes = num_nodes

  @classmethod
  def from_graph_tensor(cls, graph: tfgnn.GraphTensor,
                        edge_set_name: str = EDGE_SET) -> "SparseStructure":
    edge_set = graph.edge_sets[edge_set_name]
    node_set_name = edge_set.adjacency.source_name
    num_nodes = tf.reduce_sum(graph.node_sets[node_set_name].sizes)
    return cls(edge_set.adjacency[tfgnn.SOURCE], edge_set.adjacency[tfgnn.TARGET],
               num_nodes)

  def with_self_loops(self) -> "SparseStructure":
    loops = tf.range(tf.cast(self.num_nodes, tf.int32), dtype=tf.int32)
    return SparseStructure(tf.concat([self.source, loops], 0),
                           tf.concat([self.target, loops], 0), self.num_nodes)

  def source_values(self, x: tf.Tensor) -> tf.Tensor:
    return tf.gather(x, self.source)

  def target_values(self, x: tf.Tensor) -> tf.Tensor:
    return tf.gather(x, self.target)

  def sum_at_target(self, edge_values: tf.Tensor) -> tf.Tensor:
    return tf.math.unsorted_segment_sum(edge_values, self.target, self.num_nodes)

  def neighbor_sum(self, x: tf.Tensor) -> tf.Tensor:
    """sum_{s -> t} x_s for every node t."""
    return self.sum_at_target(self.source_values(x))

  def scaled_neighbor_sum(self, x: tf.Tensor, target_scale: tf.Tensor) -> tf.Tensor:
    """target_scale_t * sum_{s -> t} x_s, target_scale [N]."""
    return target_scale[:, None] * self.neighbor_sum(x)

  def in_degree(self) -> tf.Tensor:
    # Derived from the target indices (not tf.ones_like) so that an export with a static
    # edge count does not fold an [E] vector of ones into a weight buffer.
    ones = tf.cast(tf.greater_equal(self.target, 0), tf.float32)
    return tf.math.unsorted_segment_sum(ones, self.target, self.num_nodes)

  def degree_function(self, fn) -> tf.Tensor:
    """fn(in-degree) per node, [N] float."""
    return fn(self.in_degree())

  def softmax_at_target(self, edge_logits: tf.Tensor) -> tf.Tensor:
    """Softmax of [E, H] logits over the incoming edges of each target node."""
    peak = tf.math.unsorted_segment_max(edge_logits, self.target, self.num_nodes)
    weights = tf.exp(edge_logits - tf.gather(peak, self.target))
    total = tf.gather(self.sum_at_target(weights), self.target)
    return weights / total

  def weighted_neighbor_sum(self, edge_weights: tf.Tensor, x: tf.Tensor) -> tf.Tensor:
    """sum_s w_{ts,h} x_{s,h,:}: edge_weights [E, H], x [N, H, C] -> [N, H, C]."""
    return self.sum_at_target(edge_weights[..., None] * self.source_values(x))


def _masked_softmax(edge_logits: tf.Tensor, multiplicity: tf.Tensor,
                    inverse_root_count: tf.Tensor, zero_one: bool = False) -> tf.Tensor:
  r"""Softmax over axis 1 (the sources of each target) of the entries with multiplicity
  m_ts > 0, each counted m_ts times; division-free and int8-friendly.

  With n_t = sum_s m_ts (`inverse_root_count` = n_t^{-1/2}, [N], e.g. a degree-table
  lookup) and P the entries with m_ts > 0:

    fill_t   = (1/n_t) sum_s m_ts e_ts                  (a mean of real logits, <= max)
    f_ts     = e_ts if m_ts > 0 else fill_t
    w_ts     = exp(f_ts - max_s f_ts) [m_ts > 0]        (in [0, 1]; 1 at the row max)
    a_t      = sum_s (m_ts / n_t) w_ts                  (in [1/n_t, 1]; each entry scaled
                                                         before the sum)
    r_t      = n_t^{-1/2} a_t^{-1/2}                    (= (sum_s m_ts w_ts)^{-1/2})
    alpha_ts = (w_ts r_t) r_t

  A row without entries gives alpha = 0 (a_t is floored at 1e-12), but then r_t is huge
  and an int8 calibration that sees such a row loses the range of r: add self-loops (the
  attention layers do). Clamping a_t at 1/n_t instead (exact for non-empty rows, bounds
  r_t <= 1) cost 0.003 of int8 agreement on Cora (mp sym-gat, seed 0: 0.971 against 0.974,
  `tools/int8_agreement.py --seeds 0 --cases mp-sym-gat`).

  Every intermediate keeps a small range, so a full-int8 artifact quantizes each one
  finely. Masking with a large constant (e_ts - 1e9 for padding) would make the
  masked-logit tensor span 1e9, so its int8 step (~4e6) rounds every real logit to 0 and
  the attention collapses to uniform weights; and the plain normaliser sum_s m_ts w_ts
  spans 1..max degree, leaving low-degree nodes (most of a citation graph) a handful of
  int8 levels.

  `zero_one`: multiplicity is already a 0/1 mask (no comparison and CAST, which have no
  int8 kernel).
  """
  present = multiplicity if zero_one else tf.cast(multiplicity > 0, edge_logits.dtype)
  inverse_root = tf.reshape(inverse_root_count,
                            [-1] + [1] * (len(edge_logits.shape) - 1))   # [N, 1, ...]
  inverse_count = inverse_root * inverse_root
  fill = tf.reduce_sum(edge_logits * (multiplicity * inverse_count), axis=1, keepdims=True)
  filled = edge_logits * present + fill * (1.0 - present)
  weights = tf.exp(filled - tf.reduce_max(filled, axis=1, keepdims=True)) * present
  mean_weight = tf.reduce_sum(weights * (multiplicity * inverse_count), axis=1, keepdims=True)
  root = inverse_root * tf.math.rsqrt(tf.maximum(mean_weight, 1e-12))
  return (weights * root) * root


def _inverse_root(count: tf.Tensor) -> tf.Tensor:
  """max(count, 1)^{-1/2}."""
  return tf.math.rsqrt(tf.maximum(count, 1.0))


class _RowStructure:
  """Layouts whose edge values are [N, M, ...] rows per target, with an entry mask [N, M]
  (`entry_mask`: the adjacency of the dense layout, the neighbour mask of neighbors)."""

  entry_mask: tf.Tensor

  def target_values(self, x: tf.Tensor) -> tf.Tensor:
    return tf.expand_dims(x, 1)

  def _edge_mask(self, rank: int) -> tf.Tensor:
    mask = self.entry_mask
    for _ in range(rank - 2):
      mask = tf.expand_dims(mask, -1)
    return mask

  def sum_at_target(self, edge_values: tf.Tensor) -> tf.Tensor:
    return tf.reduce_sum(self._edge_mask(len(edge_values.shape)) * edge_values, axis=1)


class DenseStructure(_RowStructure):
  """Padded adjacency view: `adjacency[t, s] = 1` for an edge s -> t (zero padding)."""

  def __init__(self, adjacency: tf.Tensor):
    self.adjacency = self.entry_mask = adjacency
    self.num_nodes = tf.shape(adjacency)[0]

  def with_self_loops(self) -> "DenseStructure":
    return DenseStructure(self.adjacency + tf.eye(self.num_nodes, dtype=self.adjacency.dtype))

  def source_values(self, x: tf.Tensor) -> tf.Tensor:
    return tf.expand_dims(x, 0)


  def neighbor_sum(self, x: tf.Tensor) -> tf.Tensor:
    if len(x.shape) == 2:
      return tf.matmul(self.adjacency, x)
    flat = tf.reshape(x, [self.num_nodes, -1])
    return tf.reshape(tf.matmul(self.adjacency, flat), tf.shape(x))

  def scaled_neighbor_sum(self, x: tf.Tensor, target_scale: tf.Tensor) -> tf.Tensor:
    """target_scale_t * sum_{s -> t} x_s, target_scale [N]."""
    return target_scale[:, None] * self.neighbor_sum(x)

  def in_degree(self) -> tf.Tensor:
    return tf.reduce_sum(self.adjacency, axis=1)

  def degree_function(self, fn) -> tf.Tensor:
    """fn(in-degree) per node, [N] float."""
    return fn(self.in_degree())

  def softmax_at_target(self, edge_logits: tf.Tensor) -> tf.Tensor:
    """Per-edge softmax of [N, N, H] logits over the in-edges of each target.

    An entry adjacency[t, s] = m > 1 stands for m parallel edges (or a data self-loop plus
    the added one): each is one term of the normaliser, as in the sparse layout, and
    `weighted_neighbor_sum` multiplies by m again.
    """
    return _masked_softmax(edge_logits, self._edge_mask(len(edge_logits.shape)),
                           self.degree_function(_inverse_root))

  def weighted_neighbor_sum(self, edge_weights: tf.Tensor, x: tf.Tensor) -> tf.Tensor:
    """edge_weights broadcastable to [N, N, H], x [N, H, C] -> [N, H, C] (H batched matmuls)."""
    per_head = tf.transpose(edge_weights * self._edge_mask(3), [2, 0, 1])   # [H, T, S]
    values = tf.transpose(x, [1, 0, 2])                     # [H, S, C]
    return tf.transpose(tf.matmul(per_head, values), [1, 0, 2])


class NeighborStructure(_RowStructure):
  """Padded in-neighbour lists: row t of `neighbors` holds the sources of t's in-edges.

  Args:
    neighbors: int32 [N, K]; padding entries may hold any valid node index.
    neighbor_mask: float [N, K], 1 for real entries and 0 for padding.
    in_degree: int32 [N], the number of real entries per row (<= K).
  """

  def __init__(self, neighbors: tf.Tensor, neighbor_mask: tf.Tensor, in_degree: tf.Tensor):
    self.neighbors = tf.cast(neighbors, tf.int32)
    self.mask = self.entry_mask = tf.cast(neighbor_mask, tf.float32)
    self.degree = tf.cast(in_degree, tf.int32)
    self.num_nodes = tf.shape(self.neighbors)[0]
    self.max_neighbors = self.neighbors.shape[1]
    if self.max_neighbors is None:
      raise ValueError("The neighbour layout needs a static K (neighbors shape [N, K]).")

  def with_self_loops(self) -> "NeighborStructure":
    loops = tf.range(self.num_nodes, dtype=tf.int32)[:, None]
    return NeighborStructure(tf.concat([self.neighbors, loops], 1),
                             tf.concat([self.mask, tf.ones_like(self.mask[:, :1])], 1),
                             self.degree + 1)

  def source_values(self, x: tf.Tensor) -> tf.Tensor:
    return tf.gather(x, self.neighbors)


  def _row_matmul(self, weights: tf.Tensor, x: tf.Tensor) -> tf.Tensor:
    """sum_k weights[t, k] x[neighbors[t, k]]: weights [N, K], x [N, ...] -> [N, ...].

    One BATCH_MATMUL ([N, 1, K] @ [N, K, D]) instead of MUL + SUM: in a full-int8 artifact
    the products are accumulated in int32 and only the sum is quantized, so no int8
    tensor of per-entry products (whose range is set by the largest single product) is
    materialised.
    """
    flat = tf.reshape(x, [self.num_nodes, -1])
    summed = tf.reshape(tf.matmul(weights[:, None, :], tf.gather(flat, self.neighbors))[:, 0, :],
                        tf.shape(x))
    summed.set_shape(x.shape)
    return summed

  def neighbor_sum(self, x: tf.Tensor) -> tf.Tensor:
    return self._row_matmul(self.mask, x)

  def scaled_neighbor_sum(self, x: tf.Tensor, target_scale: tf.Tensor) -> tf.Tensor:
    """target_scale_t * sum_{s -> t} x_s, scaling each entry before the sum.

    Scaling before summing keeps the sum at the scale of the result: for a normalised
    aggregation (GCN, mean) its int8 range is not set by the unnormalised sums of the
    highest-degree nodes, which would leave low-degree nodes a handful of levels.
    """
    return self._row_matmul(self.mask * target_scale[:, None], x)

  def in_degree(self) -> tf.Tensor:
    return tf.cast(self.degree, tf.float32)

  def degree_function(self, fn) -> tf.Tensor:
    """fn(in-degree) per node as a lookup of the constant table fn(0..K) (int8-exact)."""
    table = fn(tf.range(self.max_neighbors + 1, dtype=tf.float32))
    return tf.gather(table, self.degree)

  def softmax_at_target(self, edge_logits: tf.Tensor) -> tf.Tensor:
    """Per-entry softmax of [N, K, H] logits over each row's real entries."""
    return _masked_softmax(edge_logits, self._edge_mask(len(edge_logits.shape)),
                           self.degree_function(_inverse_root), zero_one=True)

  def weighted_neighbor_sum(self, edge_weights: tf.Tensor, x: tf.Tensor) -> tf.Tensor:
    """sum_s w_{ts,h} x_{s,h,:}: edge_weights [N, K, H] (or [N, K, 1], shared by the
    heads), x [N, H, C] -> [N, H, C], as BATCH_MATMULs (see `_row_matmul`)."""
    weights = edge_weights * self._edge_mask(3)
    if weights.shape[-1] == 1:
      return self._row_matmul(weights[..., 0], x)
    per_head = tf.transpose(weights, [2, 0, 1])[:, :, None, :]           # [H, N, 1, K]
    values = tf.gather(tf.transpose(x, [1, 0, 2]), self.neighbors, axis=1)  # [H, N, K, C]
    return tf.transpose(tf.matmul(per_head, values)[:, :, 0, :], [1, 0, 2])


NEIGHBOR_INPUTS = ("neighbors", "neighbor_mask", "in_degree")

Structure = Union[SparseStructure, DenseStructure, NeighborStructure]


def structure_of(graph) -> Structure:
  """The aggregation structure of a layer's `graph` input.

  Args:
    graph: a `tfgnn.GraphTensor` with node set "nodes" and edge set "edges" (sparse
      layout), a float adjacency tensor [N, N] (dense layout), or a dict with
      `neighbors`, `neighbor_mask` and `in_degree` (neighbour layout).
  """
  if isinstance(graph, (SparseStructure, DenseStructure, NeighborStructure)):
    return graph
  if isinstance(graph, tfgnn.GraphTensor):
    return SparseStructure.from_graph_tensor(graph)
  if isinstance(graph, dict):
    missing = [k for k in NEIGHBOR_INPUTS if k not in graph]
    if missing:
      raise ValueError(f"A neighbour-layout graph is a dict with {NEIGHBOR_INPUTS}; "
                       f"missing {missing}.")
    return NeighborStructure(*(graph[k] for k in NEIGHBOR_INPUTS))
  graph = tf.convert_to_tensor(graph)
  if graph.shape.rank != 2:
    raise ValueError(
        f"A dense graph input must be an adjacency matrix [N, N]; got shape {graph.shape}. "
        "Pass a tfgnn.GraphTensor for the sparse layout.")
  return DenseStructure(tf.cast(graph, tf.float32))


def reciprocal(x: tf.Tensor) -> tf.Tensor:
  """1 / x for x > 0, written as rsqrt(x) * rsqrt(x).

  TFLite's DIV and SQUARE have no int8 kernels, so they would leave float ops inside a
  full-int8 artifact; RSQRT and MUL have int8 kernels.
  """
  root = tf.math.rsqrt(x)
  return root * root
