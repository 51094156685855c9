"""The graph layouts a layer can aggregate over: edge lists, dense adjacency, neighbour lists.

Every message-passing layer of edgegnn is written once, against the small interface
below, and runs unchanged in either layout:

* `SparseStructure`: edges as index vectors `source`, `target` (int32 [E]); edge values
  are [E, ...] tensors; aggregation is GATHER + UNSORTED_SEGMENT_SUM. This is what a
  `tfgnn.GraphTensor` holds, and what converts to float TFLite with builtin ops.
* `DenseStructure`: a padded adjacency `A` [N, N] with `A[t, s] = 1` for an edge s -> t;
  edge values are [N, N, ...] tensors (entry [t, s]); aggregation is BATCH_MATMUL. This
  converts to *full-integer* TFLite and runs on tflite-micro, where segment ops do not.
* `NeighborStructure`: padded in-neighbour rows ("ELL"): `neighbors` int32 [R, W] (a row
  lists sources s of edges s -> t for one target t), `neighbor_mask` [R, W] (1 for a real
  entry, 0 for padding) and `in_degree` int32 [N]; row t < N is node t's first row, and a
  node with more than W in-neighbours continues in overflow rows (`row_node` [R],
  `overflow_rows` [V, 1 + J], `overflow_index` [N]). Edge values are [R, W, ...] tensors;
  aggregation is GATHER + MUL + SUM per row, then a GATHER + SUM of the rows of the
  nodes that overflow.
  Memory is about R*W + V*J instead of N*N (or N*max-degree), and it converts to
  *full-integer* TFLite that is fast on large sparse graphs (Cora: see docs/int8.md).

Degree-derived scales (GCN's D^-1/2, SAGE's 1/deg) go through `degree_function(fn)`. In
the neighbour layout fn is evaluated on the integers 0..max-degree at conversion time and looked up
by the int32 degree (a GATHER of a constant table), so a full-int8 artifact never
quantizes a degree count: an 8-bit degree tensor spanning 1..169 (Cora) cannot tell
degree 1 from 2, which cost 12 points of agreement in the dense layout.

Edge values are built only from `source_values(x)` / `target_values(x)` plus elementwise
ops, so the same layer code broadcasts to [E, ...] or [N, N, ...].
"""
from __future__ import annotations

from typing import Optional, Union
import numpy as np

from edgegnn import _keras_env  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TF)
import tensorflow as tf
import tensorflow_gnn as tfgnn

NODE_SET = "nodes"
EDGE_SET = "edges"
DEGREE_FEATURE = "in_degree"   # optional node feature: in-degrees given, not counted


