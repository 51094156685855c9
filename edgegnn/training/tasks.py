"""Training tasks: what a trainer feeds a model and which examples count as train/val/test.

A task turns a dataset (and a fold) into model feeds. Node tasks feed the whole graph each
step and select labelled nodes; graph tasks feed batches of merged graphs.
"""
from __future__ import annotations

import dataclasses
from typing import Iterator, Optional, Sequence

import numpy as np

from edgegnn.data import GraphClassificationDataset, NodeClassificationDataset
from edgegnn.models import feeds


@dataclasses.dataclass
class NodeTask:
  """Transductive node classification on one graph."""
  dataset: NodeClassificationDataset
  kind = "node"

  @property
  def labels(self) -> np.ndarray:
    return self.dataset.labels

  def split(self, name: str) -> Optional[np.ndarray]:
    return {"train": self.dataset.train_index, "val": self.dataset.val_index,
            "test": self.dataset.test_index}[name]

  def full_feed(self) -> dict[str, np.ndarray]:
    return feeds.graph_feed(self.dataset.graph)


@dataclasses.dataclass
class GraphTask:
  """Graph classification with explicit train / (optional) val / test graph indices."""
  dataset: GraphClassificationDataset
  train_index: np.ndarray
  test_index: np.ndarray
  val_index: Optional[np.ndarray] = None
  kind = "graph"

  @classmethod
  def from_fold(cls, dataset: GraphClassificationDataset, fold: int) -> "GraphTask":
    train, test = dataset.split(fold)
    val = dataset.val_index if dataset.val_index is not None and len(dataset.val_index) else None
    return cls(dataset, np.asarray(train), np.asarray(test), val)

  @property
  def labels(self) -> np.ndarray:
    return self.dataset.labels

  def split(self, name: str) -> Optional[np.ndarray]:
    return {"train": self.train_index, "val": self.val_index, "test": self.test_index}[name]

  def batches(self, index: np.ndarray, batch_size: int,
              rng: Optional[np.random.Generator] = None) -> Iterator[tuple[dict, np.ndarray]]:
    """(merged-graph feed, labels) per batch; shuffled when `rng` is given."""
    order = np.asarray(index)
    if rng is not None:
      order = rng.permutation(order)
    for start in range(0, len(order), batch_size):
      chunk = order[start:start + batch_size]
      graphs: Sequence = [self.dataset.graphs[i] for i in chunk]
      yield feeds.batch_feed(graphs), self.dataset.labels[chunk].astype(np.int32)


def make_task(dataset, fold: int = 0):
  """The task for a dataset: a `NodeTask`, or a `GraphTask` for `fold`."""
  if isinstance(dataset, NodeClassificationDataset):
    return NodeTask(dataset)
  if isinstance(dataset, GraphClassificationDataset):
    return GraphTask.from_fold(dataset, fold)
  raise TypeError(f"Unsupported dataset type {type(dataset).__name__}.")
