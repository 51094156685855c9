"""k-hop in-neighbourhood extraction for per-node serving, device side (numpy only).

The common device query is "classify node v". A k-layer message-passing model computes
v's output from v's k-hop in-neighbourhood only, so the device extracts that subgraph
and runs the teacher's artifact on it instead of on the whole graph.

Contract. Let dist(u) be the length of the shortest directed path u -> ... -> v (edges
followed backwards from the seed v). `KHopExtractor(...).extract(v, k)` returns

* `node_ids`: the global ids of every node with dist <= k, the seed first (local index 0),
  then the nodes at dist 1 in increasing id, then dist 2, ... (each level sorted);
* `edge_source`, `edge_target` (local indices): every edge s -> t of the graph with
  dist(t) < k, in the CSR order (targets level by level, each target's in-edges in
  the CSR order). Its source has dist(s) <= k by construction, so it is among the nodes.
  These are exactly the edges layer l = 1..k reads to compute the outputs at the nodes
  with dist <= k - l, and hence the seed's output after k layers: layer-wise exact;
* `in_degree`: each extracted node's in-degree in the FULL graph. The nodes at dist k
  have none of their in-edges in the subgraph (and those at dist < k have all), so a
  degree normalisation (GCN's D^-1/2 (A + I) D^-1/2) must use these, not the subgraph's;
* with a feature CSR, `feature_node` / `feature_index` (/ `feature_value`): the local
  sparse features, one entry per non-zero of each extracted node's row, in node order.

Cost: k frontier expansions of a handful of vectorised numpy calls each (no Python loop
over edges or nodes), plus one feature gather. A node -> local-id map of N int32 is kept
between calls and reset after each (only the touched entries), so no call pays O(N).
That map makes an extractor NOT thread-safe: use one per thread.

No TensorFlow: runs where only numpy is installed.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np


_SMALL_FRONTIER = 24   # below this, Python slices of the CSR beat vectorised index maths


def _rows_are_simple(indptr: np.ndarray, sources: np.ndarray) -> bool:
  """True if every CSR row is strictly increasing and holds no self-loop."""
  if not sources.size:
    return True
  row = np.repeat(np.arange(indptr.size - 1), np.diff(indptr))
  same_row = row[1:] == row[:-1]
  return bool(np.all(sources[1:][same_row] > sources[:-1][same_row])
              and not np.any(sources == row))


def _sorted_unique(values: np.ndarray) -> np.ndarray:
  """np.unique for a small 1-D array, without its argument handling (a few microseconds
  per call at the sizes of a frontier)."""
  if values.size < 2:
    return values
  values = np.sort(values)
  keep = np.empty(values.size, np.bool_)
  keep[0] = True
  np.not_equal(values[1:], values[:-1], out=keep[1:])
  return values[keep]


class Subgraph(NamedTuple):
  """One seed's k-hop subgraph (see the module doc for the contract).

  Attributes:
    node_ids: int64 [n] global ids; node_ids[0] is the seed.
    edge_source: int32 [m] local source of each edge s -> t.
    edge_target: int32 [m] local target.
    in_degree: int64 [n] full-graph in-degree of each node.
    feature_node: int32 [nnz] local node of each feature non-zero (None without features).
    feature_index: int32 [nnz] feature column of each non-zero (None without features).
    feature_value: float32 [nnz] values (None without features or for binary features).
  """
  node_ids: np.ndarray
  edge_source: np.ndarray
  edge_target: np.ndarray
  in_degree: np.ndarray
  feature_node: Optional[np.ndarray] = None
  feature_index: Optional[np.ndarray] = None
  feature_value: Optional[np.ndarray] = None

  @property
  def num_nodes(self) -> int:
    return int(self.node_ids.shape[0])

  def inputs(self, num_features: int, values: bool = False) -> dict[str, np.ndarray]:
    """The inputs of a sparse-layout, sparse-feature artifact built for serving
    (`build_model(..., features="binary" or "sparse", serving=True)`): feature_node,
    feature_index (+ feature_value if `values`), edge_source, edge_target and the
    full-graph in_degree, all int32 (values float32). As in `feeds.sparse_feature_lists`,
    every node without a feature gets a padding entry (node, column `num_features`,
    value 0), so the entries name all n nodes in order (TFLite's SEGMENT_SUM needs it). The artifact's output
    row 0 is then the seed's full-graph output (the module doc's contract).

    Raises:
      ValueError: extracted without features.
    """
    if self.feature_node is None:
      raise ValueError("this subgraph has no features: build the KHopExtractor with the "
                       "feature CSR (feature_indptr, feature_indices).")
    node, index = self.feature_node, self.feature_index
    value = None
    if values:
      value = (self.feature_value if self.feature_value is not None
               else np.ones(node.size, np.float32))
    from edgegnn.models.feeds import pad_empty_nodes  # numpy only
    node, index, value = pad_empty_nodes(node, index, value, self.num_nodes, num_features)
    feed = {"feature_node": node, "feature_index": index, "edge_source": self.edge_source,
            "edge_target": self.edge_target, "in_degree": self.in_degree.astype(np.int32)}
    if values:
      feed["feature_value"] = value
    return feed


def _check_csr(indptr: np.ndarray, indices: np.ndarray, rows: Optional[int], what: str,
               columns: Optional[int] = None) -> None:
  if indptr.ndim != 1 or indptr.size < 1 or indptr[0] != 0:
    raise ValueError(f"{what}: row pointer must be 1-D, start at 0; got shape {indptr.shape}.")
  if rows is not None and indptr.size != rows + 1:
    raise ValueError(f"{what}: row pointer has {indptr.size} entries for {rows} rows; "
                     f"it needs rows + 1 = {rows + 1}.")
  if np.any(np.diff(indptr) < 0) or indptr[-1] != indices.size:
    raise ValueError(f"{what}: row pointer must be non-decreasing and end at the number of "
                     f"entries ({indices.size}); it ends at {indptr[-1]}.")
  if indices.size and indices.min() < 0:
    raise ValueError(f"{what}: indices must be >= 0, got {indices.min()}.")
  if indices.size and columns is not None and indices.max() >= columns:
    raise ValueError(f"{what}: indices must lie in [0, {columns}), got {indices.max()}.")


class KHopExtractor:
  """Built once from a graph's in-edge CSR; `extract(seed, k)` per query.

  Args:
    indptr: int [N + 1]; node t's in-neighbours (the sources s of edges s -> t) are
      `sources[indptr[t]:indptr[t + 1]]`.
    sources: int [E] the in-neighbour lists, concatenated.
    feature_indptr / feature_indices / feature_values: optional node-feature CSR
      (row t's non-zero columns are `feature_indices[feature_indptr[t]:feature_indptr[t+1]]`;
      values None for binary features).
    num_features: feature width, to check the column indices (optional).

  Raises:
    ValueError: a malformed CSR (named, with the expected sizes).
  """

  def __init__(self, indptr, sources, feature_indptr=None, feature_indices=None,
               feature_values=None, num_features: Optional[int] = None):
    self.indptr = np.ascontiguousarray(indptr, np.int64)
    self.sources = np.ascontiguousarray(sources, np.int64)
    _check_csr(self.indptr, self.sources, None, "in-edge CSR", self.indptr.size - 1)
    self.num_nodes = self.indptr.size - 1
    self.degree = np.diff(self.indptr)                  # full-graph in-degree
    # node -> local id during a call, -1 otherwise (reset after every call).
    self._local = np.full(self.num_nodes, -1, np.int32)
    # Rows sorted, without repeats or self-loops: the seed's row is then its first level
    # as it is (no np.unique), the common case of a simple undirected graph.
    self._simple_rows = _rows_are_simple(self.indptr, self.sources)
    self.has_features = feature_indptr is not None
    if self.has_features != (feature_indices is not None):
      raise ValueError("give both feature_indptr and feature_indices, or neither.")
    if self.has_features:
      self.feature_indptr = np.ascontiguousarray(feature_indptr, np.int64)
      self.feature_indices = np.ascontiguousarray(feature_indices, np.int32)
      _check_csr(self.feature_indptr, self.feature_indices, self.num_nodes, "feature CSR",
                 num_features)
      self.feature_values = (None if feature_values is None
                             else np.ascontiguousarray(feature_values, np.float32))
      if self.feature_values is not None and \
          self.feature_values.shape != self.feature_indices.shape:
        raise ValueError(f"feature_values has shape {self.feature_values.shape}, "
                         f"feature_indices {self.feature_indices.shape}; they must match.")
      self.feature_count = np.diff(self.feature_indptr)
    elif feature_values is not None:
      raise ValueError("feature_values needs feature_indptr and feature_indices.")

  @classmethod
  def from_edges(cls, edge_source, edge_target, num_nodes: int, **features) -> "KHopExtractor":
    """Builds the in-edge CSR from an edge list (edge j: edge_source[j] -> edge_target[j]);
    each target's in-neighbours sorted by id. `features` as in the constructor."""
    source = np.asarray(edge_source, np.int64)
    target = np.asarray(edge_target, np.int64)
    if source.shape != target.shape or source.ndim != 1:
      raise ValueError(f"edge_source {source.shape} and edge_target {target.shape} must be "
                       "1-D of one length.")
    if target.size and (min(source.min(), target.min()) < 0
                        or max(source.max(), target.max()) >= num_nodes):
      raise ValueError(f"edge indices must lie in [0, {num_nodes}).")
    order = np.lexsort((source, target))
    indptr = np.zeros(num_nodes + 1, np.int64)
    np.cumsum(np.bincount(target, minlength=num_nodes), out=indptr[1:])
    return cls(indptr, source[order], **features)

  @classmethod
  def from_graph(cls, graph) -> "KHopExtractor":
    """From an `edgegnn.data.Graph` (its edges, and its `sparse_features` CSR if it has
    one; dense-only features are not carried: pass a feature CSR to `from_edges`)."""
    sparse = getattr(graph, "sparse_features", None)
    features = {} if sparse is None else {
        "feature_indptr": sparse.row_splits, "feature_indices": sparse.indices,
        "feature_values": sparse.values, "num_features": sparse.num_features}
    return cls.from_edges(graph.edge_source, graph.edge_target, graph.num_nodes, **features)

  @staticmethod
  def _ranges(starts: np.ndarray, lengths: np.ndarray, total: int) -> np.ndarray:
    """Concatenation of arange(starts[i], starts[i] + lengths[i]) without a Python loop:
    position j of row i maps to starts[i] + (j - first position of row i)."""
    shift = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    shift += np.arange(total)
    return shift

  def _expand(self, frontier: np.ndarray, lo: int) -> tuple[np.ndarray, np.ndarray]:
    """In-neighbours of the frontier nodes (concatenated, CSR order) and, for each, the
    local id of its target (the frontier's local ids are lo, lo + 1, ...)."""
    if frontier.size <= _SMALL_FRONTIER:   # slices of the CSR: cheaper than index maths
      ip, sources = self.indptr, self.sources
      parts = [sources[ip.item(t):ip.item(t + 1)] for t in frontier.tolist()]
      found = np.concatenate(parts)
      lengths = [p.size for p in parts]
    else:
      lengths = self.degree[frontier]
      found = self.sources[self._ranges(self.indptr[frontier], lengths, int(lengths.sum()))]
    return found, np.repeat(np.arange(lo, lo + frontier.size, dtype=np.int32), lengths)

  def extract(self, seed: int, k: int = 2) -> Subgraph:
    """The seed's k-hop subgraph (module doc). k = 0 gives the seed alone, no edges.

    Raises:
      ValueError: seed outside [0, N) or k < 0.
    """
    seed = int(seed)
    if not 0 <= seed < self.num_nodes:
      raise ValueError(f"seed {seed} is outside [0, {self.num_nodes}).")
    if k < 0:
      raise ValueError(f"k must be >= 0, got {k}.")
    local = self._local
    levels = [np.array([seed], np.int64)]
    sources, targets = [], []
    count = 1                                       # nodes with a local id so far
    local[seed] = 0
    try:
      for hop in range(k):
        if hop == 0:                                # the seed's row: a plain slice
          found = self.sources[self.indptr.item(seed):self.indptr.item(seed + 1)]
          target = np.zeros(found.size, np.int32)
        else:
          frontier = levels[-1]
          found, target = self._expand(frontier, count - frontier.size)
        sources.append(found)
        targets.append(target)
        if hop == 0 and self._simple_rows:          # sorted, no repeats, no self-loop
          fresh = found
        else:
          fresh = _sorted_unique(found[local[found] < 0])  # the next level
        local[fresh] = np.arange(count, count + fresh.size, dtype=np.int32)
        count += fresh.size
        levels.append(fresh)
        if not fresh.size:                          # nothing further out
          break
      nodes = np.concatenate(levels) if len(levels) > 1 else levels[0]
      if len(sources) > 1:
        edge_source = local[np.concatenate(sources)]
        edge_target = np.concatenate(targets)
      elif sources:
        edge_source, edge_target = local[sources[0]], targets[0]
      else:
        edge_source = edge_target = np.zeros(0, np.int32)
    except BaseException:                           # leave the map clean for the next call
      local[np.concatenate(levels)] = -1
      raise
    local[nodes] = -1
    if not self.has_features:
      return Subgraph(nodes, edge_source, edge_target, self.degree[nodes])
    lengths = self.feature_count[nodes]
    total = int(lengths.sum())
    entries = self._ranges(self.feature_indptr[nodes], lengths, total)
    feature_node = np.repeat(np.arange(nodes.size, dtype=np.int32), lengths)
    values = None if self.feature_values is None else self.feature_values[entries]
    return Subgraph(nodes, edge_source, edge_target, self.degree[nodes], feature_node,
                    self.feature_indices[entries], values)
