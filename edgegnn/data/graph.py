"""An immutable, numpy-only graph and the helpers that pad or batch it.

`Graph` is the unit every dataset is made of. It holds node features and a directed edge list
(edge j goes `edge_source[j] -> edge_target[j]`). Undirected graphs list both directions.
Nothing here imports TensorFlow, except `Graph.to_graph_tensor`, which does so lazily.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from edgegnn.data._arrays import readonly
from edgegnn.data.sparse import SparseFeatures, concatenate as _concatenate_sparse

NODE_SET = "nodes"
EDGE_SET = "edges"
FEATURE = "hidden_state"


class CapacityError(ValueError):
  """A graph has more nodes (or a node more in-neighbours) than the fixed capacity it must
  be padded to."""


NEIGHBOR_ROW_WIDTH = 16
"""Slots per in-neighbour row of the neighbors layout. A node with more in-neighbours
continues in overflow rows, so the work is about R*W + N*J entries instead of N*max-degree:
Cora (max in-degree 168, mean 3.9) needs 2708 x 168 = 455k slots in one row per node and
about 76k this way (docs/int8.md has the measured latencies)."""


def neighbor_row_shape(max_neighbors: int) -> tuple[int, int]:
  """(W, J): row width and overflow columns for in-degrees up to `max_neighbors`.

  W = min(max_neighbors, NEIGHBOR_ROW_WIDTH) and J = ceil(max_neighbors / W) - 1, the most
  overflow rows one node can need; J = 0 (one row per node) when max_neighbors <= 16.
  """
  if isinstance(max_neighbors, bool) or not isinstance(max_neighbors, (int, np.integer)) \
      or max_neighbors < 1:
    raise ValueError(f"max_neighbors must be an int >= 1, got {max_neighbors!r}.")
  width = min(int(max_neighbors), NEIGHBOR_ROW_WIDTH)
  return width, -(-int(max_neighbors) // width) - 1


def _index_array(value: Any, what: str) -> np.ndarray:
  """Coerces `value` to a 1-D int32 array, refusing non-integer input."""
  array = np.asarray(value)
  if array.ndim != 1:
    raise ValueError(f"{what} must be 1-D, got shape {array.shape}.")
  if array.size == 0:
    return np.zeros((0,), np.int32)
  if array.dtype.kind not in "iu":
    raise ValueError(f"{what} must hold integers, got dtype {array.dtype}.")
  return array


@dataclasses.dataclass(frozen=True, eq=False)
class Graph:
  """A directed graph with float32 node features.

  Arrays are coerced on construction (features to float32, edge indices to int32) and
  stored as read-only views. Equality is identity (arrays have no single truth value).

  Features are dense (`node_features`), sparse (`sparse_features`, CSR of the non-zeros:
  for graphs whose dense matrix would not fit in memory, e.g. a million-node synthetic
  graph), or both (then the same matrix; only the shapes are checked). A graph with
  sparse features only has `node_features` None: code that needs dense rows calls
  `dense_features()`.

  Attributes:
    node_features: float32 [N, F], one row per node; None if only `sparse_features`.
    edge_source: int32 [E], the source node of each edge.
    edge_target: int32 [E], the target node of each edge.
    sparse_features: the same [N, F] features as CSR (`SparseFeatures`), or None.
  """
  node_features: np.ndarray | None
  edge_source: np.ndarray
  edge_target: np.ndarray
  sparse_features: SparseFeatures | None = None

  def __post_init__(self):
    sparse = self.sparse_features
    if sparse is not None and not isinstance(sparse, SparseFeatures):
      raise ValueError(f"sparse_features must be an edgegnn.data.SparseFeatures, got "
                       f"{type(sparse).__name__}.")
    if self.node_features is None:
      if sparse is None:
        raise ValueError("a Graph needs node_features [N, F] or sparse_features (CSR); "
                         "got neither.")
      features = None
    else:
      features = self._checked_dense(self.node_features)
      if sparse is not None and (sparse.num_rows, sparse.num_features) != features.shape:
        raise ValueError(f"sparse_features is [{sparse.num_rows}, {sparse.num_features}] but "
                         f"node_features {features.shape}; both must hold the same matrix.")
    num_nodes = features.shape[0] if features is not None else sparse.num_rows
    self._check_edges(num_nodes)
    if features is not None:
      object.__setattr__(self, "node_features",
                         readonly(features.astype(np.float32, copy=False)))

  @staticmethod
  def _checked_dense(node_features) -> np.ndarray:
    features = np.asarray(node_features)
    if features.ndim != 2:
      raise ValueError(f"node_features must be 2-D [num_nodes, num_features], got shape "
                       f"{features.shape}.")
    if features.dtype.kind not in "biuf":
      raise ValueError(f"node_features must be numeric, got dtype {features.dtype}.")
    return features

  def _check_edges(self, num_nodes: int) -> None:
    source = _index_array(self.edge_source, "edge_source")
    target = _index_array(self.edge_target, "edge_target")
    if source.shape != target.shape:
      raise ValueError(f"edge_source and edge_target differ in length: {source.shape[0]} vs "
                       f"{target.shape[0]}.")
    for name, indices in (("edge_source", source), ("edge_target", target)):
      if indices.size and (indices.min() < 0 or indices.max() >= num_nodes):
        bad = indices[(indices < 0) | (indices >= num_nodes)][0]
        raise ValueError(f"{name} holds node index {bad}, outside [0, {num_nodes}) for a graph "
                         f"of {num_nodes} nodes.")
    object.__setattr__(self, "edge_source", readonly(source.astype(np.int32, copy=False)))
    object.__setattr__(self, "edge_target", readonly(target.astype(np.int32, copy=False)))

  @property
  def num_nodes(self) -> int:
    """Number of nodes N."""
    if self.node_features is None:
      return self.sparse_features.num_rows
    return int(self.node_features.shape[0])

  @property
  def num_edges(self) -> int:
    """Number of directed edges E."""
    return int(self.edge_source.shape[0])

  @property
  def num_features(self) -> int:
    """Node feature width F."""
    if self.node_features is None:
      return self.sparse_features.num_features
    return int(self.node_features.shape[1])

  def dense_features(self) -> np.ndarray:
    """float32 [N, F]: `node_features`, or the sparse features materialised (costs
    N * F * 4 bytes: only for graphs that fit)."""
    if self.node_features is not None:
      return self.node_features
    return self.sparse_features.to_dense()

  def in_degree(self) -> np.ndarray:
    """Returns int32 [N]: entry i counts the edges whose target is node i."""
    return np.bincount(self.edge_target, minlength=self.num_nodes).astype(np.int32)

  def _check_capacity(self, capacity: int | None) -> int:
    """Returns the capacity to pad to (default: N); raises CapacityError if N exceeds it."""
    if capacity is None:
      return self.num_nodes
    if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)):
      raise ValueError(f"capacity must be an int, got {capacity!r}.")
    capacity = int(capacity)
    if capacity < 0:
      raise ValueError(f"capacity must be >= 0, got {capacity}.")
    if self.num_nodes > capacity:
      raise CapacityError(
          f"Graph has num_nodes={self.num_nodes} but capacity={capacity}; nodes are never "
          f"dropped. Use a capacity of at least {self.num_nodes} (e.g. the dataset's "
          f"max_nodes), or leave this graph out.")
    return capacity

  def dense_adjacency(self, capacity: int | None = None) -> np.ndarray:
    """Returns the dense adjacency matrix, zero-padded to `capacity` rows and columns.

    A[t, s] gets 1 for each edge s -> t (parallel edges add up), so `A @ X` sums each
    node's incoming messages, matching sum aggregation over the edge list.

    Args:
      capacity: the padded size C; defaults to N.

    Returns:
      float32 [C, C].

    Raises:
      CapacityError: if N > capacity.
    """
    capacity = self._check_capacity(capacity)
    adjacency = np.zeros((capacity, capacity), np.float32)
    np.add.at(adjacency, (self.edge_target, self.edge_source), 1.0)
    return adjacency

  def padded_features(self, capacity: int | None = None) -> np.ndarray:
    """Returns float32 [C, F]: the node features followed by zero rows up to `capacity`.

    Raises:
      CapacityError: if N > capacity.
    """
    capacity = self._check_capacity(capacity)
    padded = np.zeros((capacity, self.num_features), np.float32)
    padded[:self.num_nodes] = self.dense_features()
    return padded

  def neighbor_lists(self, max_neighbors: int, capacity: int | None = None
                     ) -> dict[str, np.ndarray]:
    """Returns the in-neighbour rows of the neighbors layout (see `neighbor_row_shape`).

    Each node's in-neighbours (the sources s of its edges s -> t, in edge order; parallel
    edges repeat) fill rows of W = `neighbor_row_shape(max_neighbors)[0]` slots. Row t
    (t < C) is node t's first row; a node with more than W in-neighbours continues in
    overflow rows, stored after the C first rows and listed in `overflow_rows[t]`. Padding
    entries hold index 0 under a zero mask.

    Args:
      max_neighbors: the largest in-degree the artifact accepts (sets W and the J
        overflow columns).
      capacity: nodes C (default N); padding nodes are empty.

    Returns:
      "neighbors" int32 [R, W], "neighbor_mask" float32 [R, W], "in_degree" int32 [C];
      when J > 0 also "row_node" int32 [R] (the node of each row), "overflow_rows" int32
      [V, 1 + J] (for each of the V nodes with overflow rows: its first row, then its
      overflow rows; unused slots hold R - 1, an empty row) and "overflow_index" int32 [C]
      (a node's position in overflow_rows, V for the others; V = C when `capacity` is
      given). R = C if J = 0; otherwise
      R = C + the overflow rows
      this graph needs + 1, or C * (J + 1) + 1 (every possible overflow row) when
      `capacity` is given, so that graphs padded to one capacity share one static shape.

    Raises:
      CapacityError: if a node has more than `max_neighbors` in-edges or N > capacity
        (nothing is ever dropped).
    """
    padded = capacity is not None
    capacity = self._check_capacity(capacity)
    degree = self.in_degree()
    if len(degree) and degree.max() > max_neighbors:
      raise CapacityError(
          f"Node {int(degree.argmax())} has {int(degree.max())} in-neighbours but "
          f"max_neighbors={max_neighbors}; edges are never dropped. Export with "
          f"max_neighbors of at least {int(degree.max())} (the dataset's largest in-degree).")
    width, overflow = neighbor_row_shape(max_neighbors)
    order = np.argsort(self.edge_target, kind="stable")
    targets = self.edge_target[order]
    starts = np.concatenate([[0], np.cumsum(degree)])[:-1]
    position = np.arange(len(targets)) - starts[targets]      # slot within the node's list
    row_of_node = np.maximum(-(-degree // width) - 1, 0)      # overflow rows per node
    first_overflow = capacity + np.concatenate([[0], np.cumsum(row_of_node)])[:-1]
    rows = capacity
    if overflow:   # the overflow rows, then one empty row
      rows = 1 + (capacity * (overflow + 1) if padded else capacity + int(row_of_node.sum()))
    chunk = position // width
    row = np.where(chunk == 0, targets, first_overflow[targets] + chunk - 1)
    neighbors = np.zeros((rows, width), np.int32)
    mask = np.zeros((rows, width), np.float32)
    neighbors[row, position % width] = self.edge_source[order]
    mask[row, position % width] = 1.0
    padded_degree = np.zeros((capacity,), np.int32)
    padded_degree[:self.num_nodes] = degree
    lists = {"neighbors": neighbors, "neighbor_mask": mask, "in_degree": padded_degree}
    if overflow:
      row_node = np.zeros((rows,), np.int32)
      row_node[:capacity] = np.arange(capacity)
      overflowing = np.flatnonzero(row_of_node)
      listed = capacity if padded else len(overflowing)             # V
      overflow_rows = np.full((listed, overflow + 1), rows - 1, np.int32)  # the empty row
      overflow_index = np.full((capacity,), listed, np.int32)
      for position, node in enumerate(overflowing):
        extra = first_overflow[node] + np.arange(row_of_node[node])
        row_node[extra] = node
        overflow_rows[position, 0] = node
        overflow_rows[position, 1:1 + len(extra)] = extra
        overflow_index[node] = position
      lists.update(row_node=row_node, overflow_rows=overflow_rows,
                   overflow_index=overflow_index)
    return lists

  def node_mask(self, capacity: int | None = None) -> np.ndarray:
    """Returns float32 [C]: 1 for the N real nodes, 0 for padding.

    Raises:
      CapacityError: if N > capacity.
    """
    capacity = self._check_capacity(capacity)
    mask = np.zeros((capacity,), np.float32)
    mask[:self.num_nodes] = 1.0
    return mask

  def to_graph_tensor(self) -> Any:
    """Returns this graph as a `tfgnn.GraphTensor` with one component.

    Node set "nodes" carries the features as "hidden_state"; edge set "edges" goes from
    "nodes" to "nodes". Imports TensorFlow on first use (with Keras 2 selected first).
    """
    import edgegnn._keras_env  # pylint: disable=g-import-not-at-top,unused-import
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    import tensorflow_gnn as tfgnn  # pylint: disable=g-import-not-at-top
    node_set = tfgnn.NodeSet.from_fields(
        sizes=tf.constant([self.num_nodes], tf.int32),
        features={FEATURE: tf.constant(self.dense_features())})
    edge_set = tfgnn.EdgeSet.from_fields(
        sizes=tf.constant([self.num_edges], tf.int32),
        adjacency=tfgnn.Adjacency.from_indices(
            source=(NODE_SET, tf.constant(self.edge_source)),
            target=(NODE_SET, tf.constant(self.edge_target))))
    return tfgnn.GraphTensor.from_pieces(node_sets={NODE_SET: node_set},
                                         edge_sets={EDGE_SET: edge_set})


def merge_graphs(graphs: Sequence[Graph]) -> tuple[Graph, np.ndarray]:
  """Returns the disjoint union of `graphs` and the graph each node came from.

  Nodes keep their order (graph 0's nodes first); edge indices are offset accordingly.

  Args:
    graphs: one or more graphs with the same feature width.

  Returns:
    (merged graph, node_graph_index int32 [sum N], the position in `graphs` of each node).

  Raises:
    ValueError: if `graphs` is empty or the feature widths differ.
  """
  graphs = tuple(graphs)
  if not graphs:
    raise ValueError("merge_graphs needs at least one graph.")
  widths = sorted({g.num_features for g in graphs})
  if len(widths) > 1:
    raise ValueError(f"merge_graphs needs one feature width, got {widths}.")
  sizes = np.array([g.num_nodes for g in graphs], np.int64)
  offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
  if sizes.sum() > np.iinfo(np.int32).max:
    raise ValueError(f"merged graph would have {sizes.sum()} nodes, beyond int32 indices.")
  dense = all(g.node_features is not None for g in graphs)
  sparse = None
  if all(g.sparse_features is not None for g in graphs) or not dense:
    sparse = _concatenate_sparse(g.sparse_features if g.sparse_features is not None
                                 else SparseFeatures.from_dense(g.node_features)
                                 for g in graphs)
  merged = Graph(
      node_features=np.concatenate([g.node_features for g in graphs]) if dense else None,
      sparse_features=sparse,
      edge_source=np.concatenate([g.edge_source + o for g, o in zip(graphs, offsets)]),
      edge_target=np.concatenate([g.edge_target + o for g, o in zip(graphs, offsets)]))
  node_graph_index = np.repeat(np.arange(len(graphs), dtype=np.int32), sizes)
  return merged, node_graph_index
