"""The two dataset shapes: one graph with labeled nodes, or many labeled graphs."""
from __future__ import annotations

import dataclasses
import functools
from typing import ClassVar

import numpy as np

from edgegnn.data._arrays import readonly
from edgegnn.data.graph import Graph


def _int32_vector(value: np.ndarray, what: str) -> np.ndarray:
  """Coerces `value` to a read-only 1-D int32 array, refusing non-integer input."""
  array = np.asarray(value)
  if array.ndim != 1:
    raise ValueError(f"{what} must be 1-D, got shape {array.shape}.")
  if array.size and array.dtype.kind not in "iu":
    raise ValueError(f"{what} must hold integers, got dtype {array.dtype}.")
  return readonly(array.astype(np.int32, copy=False))


def _check_indices(indices: np.ndarray, size: int, what: str) -> None:
  """Raises ValueError unless `indices` are distinct and within [0, size)."""
  if indices.size and (indices.min() < 0 or indices.max() >= size):
    raise ValueError(f"{what} holds indices outside [0, {size}).")
  if np.unique(indices).size != indices.size:
    raise ValueError(f"{what} holds repeated indices.")


def _check_labels(labels: np.ndarray, num_classes: int, allow_unlabeled: bool,
                  what: str) -> None:
  """Raises ValueError unless labels are in [0, num_classes) (or -1 when allowed)."""
  if num_classes < 1:
    raise ValueError(f"num_classes must be >= 1, got {num_classes}.")
  low = -1 if allow_unlabeled else 0
  if labels.size and (labels.min() < low or labels.max() >= num_classes):
    raise ValueError(f"{what} labels must lie in [{low}, {num_classes}), got "
                     f"[{labels.min()}, {labels.max()}].")


@dataclasses.dataclass(frozen=True, eq=False)
class NodeClassificationDataset:
  """One graph whose nodes carry class labels (transductive node classification).

  Attributes:
    name: the canonical dataset name, e.g. "cora".
    graph: the whole graph.
    labels: int32 [N], the class of each node, or -1 for an unlabeled node.
    num_classes: the number of classes C; labels lie in [0, C).
    train_index: int32 node ids to train on.
    val_index: int32 node ids for validation.
    test_index: int32 node ids for the test score.
  """
  name: str
  graph: Graph
  labels: np.ndarray
  num_classes: int
  train_index: np.ndarray
  val_index: np.ndarray
  test_index: np.ndarray
  task: ClassVar[str] = "node"

  def __post_init__(self):
    labels = _int32_vector(self.labels, "labels")
    if labels.shape[0] != self.graph.num_nodes:
      raise ValueError(f"{self.name}: {labels.shape[0]} labels for {self.graph.num_nodes} "
                       "nodes.")
    _check_labels(labels, self.num_classes, True, self.name)
    object.__setattr__(self, "labels", labels)
    object.__setattr__(self, "num_classes", int(self.num_classes))
    for field in ("train_index", "val_index", "test_index"):
      indices = _int32_vector(getattr(self, field), field)
      _check_indices(indices, self.graph.num_nodes, f"{self.name} {field}")
      if indices.size and labels[indices].min() < 0:
        raise ValueError(f"{self.name} {field} holds unlabeled nodes.")
      object.__setattr__(self, field, indices)

  @property
  def num_features(self) -> int:
    """Node feature width F."""
    return self.graph.num_features

  @property
  def num_nodes(self) -> int:
    """Number of nodes in the graph."""
    return self.graph.num_nodes


@dataclasses.dataclass(frozen=True, eq=False)
class GraphClassificationDataset:
  """Many graphs, one class label each.

  Attributes:
    name: the canonical dataset name, e.g. "mutag".
    graphs: the graphs, all with the same feature width.
    labels: int32 [G], the class of each graph in [0, num_classes).
    num_classes: the number of classes C.
    folds: (train_index, test_index) pairs of int32 graph ids: the 10 standard
      cross-validation folds for TU sets, one fixed split for "digits_points".
    val_index: int32 graph ids for validation, or None when the dataset has no fixed
      validation set (TU sets: pick one from a fold's training part if needed).
  """
  name: str
  graphs: tuple[Graph, ...]
  labels: np.ndarray
  num_classes: int
  folds: tuple[tuple[np.ndarray, np.ndarray], ...]
  val_index: np.ndarray | None = None
  task: ClassVar[str] = "graph"

  def __post_init__(self):
    graphs = tuple(self.graphs)
    if not graphs:
      raise ValueError(f"{self.name}: no graphs.")
    widths = sorted({g.num_features for g in graphs})
    if len(widths) > 1:
      raise ValueError(f"{self.name}: graphs differ in feature width: {widths}.")
    labels = _int32_vector(self.labels, "labels")
    if labels.shape[0] != len(graphs):
      raise ValueError(f"{self.name}: {labels.shape[0]} labels for {len(graphs)} graphs.")
    _check_labels(labels, self.num_classes, False, self.name)
    if not self.folds:
      raise ValueError(f"{self.name}: needs at least one (train, test) fold.")
    folds = []
    for k, pair in enumerate(self.folds):
      if len(pair) != 2:
        raise ValueError(f"{self.name}: fold {k} must be a (train, test) pair.")
      train, test = (_int32_vector(a, f"fold {k}") for a in pair)
      _check_indices(train, len(graphs), f"{self.name} fold {k} train")
      _check_indices(test, len(graphs), f"{self.name} fold {k} test")
      if np.intersect1d(train, test).size:
        raise ValueError(f"{self.name}: fold {k} shares graphs between train and test.")
      folds.append((train, test))
    val_index = self.val_index
    if val_index is not None:
      val_index = _int32_vector(val_index, "val_index")
      _check_indices(val_index, len(graphs), f"{self.name} val_index")
    object.__setattr__(self, "graphs", graphs)
    object.__setattr__(self, "labels", labels)
    object.__setattr__(self, "num_classes", int(self.num_classes))
    object.__setattr__(self, "folds", tuple(folds))
    object.__setattr__(self, "val_index", val_index)

  @property
  def num_graphs(self) -> int:
    """Number of graphs G."""
    return len(self.graphs)

  @property
  def num_folds(self) -> int:
    """Number of (train, test) splits in `folds`."""
    return len(self.folds)

  @property
  def num_features(self) -> int:
    """Node feature width F (the same for every graph)."""
    return self.graphs[0].num_features

  @functools.cached_property
  def max_nodes(self) -> int:
    """The largest graph's node count: the smallest capacity that pads every graph."""
    return max(g.num_nodes for g in self.graphs)

  def split(self, fold: int) -> tuple[np.ndarray, np.ndarray]:
    """Returns (train_index, test_index) of fold `fold`, counted from 0.

    Raises:
      ValueError: if `fold` is not an int in [0, num_folds).
    """
    if isinstance(fold, bool) or not isinstance(fold, (int, np.integer)):
      raise ValueError(f"fold must be an int, got {fold!r}.")
    if not 0 <= fold < len(self.folds):
      raise ValueError(f"fold {fold} is out of range: {self.name} has {len(self.folds)} "
                       f"fold(s), numbered 0..{len(self.folds) - 1}.")
    return self.folds[int(fold)]
