"""Partitioners for the three federated settings of FedGraphNN (He et al., 2021).

* graph-level: the training graphs of a TU dataset are dealt to K clients, uniformly at
  random (`iid_split`) or with Dirichlet label skew (`dirichlet_label_split`).
* subgraph-level: one large graph is cut into K client subgraphs (`louvain_partition`:
  community detection, then communities packed into K balanced clients;
  `region_growing_partition`: METIS-like greedy graph growing). Each client keeps the
  subgraph induced by its nodes: edges between clients are lost, as in reality.
* node-level: the labelled training nodes are dealt to K clients; each client holds the
  union of the `hops`-hop ego-networks around its nodes (`ego_network_clients`).

Everything is numpy / scipy (networkx for Louvain) and deterministic given the seed.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp

from edgegnn.data import Graph, GraphClassificationDataset, NodeClassificationDataset
from edgegnn.federated.client_data import ClientData, GraphClientData, NodeClientData
from edgegnn.federated.config import FederatedConfig


def iid_split(num_items: int, num_clients: int, rng: np.random.Generator) -> list[np.ndarray]:
  """A uniformly random split of range(num_items) into `num_clients` near-equal parts."""
  if num_items < num_clients:
    raise ValueError(f"Cannot split {num_items} items among {num_clients} clients: every "
                     "client needs at least one. Use fewer clients.")
  return [np.sort(p) for p in np.array_split(rng.permutation(num_items), num_clients)]


def dirichlet_label_split(labels: np.ndarray, num_clients: int, alpha: float,
                          rng: np.random.Generator, min_size: int = 10,
                          max_draws: int = 1000) -> list[np.ndarray]:
  r"""Label-skewed split: for each class c, proportions p_c ~ Dir(alpha * 1_K).

  The items of class c are shuffled and cut at the cumulative proportions, so client k
  gets about p_ck * n_c of them. Draws are repeated until every client holds at least
  `min_size` items (the rule of FedML's partitioner).

  Args:
    labels: int [n], the class of each item.
    num_clients: K.
    alpha: Dirichlet concentration (small: each client sees few classes; large: IID).
    rng: random generator.
    min_size: minimum items per client.
    max_draws: give up after this many draws.

  Returns:
    K sorted arrays of item indices, disjoint, covering range(n).
  """
  labels = np.asarray(labels)
  if alpha <= 0:
    raise ValueError(f"alpha must be > 0, got {alpha}.")
  if len(labels) < num_clients * max(min_size, 1):
    raise ValueError(f"{len(labels)} items cannot give {num_clients} clients {min_size} "
                     "each; lower min_client_examples or num_clients.")
  for _ in range(max_draws):
    parts: list[list[np.ndarray]] = [[] for _ in range(num_clients)]
    for c in np.unique(labels):
      items = rng.permutation(np.flatnonzero(labels == c))
      proportions = rng.dirichlet(np.full(num_clients, alpha))
      cuts = (np.cumsum(proportions)[:-1] * len(items)).astype(int)
      for k, chunk in enumerate(np.split(items, cuts)):
        parts[k].append(chunk)
    split = [np.sort(np.concatenate(p)) for p in parts]
    if min(len(p) for p in split) >= min_size:
      return split
  raise ValueError(f"No Dirichlet(alpha={alpha}) draw in {max_draws} gave every client "
                   f"{min_size} items; raise alpha or lower min_client_examples.")


def _symmetric_adjacency(graph: Graph) -> sp.csr_matrix:
  n = graph.num_nodes
  a = sp.coo_matrix((np.ones(graph.num_edges), (graph.edge_source, graph.edge_target)),
                    shape=(n, n)).tocsr()
  a = ((a + a.T) > 0).astype(np.int8).tocsr()
  a.setdiag(0)
  a.eliminate_zeros()
  return a


def _pack_balanced(groups: Sequence[np.ndarray], num_nodes: int, num_clients: int) -> np.ndarray:
  """Assigns groups (largest first) to the client with the fewest nodes so far."""
  assignment = np.full(num_nodes, -1, np.int64)
  sizes = np.zeros(num_clients, np.int64)
  for group in sorted(groups, key=lambda g: (-len(g), int(np.min(g)))):
    k = int(np.argmin(sizes))
    assignment[group] = k
    sizes[k] += len(group)
  return assignment


def louvain_partition(graph: Graph, num_clients: int, seed: int) -> np.ndarray:
  """int [N] client of each node: Louvain communities packed into K balanced clients."""
  import networkx as nx  # pylint: disable=g-import-not-at-top
  if graph.num_nodes < num_clients:
    raise ValueError(f"{graph.num_nodes} nodes cannot make {num_clients} clients.")
  g = nx.Graph()
  g.add_nodes_from(range(graph.num_nodes))
  g.add_edges_from(zip(graph.edge_source.tolist(), graph.edge_target.tolist()))
  communities = nx.community.louvain_communities(g, seed=seed)
  groups = [np.fromiter(c, np.int64) for c in communities]
  return _pack_balanced(groups, graph.num_nodes, num_clients)


def region_growing_partition(graph: Graph, num_clients: int, seed: int) -> np.ndarray:
  """int [N] client of each node by balanced greedy graph growing (METIS' initial phase).

  K regions start at random seed nodes; the smallest region repeatedly absorbs the next
  unassigned node of its breadth-first frontier (or, with an empty frontier, a random
  unassigned node), so regions stay connected where the graph allows and sizes differ by
  at most one node per jump.
  """
  n = graph.num_nodes
  if n < num_clients:
    raise ValueError(f"{n} nodes cannot make {num_clients} clients.")
  rng = np.random.default_rng(seed)
  adjacency = _symmetric_adjacency(graph)
  assignment = np.full(n, -1, np.int64)
  frontiers: list[list[int]] = [[] for _ in range(num_clients)]
  heads = [0] * num_clients
  sizes = np.zeros(num_clients, np.int64)
  unassigned = list(rng.permutation(n))

  def take(k: int, node: int) -> None:
    assignment[node] = k
    sizes[k] += 1
    frontiers[k].extend(adjacency.indices[adjacency.indptr[node]:adjacency.indptr[node + 1]])

  for k in range(num_clients):
    while assignment[unassigned[-1]] >= 0:
      unassigned.pop()
    take(k, int(unassigned.pop()))
  for _ in range(n - num_clients):
    k = int(np.argmin(sizes))
    node = -1
    while heads[k] < len(frontiers[k]):
      candidate = int(frontiers[k][heads[k]])
      heads[k] += 1
      if assignment[candidate] < 0:
        node = candidate
        break
    while node < 0:
      candidate = int(unassigned.pop())
      if assignment[candidate] < 0:
        node = candidate
    take(k, node)
  return assignment


def induced_subgraph(graph: Graph, nodes: np.ndarray) -> Graph:
  """The subgraph on `nodes` (in that order); edges with an endpoint outside are dropped."""
  nodes = np.asarray(nodes, np.int64)
  local = np.full(graph.num_nodes, -1, np.int64)
  local[nodes] = np.arange(len(nodes))
  keep = (local[graph.edge_source] >= 0) & (local[graph.edge_target] >= 0)
  return Graph(graph.node_features[nodes], local[graph.edge_source[keep]],
               local[graph.edge_target[keep]])


def _node_client(dataset: NodeClassificationDataset, nodes: np.ndarray,
                 train_nodes: np.ndarray) -> NodeClientData:
  nodes = np.asarray(nodes, np.int64)
  rows = np.flatnonzero(np.isin(nodes, train_nodes))
  return NodeClientData(graph=induced_subgraph(dataset.graph, nodes),
                        labels=dataset.labels[nodes].astype(np.int32), train_rows=rows,
                        global_nodes=nodes)


def subgraph_clients(dataset: NodeClassificationDataset, num_clients: int, seed: int,
                     method: str = "louvain") -> list[NodeClientData]:
  """Subgraph-level clients: each holds the induced subgraph of its part of the graph."""
  partitioners = {"louvain": louvain_partition, "region_growing": region_growing_partition}
  if method not in partitioners:
    raise ValueError(f"Unknown subgraph method {method!r}; expected one of "
                     f"{', '.join(partitioners)}.")
  assignment = partitioners[method](dataset.graph, num_clients, seed)
  clients = [_node_client(dataset, np.flatnonzero(assignment == k), dataset.train_index)
             for k in range(num_clients)]
  empty = [k for k, c in enumerate(clients) if c.num_examples == 0]
  if empty:
    raise ValueError(f"Clients {empty} of the {method} partition hold no labelled training "
                     "node; use fewer clients.")
  return clients


def ego_network(graph: Graph, centers: np.ndarray, hops: int) -> np.ndarray:
  """Sorted ids of the nodes within `hops` (undirected) hops of any of `centers`."""
  adjacency = _symmetric_adjacency(graph)
  reached = np.zeros(graph.num_nodes, bool)
  reached[np.asarray(centers)] = True
  frontier = reached.copy()
  for _ in range(hops):
    frontier = (adjacency @ frontier.astype(np.int8)).astype(bool) & ~reached
    reached |= frontier
  return np.flatnonzero(reached)


def ego_network_clients(dataset: NodeClassificationDataset, num_clients: int, seed: int,
                        hops: int = 2) -> list[NodeClientData]:
  """Node-level clients: the labelled training nodes are dealt IID; each client holds the
  `hops`-hop ego-networks of its nodes (ego-networks of different clients may overlap;
  each labelled node is trained on by exactly one client)."""
  rng = np.random.default_rng(seed)
  centers = [dataset.train_index[p] for p in iid_split(len(dataset.train_index), num_clients, rng)]
  return [_node_client(dataset, ego_network(dataset.graph, c, hops), c) for c in centers]


def graph_clients(dataset: GraphClassificationDataset, train_index: np.ndarray,
                  num_clients: int, seed: int, iid: bool = True, alpha: float = 0.5,
                  min_size: int = 10) -> list[GraphClientData]:
  """Graph-level clients over the graphs in `train_index` (IID or Dirichlet label skew)."""
  rng = np.random.default_rng(seed)
  train_index = np.asarray(train_index)
  if iid:
    parts = iid_split(len(train_index), num_clients, rng)
  else:
    parts = dirichlet_label_split(dataset.labels[train_index], num_clients, alpha, rng, min_size)
  clients = []
  for part in parts:
    index = train_index[part]
    clients.append(GraphClientData(graphs=tuple(dataset.graphs[i] for i in index),
                                   labels=dataset.labels[index].astype(np.int32),
                                   global_index=index))
  return clients


def make_clients(dataset, config: FederatedConfig, seed: int) -> list[ClientData]:
  """The K clients of `config.setting` for `dataset` (deterministic in `seed`)."""
  if config.setting == "graph":
    if not isinstance(dataset, GraphClassificationDataset):
      raise ValueError(f"federated.setting graph needs a graph classification dataset; "
                       f"{dataset.name} is node-level: use setting subgraph or node.")
    train_index, _ = dataset.split(config.fold)
    return graph_clients(dataset, train_index, config.num_clients, seed, config.iid,
                         config.alpha, config.min_client_examples)
  if not isinstance(dataset, NodeClassificationDataset):
    raise ValueError(f"federated.setting {config.setting} needs one large graph (cora, "
                     f"citeseer); {dataset.name} holds many graphs: use setting graph.")
  if config.setting == "subgraph":
    return subgraph_clients(dataset, config.num_clients, seed, config.subgraph_method)
  return ego_network_clients(dataset, config.num_clients, seed, config.ego_hops)
