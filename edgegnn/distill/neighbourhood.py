"""k-hop neighbourhood extraction with numpy: what a GNN needs to classify one node.

`InEdgeIndex(graph)` sorts the edges by target once (CSR of in-edges); `k_hop(v, k)`
returns the subgraph a k-layer message-passing model needs for node v, relabelled
0..n-1 with v first:

* `exact=True` (default): every in-edge of every node within k hops of v (following edges
  backwards, u -> ... -> v), with its source. The sources one hop further out are needed
  only so that the k-hop nodes keep their full in-degree (GCN's D^-1/2, mean and softmax
  normalisations); v's output then equals its output on the whole graph.
* `exact=False`: the induced subgraph on the k-hop nodes (smaller; the outermost nodes'
  degrees are cut, so v's output can differ).

"""
from __future__ import annotations

import numpy as np

from edgegnn.data import Graph


class InEdgeIndex:
  """In-edges grouped by target: `sources[indptr[v]:indptr[v + 1]]` are v's in-neighbours."""

  def __init__(self, graph: Graph):
    order = np.argsort(graph.edge_target, kind="stable")
    self.sources = graph.edge_source[order].astype(np.int64)
    self.targets = graph.edge_target[order].astype(np.int64)
    counts = np.bincount(self.targets, minlength=graph.num_nodes)
    self.indptr = np.concatenate([[0], np.cumsum(counts)])
    self.features = graph.node_features

  def _in_edge_ids(self, nodes: np.ndarray) -> np.ndarray:
    starts, ends = self.indptr[nodes], self.indptr[nodes + 1]
    lengths = ends - starts
    if not lengths.sum():
      return np.zeros(0, np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    return np.arange(lengths.sum()) + offsets

  def k_hop(self, node: int, k: int = 2, exact: bool = True) -> dict[str, np.ndarray]:
    """The sparse feed (node_features, edge_source, edge_target) of v's k-hop subgraph;
    v is node 0 of it (see the module doc for `exact`)."""
    frontier = np.array([node], np.int64)
    nodes = frontier
    for _ in range(k):
      frontier = np.setdiff1d(self.sources[self._in_edge_ids(frontier)], nodes)
      nodes = np.concatenate([nodes, frontier])
    edges = self._in_edge_ids(nodes)
    source = self.sources[edges]
    if exact:
      nodes = np.concatenate([nodes, np.setdiff1d(source, nodes)])
      keep = np.ones(len(edges), bool)
    else:
      keep = np.isin(source, nodes)
    members = np.sort(nodes)
    # relabel in `nodes` order (v -> 0): sorted rank -> position in `nodes`
    relabel = np.argsort(nodes, kind="stable")
    position = lambda ids: relabel[np.searchsorted(members, ids)]
    return {"node_features": self.features[nodes],
            "edge_source": position(source[keep]).astype(np.int32),
            "edge_target": position(self.targets[edges][keep]).astype(np.int32)}
