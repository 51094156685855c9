"""`Batch`: one optimisation step's data, and the batches of the training tasks.

Full-graph node training is one batch (`node_batch`); graph classification is batches of
merged graphs, reshuffled every epoch (`graph_batches`). A sampled mini-batch is a `Batch`
whose `inputs` are the sampled subgraph and whose `rows` are its seed nodes.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable, Mapping, Optional

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class Batch:
  """One step's data (see `edgegnn.engine`'s module doc).

  Attributes:
    inputs: model input feeds keyed by input name (the model gets the ones it takes; the
      loss sees all, e.g. a teacher's inputs or a batch's `node_graph_index`).
    labels: int32 class ids of the loss rows (None: the loss reads no labels).
    rows: int32 output rows that carry the loss, in the order of `labels` (training
      nodes, or a sampled subgraph's seed nodes); None: every output row.
    targets: other per-batch tensors the loss reads (e.g. teacher logits).
  """
  inputs: Mapping[str, Any]
  labels: Optional[Any] = None
  rows: Optional[Any] = None
  targets: Mapping[str, Any] = dataclasses.field(default_factory=dict)

  def as_tensors(self) -> "Batch":
    """This batch with tensors (labels and rows int32)."""
    as_tensor = lambda x: None if x is None else tf.convert_to_tensor(x)
    return Batch({k: tf.convert_to_tensor(v) for k, v in self.inputs.items()},
                 None if self.labels is None else tf.cast(as_tensor(self.labels), tf.int32),
                 None if self.rows is None else tf.cast(as_tensor(self.rows), tf.int32),
                 {k: as_tensor(v) for k, v in self.targets.items()})


Batches = Iterable[Batch] | Callable[[int], Iterable[Batch]]


def node_batch(task, split: str = "train") -> Batch:
  """The whole graph as one batch whose loss rows are the `split` nodes of a node task."""
  index = task.split(split)
  return Batch(task.full_feed(), task.labels[index].astype(np.int32),
               np.asarray(index, np.int32)).as_tensors()


def graph_batches(task, batch_size: int, seed: int,
                  split: str = "train") -> Callable[[int], Iterable[Batch]]:
  """epoch -> the `split` graphs of a graph task in merged batches of `batch_size`,
  shuffled by `np.random.default_rng([seed, epoch])` (a resumed run draws the same)."""
  def batches(epoch: int) -> Iterable[Batch]:
    rng = np.random.default_rng([seed, epoch])
    for feed, labels in task.batches(task.split(split), batch_size, rng):
      yield Batch(feed, labels)
  return batches


def epoch_batches(batches: Batches, epoch: int) -> Iterable[Batch]:
  """The batches of `epoch` (a callable is called with it; an iterable is re-read)."""
  return batches(epoch) if callable(batches) else batches