class SparseStructure:
  """Edge-list view of a homogeneous graph (one node set, one edge set)."""

  def __init__(self, source: tf.Tensor, target: tf.Tensor, num_nodes: tf.Tensor,
               degree: Optional[tf.Tensor] = None):
    self.source = tf.cast(source, tf.int32)
    self.target = tf.cast(target, tf.int32)
    self.num_nodes = num_nodes
    # In-degrees given with the graph (float [N]), so in_degree() need not count edges:
    # an UNSORTED_SEGMENT_SUM over E entries per call (Cora: a tenth of a sparse-feature
    # GCN's latency).
    self.degree = degree

  @classmethod
  def from_graph_tensor(cls, graph: tfgnn.GraphTensor,
                        edge_set_name: str = EDGE_SET) -> "SparseStructure":
    edge_set = graph.edge_sets[edge_set_name]
    node_set_name = edge_set.adjacency.source_name
    node_set = graph.node_sets[node_set_name]
    num_nodes = tf.reduce_sum(node_set.sizes)
    degree = None
    if DEGREE_FEATURE in node_set.features:
      degree = tf.cast(node_set[DEGREE_FEATURE], tf.float32)
    return cls(edge_set.adjacency[tfgnn.SOURCE], edge_set.adjacency[tfgnn.TARGET],
               num_nodes, degree)

  def with_self_loops(self) -> "SparseStructure":
    # The limit is tied to the (runtime) edge indices so that an export with a static
    # node count does not fold the [N] loop indices into a buffer (4N bytes: 10.8 KB on
    # Cora, a third of the binary GCN's LCE artifact): min(sum(target[:1]), 0) is 0.
    count = tf.cast(self.num_nodes, tf.int32)
    limit = count + tf.minimum(tf.reduce_sum(self.target[:1]), 0)
    loops = tf.range(limit, dtype=tf.int32)
    static = tf.get_static_value(count)
    if static is not None:
      loops.set_shape([int(static)])
    degree = None if self.degree is None else self.degree + 1.0
    return SparseStructure(tf.concat([self.source, loops], 0),
                           tf.concat([self.target, loops], 0), self.num_nodes, degree)

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
    if self.degree is not None:
      return self.degree
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

  # Hooks of a layout that stores a node's entries in several rows (see NeighborStructure);
  # here one row per node, so they are identities.
  def _present(self, multiplicity: tf.Tensor) -> tf.Tensor:
    """1 for entries with multiplicity > 0 (no CAST where the mask is already 0/1)."""
    return tf.cast(multiplicity > 0, multiplicity.dtype)

  def _per_row(self, node_values: tf.Tensor) -> tf.Tensor:
    return node_values

  def _rows_to_nodes(self, row_values: tf.Tensor) -> tf.Tensor:
    return row_values

  def _peak_of_rows(self, row_peaks: tf.Tensor, row_used: tf.Tensor) -> tf.Tensor:
    del row_used
    return row_peaks

  def softmax_at_target(self, edge_logits: tf.Tensor) -> tf.Tensor:
    r"""Per-entry softmax of [N or R, M, H] logits over each target's real entries (the
    multiplicity m_ts > 0 entries, each counted m_ts times); division-free and
    int8-friendly. Written once for both row layouts: the row hooks above are identities
    in the dense layout and take a node's several rows into account in the neighbour one.

    With n_t = sum_s m_ts (n_t^{-1/2} from `degree_function`, a degree-table lookup in the
    neighbour layout):

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
    """
    rank = len(edge_logits.shape)
    node_shape = lambda x: tf.reshape(x, [-1] + [1] * (rank - 2))       # [N] -> [N, 1...]
    multiplicity = self._edge_mask(rank)
    present = self._present(multiplicity)
    inverse_root = self.degree_function(_inverse_root)                  # n_t^{-1/2}, [N]
    row_root = tf.expand_dims(node_shape(self._per_row(inverse_root)), 1)
    row_weight = multiplicity * (row_root * row_root)                   # m_ts / n_t
    fill = self._rows_to_nodes(tf.reduce_sum(edge_logits * row_weight, axis=1))
    filled = edge_logits * present + tf.expand_dims(self._per_row(fill), 1) * (1.0 - present)
    peak = self._peak_of_rows(tf.reduce_max(filled, axis=1), tf.reduce_max(present, axis=1))
    weights = tf.exp(filled - tf.expand_dims(self._per_row(peak), 1)) * present
    mean_weight = self._rows_to_nodes(tf.reduce_sum(weights * row_weight, axis=1))
    root = node_shape(inverse_root) * tf.math.rsqrt(tf.maximum(mean_weight, 1e-12))
    row_scale = tf.expand_dims(self._per_row(root), 1)
    return (weights * row_scale) * row_scale


class DenseStructure(_RowStructure):
  """Padded adjacency view: `adjacency[t, s] = 1` for an edge s -> t (zero padding).

  An entry adjacency[t, s] = m > 1 stands for m parallel edges (or a data self-loop plus
  the added one): in `softmax_at_target` each is one term of the normaliser, as in the
  sparse layout, and `weighted_neighbor_sum` multiplies by m again.
  """

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

  def weighted_neighbor_sum(self, edge_weights: tf.Tensor, x: tf.Tensor) -> tf.Tensor:
    """edge_weights broadcastable to [N, N, H], x [N, H, C] -> [N, H, C] (H batched matmuls)."""
    per_head = tf.transpose(edge_weights * self._edge_mask(3), [2, 0, 1])   # [H, T, S]
    values = tf.transpose(x, [1, 0, 2])                     # [H, S, C]
    return tf.transpose(tf.matmul(per_head, values), [1, 0, 2])


