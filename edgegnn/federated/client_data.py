"""What one client holds: its own examples, fed to its model locally and never sent.

Two kinds, one interface (`num_examples`, `batches`):

* `NodeClientData`: a subgraph (subgraph- and node-level settings) with the local rows of
  the labelled training nodes it may train on.
* `GraphClientData`: whole graphs with their labels (graph-level setting).

`batches` yields `(feed, labels, rows)`: a model feed (see `edgegnn.models.feeds`), the
int32 labels of the examples, and for node data the local rows of those examples in the
model's per-node logits (None for graph data, whose logits are one row per graph).
"""
from __future__ import annotations

import dataclasses
from typing import Iterator, Optional, Sequence, Union

import numpy as np

from edgegnn.data import Graph
from edgegnn.models import feeds

Batch = tuple[dict[str, np.ndarray], np.ndarray, Optional[np.ndarray]]


@dataclasses.dataclass(frozen=True, eq=False)
class NodeClientData:
  """A client's subgraph.

  Attributes:
    graph: the local subgraph (nodes renumbered 0..n-1; only edges inside it).
    labels: int32 [n], the local nodes' labels (-1 unlabelled).
    train_rows: local rows of the labelled nodes this client trains on.
    global_nodes: the global id of each local node (bookkeeping for partition checks;
      it stays on the client like everything here).
  """
  graph: Graph
  labels: np.ndarray
  train_rows: np.ndarray
  global_nodes: np.ndarray

  @property
  def num_examples(self) -> int:
    return int(len(self.train_rows))

  def batches(self, batch_size: int = 0,
              rng: Optional[np.random.Generator] = None) -> Iterator[Batch]:
    """One full-subgraph batch: every local node is fed, the train rows are scored."""
    del batch_size, rng
    yield (feeds.graph_feed(self.graph), self.labels[self.train_rows].astype(np.int32),
           self.train_rows.astype(np.int32))


@dataclasses.dataclass(frozen=True, eq=False)
class GraphClientData:
  """A client's graphs.

  Attributes:
    graphs: the client's graphs.
    labels: int32 [g], one label per graph.
    global_index: each graph's index in the dataset (bookkeeping for partition checks).
  """
  graphs: tuple[Graph, ...]
  labels: np.ndarray
  global_index: np.ndarray

  @property
  def num_examples(self) -> int:
    return len(self.graphs)

  def batches(self, batch_size: int,
              rng: Optional[np.random.Generator] = None) -> Iterator[Batch]:
    """Batches of merged graphs (shuffled when `rng` is given)."""
    order = np.arange(len(self.graphs))
    if rng is not None:
      order = rng.permutation(order)
    for start in range(0, len(order), batch_size):
      chunk = order[start:start + batch_size]
      graphs: Sequence[Graph] = [self.graphs[i] for i in chunk]
      yield feeds.batch_feed(graphs), self.labels[chunk].astype(np.int32), None


ClientData = Union[NodeClientData, GraphClientData]


def label_counts(clients: Sequence[ClientData], num_classes: int) -> np.ndarray:
  """int [K, C]: training examples of each class held by each client."""
  rows = []
  for client in clients:
    labels = (client.labels[client.train_rows] if isinstance(client, NodeClientData)
              else client.labels)
    rows.append(np.bincount(labels, minlength=num_classes))
  return np.stack(rows)


def label_skew(clients: Sequence[ClientData], num_classes: int) -> float:
  r"""Mean total-variation distance between each client's and the pooled label distribution.

      skew = 1/K sum_k 1/2 sum_c | p_k(c) - p(c) |,   p_k = n_kc / n_k,  p = sum_k n_kc / n

  0 for identical label mixes; approaches 1 - max_c p(c) when each client holds one class.
  """
  counts = label_counts(clients, num_classes).astype(np.float64)
  pooled = counts.sum(0) / counts.sum()
  per_client = counts / np.maximum(counts.sum(1, keepdims=True), 1)
  return float(np.mean(0.5 * np.abs(per_client - pooled).sum(1)))
