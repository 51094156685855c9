"""Checks a dataset source's raw arrays and assembles the dataset (numpy only).

The format readers (`edgegnn.data.source_readers`) turn files into plain arrays; this
module validates them (every error is a `SourceError` naming the file, the array, column or
row, and the fix), adds reverse edges when asked, makes or checks the splits and builds a
`NodeClassificationDataset` or `GraphClassificationDataset`. It also writes the one-line
summary (nodes, edges, duplicate edges, self-loops, split sizes) a loader reports.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Optional

import numpy as np

from edgegnn.data.datasets import GraphClassificationDataset, NodeClassificationDataset
from edgegnn.data.graph import Graph
from edgegnn.data.sparse import SparseFeatures

SPLITS = ("train", "val", "test")
# CSR features whose dense form fits in this many bytes are stored dense, as the bundled
# datasets are (training then sees exactly the same arrays); larger ones stay sparse.
DENSE_LIMIT_BYTES = 1 << 30


class SourceError(ValueError):
  """A dataset source is invalid: the message names the file, the array, column or row at
  fault, and what to change."""


@dataclasses.dataclass
class RawGraph:
  """What a reader found, before any check.

  Attributes:
    where: the file (or files) the arrays come from, for messages.
    features: dense [N, F] features, or None when `sparse` holds them.
    sparse: CSR features, or None.
    edge_source / edge_target: integer [E] node rows (already mapped from ids).
    labels: [N] node labels (node task) or None.
    splits: {"train"|"val"|"test": node (or graph) rows} found in the files, or {}.
    graph_index: [N] graph of each node (graph task) or None.
    graph_labels: [G] label of each graph (graph task) or None.
    edge_names: how messages call the two edge arrays, e.g. ("edge_source", ...).
  """
  where: str
  features: Optional[np.ndarray]
  sparse: Optional[SparseFeatures]
  edge_source: np.ndarray
  edge_target: np.ndarray
  labels: Optional[np.ndarray] = None
  splits: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
  graph_index: Optional[np.ndarray] = None
  graph_labels: Optional[np.ndarray] = None
  edge_names: tuple[str, str] = ("edge_source", "edge_target")

  @property
  def num_nodes(self) -> int:
    return int(self.features.shape[0] if self.features is not None else self.sparse.num_rows)


def check_finite(values: np.ndarray, where: str, what: str) -> None:
  """Raises SourceError at the first NaN or infinite value of float [N, F] `values`."""
  if values.dtype.kind != "f":
    return
  finite = np.isfinite(values)
  if not finite.all():
    bad = np.argwhere(~finite)[0]
    position = f"row {bad[0]}, column {bad[1]}" if len(bad) == 2 else f"entry {bad[0]}"
    raise SourceError(f"{where}: {what} {position} is {values[tuple(bad)]}; features must be "
                      "finite numbers. Replace missing values (e.g. with 0 or the column mean) "
                      "before loading.")


def integer_labels(labels: np.ndarray, where: str, what: str,
                   allow_unlabeled: bool = True) -> np.ndarray:
  """int64 labels from `labels`; refuses text, missing values, fractions and values < -1.

  -1 marks an unlabeled node (node tasks only, `allow_unlabeled`).
  """
  labels = np.asarray(labels)
  if labels.ndim != 1:
    raise SourceError(f"{where}: {what} must be 1-D (one label per row), got shape "
                      f"{labels.shape}.")
  if labels.dtype.kind in "OUS":
    sample = next((i for i, v in enumerate(labels.tolist())
                   if not isinstance(v, (int, np.integer))), 0)
    raise SourceError(f"{where}: {what} holds text ({labels[sample]!r} at row {sample}); labels "
                      "must be integers 0..C-1. Map each class name to an integer.")
  if labels.dtype.kind == "f":
    missing = ~np.isfinite(labels)
    if missing.any():
      row = int(np.flatnonzero(missing)[0])
      raise SourceError(f"{where}: {what} row {row} is missing ({labels[row]}); every row needs "
                        "an integer label" + (", or -1 for an unlabeled node." if allow_unlabeled
                                              else "."))
    fraction = labels != np.round(labels)
    if fraction.any():
      row = int(np.flatnonzero(fraction)[0])
      raise SourceError(f"{where}: {what} row {row} is {labels[row]}, not an integer; labels "
                        "must be integers 0..C-1.")
  elif labels.dtype.kind not in "iub":
    raise SourceError(f"{where}: {what} has dtype {labels.dtype}; labels must be integers.")
  labels = labels.astype(np.int64)
  low = -1 if allow_unlabeled else 0
  if labels.size and labels.min() < low:
    row = int(np.flatnonzero(labels < low)[0])
    raise SourceError(f"{where}: {what} row {row} is {labels[row]}; labels must be >= {low}"
                      + (" (-1 = unlabeled)." if allow_unlabeled else "."))
  if not (labels >= 0).any():
    raise SourceError(f"{where}: {what} has no labeled row; give each node's class 0..C-1.")
  return labels


def check_edges(raw: RawGraph) -> tuple[np.ndarray, np.ndarray]:
  """The edge arrays as int64 after checking they are integer, equal-length and in range."""
  arrays = []
  for name, values in zip(raw.edge_names, (raw.edge_source, raw.edge_target)):
    values = np.asarray(values)
    if values.ndim != 1:
      raise SourceError(f"{raw.where}: {name} must be 1-D, got shape {values.shape}.")
    if values.size and values.dtype.kind not in "iu":
      raise SourceError(f"{raw.where}: {name} has dtype {values.dtype}; edges are integer "
                        "node rows 0..N-1.")
    arrays.append(values.astype(np.int64))
  source, target = arrays
  if source.size != target.size:
    raise SourceError(f"{raw.where}: {raw.edge_names[0]} has {source.size} entries but "
                      f"{raw.edge_names[1]} {target.size}; one of each per edge.")
  n = raw.num_nodes
  for name, values in zip(raw.edge_names, arrays):
    outside = (values < 0) | (values >= n)
    if outside.any():
      j = int(np.flatnonzero(outside)[0])
      raise SourceError(f"{raw.where}: {name}[{j}] is {values[j]}, outside [0, {n}) for a "
                        f"graph of {n} nodes (the feature rows). Fix the edge or add the node.")
  return source, target


def symmetrize(source: np.ndarray, target: np.ndarray, num_nodes: int
               ) -> tuple[np.ndarray, np.ndarray, int]:
  """Adds the reverse of every edge whose reverse is missing; returns the edges and the
  number added (each missing reverse once, after the original edges)."""
  keys = source * num_nodes + target
  reverse = target * num_nodes + source
  missing = np.unique(reverse[~np.isin(reverse, keys)])
  added_source, added_target = missing // num_nodes, missing % num_nodes
  return (np.concatenate([source, added_source]), np.concatenate([target, added_target]),
          int(missing.size))


def edge_report(source: np.ndarray, target: np.ndarray, num_nodes: int) -> dict[str, int]:
  """Counts of duplicate edges (repeats beyond the first) and self-loops."""
  keys = source * max(num_nodes, 1) + target
  return {"duplicate_edges": int(keys.size - np.unique(keys).size),
          "self_loops": int(np.count_nonzero(source == target))}


def split_fractions(spec: Any, where: str) -> tuple[float, float, int]:
  """(train, val, seed) of a `split:` mapping, checked."""
  if not isinstance(spec, Mapping) or set(spec) - {"train", "val", "seed"} or "train" not in spec:
    raise SourceError(f"{where}: split must be a mapping like {{train: 0.6, val: 0.2, seed: 0}} "
                      f"(the rest is the test split), got {spec!r}.")
  train, val, seed = spec["train"], spec.get("val", 0.0), spec.get("seed", 0)
  for key, value in (("train", train), ("val", val)):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
      raise SourceError(f"{where}: split.{key} must be a fraction in [0, 1), got {value!r}.")
  if train + val >= 1:
    raise SourceError(f"{where}: split.train + split.val is {train + val}; it must stay below 1 "
                      "so the test split is not empty.")
  if isinstance(seed, bool) or not isinstance(seed, int):
    raise SourceError(f"{where}: split.seed must be an integer, got {seed!r}.")
  return float(train), float(val), seed


def stratified_split(labels: np.ndarray, train: float, val: float, seed: int
                     ) -> dict[str, np.ndarray]:
  """Rows of each labeled class shuffled with `seed`, the first round(train * n) to train,
  the next round(val * n) to val, the rest to test; each split sorted."""
  rng = np.random.default_rng(seed)
  parts = {name: [] for name in SPLITS}
  for label in np.unique(labels[labels >= 0]):
    rows = rng.permutation(np.flatnonzero(labels == label))
    n_train, n_val = int(round(train * rows.size)), int(round(val * rows.size))
    parts["train"].append(rows[:n_train])
    parts["val"].append(rows[n_train:n_train + n_val])
    parts["test"].append(rows[n_train + n_val:])
  return {name: np.sort(np.concatenate(p)).astype(np.int64) for name, p in parts.items()}


def stratified_folds(labels: np.ndarray, folds: int, seed: int
                     ) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
  """`folds` (train, test) pairs: each class's shuffled rows dealt round-robin to the
  test parts."""
  rng = np.random.default_rng(seed)
  fold_of = np.empty(labels.size, np.int64)
  for label in np.unique(labels):
    rows = rng.permutation(np.flatnonzero(labels == label))
    fold_of[rows] = np.arange(rows.size) % folds
  return tuple((np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k))
               for k in range(folds))


def check_split(rows: Any, name: str, size: int, where: str, what: str) -> np.ndarray:
  """int64 split rows after checking integers, range, distinctness and non-emptiness."""
  rows = np.asarray(rows)
  if rows.ndim != 1 or (rows.size and rows.dtype.kind not in "iu"):
    raise SourceError(f"{where}: {name} must be a 1-D integer array of {what} rows, got "
                      f"shape {rows.shape}, dtype {rows.dtype}.")
  if rows.size == 0:
    raise SourceError(f"{where}: the {name} split is empty; give it at least one {what}, or "
                      "drop the given splits and set `split: {train: 0.6, val: 0.2}`.")
  rows = rows.astype(np.int64)
  outside = (rows < 0) | (rows >= size)
  if outside.any():
    j = int(np.flatnonzero(outside)[0])
    raise SourceError(f"{where}: {name}[{j}] is {rows[j]}, outside [0, {size}) ({size} "
                      f"{what}s).")
  unique, first = np.unique(rows, return_index=True)
  if unique.size != rows.size:
    repeats = np.ones(rows.size, bool)
    repeats[first] = False
    j = int(np.flatnonzero(repeats)[0])
    raise SourceError(f"{where}: {name}[{j}] is {rows[j]}, already listed at "
                      f"{name}[{int(np.flatnonzero(rows == rows[j])[0])}]; list each {what} "
                      "once.")
  return rows


def _features(raw: RawGraph) -> tuple[Optional[np.ndarray], Optional[SparseFeatures]]:
  """(dense, sparse) for the Graph: CSR that fits DENSE_LIMIT_BYTES becomes dense."""
  if raw.features is not None:
    check_finite(raw.features, raw.where, "node_features")
    return raw.features, None
  check_finite(raw.sparse.values if raw.sparse.values is not None
               else np.zeros(0, np.float32), raw.where, "feature_values")
  if raw.sparse.num_rows * raw.sparse.num_features * 4 <= DENSE_LIMIT_BYTES:
    return raw.sparse.to_dense(), None
  return None, raw.sparse


def build(raw: RawGraph, name: str, options: Mapping[str, Any]):
  """The dataset of `raw` and its one-line summary.

  Args:
    raw: the reader's arrays.
    name: the dataset's name.
    options: the source's `symmetrize`, `split` and `folds` keys (absent = not asked).

  Raises:
    SourceError: naming the file, array or row, and the fix.
  """
  features, sparse = _features(raw)
  source, target = check_edges(raw)
  n = raw.num_nodes
  added = 0
  if options.get("symmetrize", False):
    source, target, added = symmetrize(source, target, n)
  counts = edge_report(source, target, n)
  graph_task = raw.graph_index is not None or raw.graph_labels is not None
  if graph_task:
    dataset, split_text = _graph_dataset(raw, name, features, source, target, options)
  else:
    dataset, split_text = _node_dataset(raw, name, Graph(features, source, target, sparse),
                                        options)
  summary = (f"{name}: {n} nodes, {source.size} edges"
             + (f" ({added} reverse edges added)" if added else "")
             + f", {counts['duplicate_edges']} duplicate edges, {counts['self_loops']} "
             f"self-loops, {dataset.num_features} features, {dataset.num_classes} classes, "
             f"{split_text} ({raw.where})")
  return dataset, summary



def _given_or_generated_splits(options: Mapping, raw, labels: np.ndarray, fix: str):
  """(splits, how): stratified splits when `split:` is set, else the source's own; raises
  SourceError naming `fix` when there are neither."""
  if "split" in options:
    return stratified_split(labels, *split_fractions(options["split"], raw.where)), "generated"
  if raw.splits:
    return raw.splits, "given"
  raise SourceError(f"{raw.where}: no split; {fix}")

def _node_dataset(raw: RawGraph, name: str, graph: Graph, options: Mapping[str, Any]):
  if raw.labels is None:
    raise SourceError(f"{raw.where}: no labels; a node task needs one integer label per node "
                      "(-1 = unlabeled).")
  labels = integer_labels(raw.labels, raw.where, "labels")
  if labels.size != graph.num_nodes:
    raise SourceError(f"{raw.where}: {labels.size} labels for {graph.num_nodes} nodes; give "
                      "one label per node (-1 = unlabeled).")
  splits, how = _given_or_generated_splits(
      options, raw, labels, "add train_index/val_index/test_index, or set "
      "`split: {train: 0.6, val: 0.2, seed: 0}` in the dataset source.")
  checked = {}
  for split in SPLITS:
    if split not in splits:
      raise SourceError(f"{raw.where}: the {split} split is missing; give all of "
                        "train/val/test, or set `split:` to generate them.")
    rows = check_split(splits[split], f"{split}_index", graph.num_nodes, raw.where, "node")
    unlabeled = labels[rows] < 0
    if unlabeled.any():
      raise SourceError(f"{raw.where}: {split}_index holds node {rows[unlabeled][0]}, which "
                        "has label -1 (unlabeled); split only labeled nodes.")
    checked[split] = rows
  dataset = NodeClassificationDataset(
      name=name, graph=graph, labels=labels, num_classes=int(labels.max()) + 1,
      train_index=checked["train"], val_index=checked["val"], test_index=checked["test"])
  sizes = "/".join(str(checked[s].size) for s in SPLITS)
  return dataset, f"split {sizes} train/val/test nodes ({how})"


def _graph_dataset(raw: RawGraph, name: str, features, source, target,
                   options: Mapping[str, Any]):
  if raw.graph_index is None or raw.graph_labels is None:
    missing = "graph_index" if raw.graph_index is None else "graph_labels"
    raise SourceError(f"{raw.where}: a graph task needs both graph_index (the graph of each "
                      f"node) and graph_labels (one per graph); {missing} is missing.")
  if features is None:
    raise SourceError(f"{raw.where}: a graph task's features must fit dense "
                      f"({DENSE_LIMIT_BYTES} bytes).")
  n = raw.num_nodes
  graph_index = np.asarray(raw.graph_index)
  if graph_index.shape != (n,) or (n and graph_index.dtype.kind not in "iu"):
    raise SourceError(f"{raw.where}: graph_index must be {n} integers (one per node), got "
                      f"shape {graph_index.shape}, dtype {graph_index.dtype}.")
  labels = integer_labels(raw.graph_labels, raw.where, "graph_labels", allow_unlabeled=False)
  count = labels.size
  graph_index = graph_index.astype(np.int64)
  outside = (graph_index < 0) | (graph_index >= count)
  if outside.any():
    j = int(np.flatnonzero(outside)[0])
    raise SourceError(f"{raw.where}: graph_index[{j}] is {graph_index[j]}, outside [0, "
                      f"{count}) ({count} graph_labels).")
  sizes = np.bincount(graph_index, minlength=count)
  if (sizes == 0).any():
    raise SourceError(f"{raw.where}: graph {int(np.flatnonzero(sizes == 0)[0])} has no nodes in "
                      "graph_index; drop its label or give it nodes.")
  crossing = graph_index[source] != graph_index[target]
  if crossing.any():
    j = int(np.flatnonzero(crossing)[0])
    raise SourceError(f"{raw.where}: edge {j} joins node {source[j]} of graph "
                      f"{graph_index[source[j]]} to node {target[j]} of graph "
                      f"{graph_index[target[j]]}; edges stay within one graph.")
  order = np.argsort(graph_index, kind="stable")
  local = np.empty(n, np.int64)
  starts = np.concatenate([[0], np.cumsum(sizes)])
  local[order] = np.arange(n) - starts[graph_index[order]]
  edge_graph = graph_index[source]
  edge_order = np.argsort(edge_graph, kind="stable")
  edge_starts = np.concatenate([[0], np.cumsum(np.bincount(edge_graph, minlength=count))])
  feats = features[order]
  src, dst = local[source][edge_order], local[target][edge_order]
  graphs = tuple(Graph(feats[starts[g]:starts[g + 1]], src[edge_starts[g]:edge_starts[g + 1]],
                       dst[edge_starts[g]:edge_starts[g + 1]]) for g in range(count))
  val_index = None
  if "folds" in options:
    k = options["folds"]
    if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= count:
      raise SourceError(f"{raw.where}: folds must be an integer in [2, {count}], got {k!r}.")
    seed = options.get("split", {}).get("seed", 0) if isinstance(options.get("split"),
                                                                  Mapping) else 0
    folds = stratified_folds(labels, k, seed)
    how = f"{k} stratified folds"
  else:
    splits, how = _given_or_generated_splits(
        options, raw, labels, "add train_index/test_index (graph rows), or set `folds: 10` "
        "or `split: {train: 0.8, val: 0.1}`.")
    checked = {s: check_split(splits[s], f"{s}_index", count, raw.where, "graph")
               for s in SPLITS if s in splits and (s != "val" or np.size(splits[s]))}
    for s in ("train", "test"):
      if s not in checked:
        raise SourceError(f"{raw.where}: the {s} split is missing; give {s}_index (graph rows).")
    folds = ((checked["train"], checked["test"]),)
    val_index = checked.get("val")
  dataset = GraphClassificationDataset(name=name, graphs=graphs, labels=labels,
                                       num_classes=int(labels.max()) + 1, folds=folds,
                                       val_index=val_index)
  return dataset, f"{count} graphs, {how}"