class NeighborStructure(_RowStructure):
  """In-neighbour rows: each row lists sources of one target's in-edges.

  Edge values are [R, W, ...] tensors, entry (r, w) the edge neighbors[r, w] -> row_node[r].
  Row t < N is node t's first row; a node with more than W in-neighbours continues in
  overflow rows. The V nodes that overflow are listed once each: `overflow_rows[v]` holds
  all rows of one of them (its first row, then its overflow rows, padded with an empty
  row), and `overflow_index[t]` is t's position v in that list, or V for the other nodes
  (`edgegnn.data.Graph.neighbor_lists`). Listing only the overflowing nodes keeps the
  second level at V * J entries instead of N * J (Cora: V = 40 of 2,708). Sums over a
  node's in-edges are taken per row, then over the node's rows:

    sum_{s -> t} e_ts = rowsum_t + extra_{overflow_index[t]},
    extra_v = sum_{j >= 1} rowsum_{overflow_rows[v, j]},   extra_V = 0,
    rowsum_r = sum_w neighbor_mask[r, w] * e_{r, w}.


  Args:
    neighbors: int32 [R, W]; padding entries may hold any valid node index.
    neighbor_mask: float [R, W], 1 for real entries and 0 for padding.
    in_degree: int32 [N], the in-edges of each node.
    row_node: int32 [R], the target node of each row (None: one row per node, R = N).
    overflow_rows: int32 [V, 1 + J], all rows of each overflowing node, padded with the
      index of an empty row (None: no overflow).
    overflow_index: int32 [N], each node's position in `overflow_rows`, V if it has one
      row only.
    self_loops: whether `neighbors` carries the self-loop column of `with_self_loops`.
  """

  def __init__(self, neighbors: tf.Tensor, neighbor_mask: tf.Tensor, in_degree: tf.Tensor,
               row_node: tf.Tensor | None = None, overflow_rows: tf.Tensor | None = None,
               overflow_index: tf.Tensor | None = None, self_loops: bool = False):
    given = [x is not None for x in (row_node, overflow_rows, overflow_index)]
    if any(given) and not all(given):
      raise ValueError(f"Overflow rows need all of {NEIGHBOR_OVERFLOW_INPUTS}; got "
                       f"{[k for k, g in zip(NEIGHBOR_OVERFLOW_INPUTS, given) if g]}.")
    self.neighbors = tf.cast(neighbors, tf.int32)
    self.mask = self.entry_mask = tf.cast(neighbor_mask, tf.float32)
    self.degree = tf.cast(in_degree, tf.int32)
    self.num_nodes = tf.shape(self.degree)[0]
    self.row_node = None if row_node is None else tf.cast(row_node, tf.int32)
    self.overflow_rows = None if overflow_rows is None else tf.cast(overflow_rows, tf.int32)
    self.overflow_index = None if overflow_index is None else tf.cast(overflow_index, tf.int32)
    self.self_loops = self_loops
    width = self.neighbors.shape[1]
    overflow = 0 if self.overflow_rows is None else self.overflow_rows.shape[1]
    if width is None or overflow is None:
      raise ValueError("The neighbour layout needs static row widths: neighbors [R, W] and "
                       "overflow_rows [V, 1 + J] with W and J known.")
    overflow = max(overflow - 1, 0)
    # The largest in-degree the rows can hold; degree tables cover 0..max_degree.
    self.max_degree = (width - int(self_loops)) * (overflow + 1) + int(self_loops)

  @property
  def _two_level(self) -> bool:
    return self.row_node is not None

  def with_self_loops(self) -> "NeighborStructure":
    """Adds a column holding each node's self-loop in its first row (masked elsewhere)."""
    if not self._two_level:
      loops = tf.range(self.num_nodes, dtype=tf.int32)[:, None]
      loop_mask = tf.ones_like(self.mask[:, :1])
    else:
      loops = tf.expand_dims(self.row_node, 1)
      # Rows t < N are first rows; PAD (not CONCAT with zeros) has an int8 kernel.
      loop_mask = tf.pad(tf.ones_like(self.mask[:self.num_nodes, :1]),
                         [[0, tf.shape(self.mask)[0] - self.num_nodes], [0, 0]])
    return NeighborStructure(tf.concat([self.neighbors, loops], 1),
                             tf.concat([self.mask, loop_mask], 1), self.degree + 1,
                             self.row_node, self.overflow_rows, self.overflow_index,
                             self_loops=True)

  def source_values(self, x: tf.Tensor) -> tf.Tensor:
    return tf.gather(x, self.neighbors)

  def target_values(self, x: tf.Tensor) -> tf.Tensor:
    return tf.expand_dims(self._per_row(x), 1)

  def _per_row(self, node_values: tf.Tensor) -> tf.Tensor:
    """[N, ...] -> [R, ...]: each row gets its node's value."""
    return tf.gather(node_values, self.row_node) if self._two_level else node_values

  def _to_nodes(self, first: tf.Tensor, extra: tf.Tensor) -> tf.Tensor:
    """first [N, ...] + the overflowing nodes' extra [V, ...] (0 for the other nodes)."""
    padding = [[0, 1]] + [[0, 0]] * (len(extra.shape) - 1)
    return first + tf.gather(tf.pad(extra, padding), self.overflow_index)

  def _rows_to_nodes(self, row_values: tf.Tensor) -> tf.Tensor:
    """[R, ...] -> [N, ...]: each node's first row plus its overflow rows (unused slots
    point at an empty row, whose sums are 0)."""
    if not self._two_level:
      return row_values
    overflow = tf.gather(row_values, self.overflow_rows[:, 1:])          # [V, J, ...]
    return self._to_nodes(row_values[:self.num_nodes], tf.reduce_sum(overflow, axis=1))

  def _peak_of_rows(self, row_peaks: tf.Tensor, row_used: tf.Tensor) -> tf.Tensor:
    """[R, H] row maxima -> [N, H] node maxima over the rows that hold entries (an empty
    row counts as the node's first row, keeping values inside the logit range)."""
    if not self._two_level:
      return row_peaks
    rows = tf.gather(row_peaks, self.overflow_rows)                      # [V, 1 + J, H]
    used = tf.gather(row_used, self.overflow_rows)                       # [V, 1 + J, 1]
    first = rows[:, :1]
    rows = rows * used + first * (1.0 - used)
    return self._to_nodes(row_peaks[:self.num_nodes],
                          tf.reduce_max(rows, axis=1) - first[:, 0])

  def _row_sum(self, weights: tf.Tensor, x: tf.Tensor) -> tf.Tensor:
    """sum_w weights[r, w] x[neighbors[r, w]] per row: weights [R, W], x [N, ...] ->
    [R, ...], as GATHER + MUL + SUM. (A BATCH_MATMUL [R, 1, W] @ [R, W, D] accumulates in
    int32 but ran the Cora int8 artifact at 0.89x float32 against 0.55x for MUL + SUM,
    with the same agreement, 0.984 / 0.985: `tools/bench_int8.py`, docs/int8.md.)"""
    if x.shape.rank == 2 or x.shape[1:].is_fully_defined():
      # Static trailing dims: reshape by constants, so no SHAPE/STRIDED_SLICE/PACK ops.
      trailing = x.shape[1:].as_list()
      flat = x if x.shape.rank == 2 else tf.reshape(x, [-1, int(np.prod(trailing))])
      summed = tf.reduce_sum(tf.expand_dims(weights, -1) * tf.gather(flat, self.neighbors), 1)
      return summed if x.shape.rank == 2 else tf.reshape(summed, [-1] + trailing)
    flat = tf.reshape(x, [tf.shape(x)[0], -1])
    summed = tf.reduce_sum(tf.expand_dims(weights, -1) * tf.gather(flat, self.neighbors), 1)
    summed = tf.reshape(summed, tf.concat([tf.shape(weights)[:1], tf.shape(x)[1:]], 0))
    summed.set_shape(weights.shape[:1].concatenate(x.shape[1:]))
    return summed

  def sum_at_target(self, edge_values: tf.Tensor) -> tf.Tensor:
    return self._rows_to_nodes(
        tf.reduce_sum(self._edge_mask(len(edge_values.shape)) * edge_values, axis=1))

  def neighbor_sum(self, x: tf.Tensor) -> tf.Tensor:
    return self._rows_to_nodes(self._row_sum(self.mask, x))

  def scaled_neighbor_sum(self, x: tf.Tensor, target_scale: tf.Tensor) -> tf.Tensor:
    """target_scale_t * sum_{s -> t} x_s, scaling each entry before the sum.

    Scaling before summing keeps the sum at the scale of the result: for a normalised
    aggregation (GCN, mean) its int8 range is not set by the unnormalised sums of the
    highest-degree nodes, which would leave low-degree nodes a handful of levels.
    """
    # expand_dims, not [:, None]: one op in the flatbuffer instead of RESHAPE + STRIDED_SLICE.
    weights = self.mask * tf.expand_dims(self._per_row(target_scale), 1)
    return self._rows_to_nodes(self._row_sum(weights, x))

  def in_degree(self) -> tf.Tensor:
    return tf.cast(self.degree, tf.float32)

  def degree_function(self, fn) -> tf.Tensor:
    """fn(in-degree) per node as a lookup of the constant table fn(0..max_degree)
    (int8-exact)."""
    table = fn(tf.range(self.max_degree + 1, dtype=tf.float32))
    return tf.gather(table, self.degree)

  def _present(self, multiplicity: tf.Tensor) -> tf.Tensor:
    return multiplicity      # the neighbour mask is 0/1

  def weighted_neighbor_sum(self, edge_weights: tf.Tensor, x: tf.Tensor) -> tf.Tensor:
    """sum_s w_{ts,h} x_{s,h,:}: edge_weights [R, W, H] (or [R, W, 1], shared by the
    heads), x [N, H, C] -> [N, H, C]."""
    return self.sum_at_target(edge_weights[..., None] * self.source_values(x))


NEIGHBOR_INPUTS = ("neighbors", "neighbor_mask", "in_degree")
NEIGHBOR_OVERFLOW_INPUTS = ("row_node", "overflow_rows", "overflow_index")

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
    return NeighborStructure(*(graph[k] for k in NEIGHBOR_INPUTS),
                             *(graph.get(k) for k in NEIGHBOR_OVERFLOW_INPUTS))
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
