"""Builds datasets from a package file's arrays (the layout tools/convert_datasets.py writes).

Every file holds `format_version`, `name`, `kind` and `source`, then per kind:

- "planetoid": node features as CSR (`x_data`, `x_indices`, `x_indptr`, `x_shape`),
  `edge_source`/`edge_target`, `labels` (-1 = unlabeled), `num_classes`, and
  `train_index`/`val_index`/`test_index`.
- "tu": all graphs concatenated: `node_offsets` and `edge_offsets` ([G + 1] each), local
  `edge_source`/`edge_target`, `node_feature_index` (the one-hot column of each node) over
  `node_feature_values` (the raw tag or degree of each column, per `node_feature_kind`),
  `labels` over `label_values` (the raw labels), `num_classes`, and the folds as
  `fold_train_index`/`fold_test_index` with `fold_train_offsets`/`fold_test_offsets`.
- "points": `node_offsets`, `point_values` (uint8 [P, 3]: column, row, intensity),
  `feature_divisor` (features = point_values / divisor), `labels`, `num_classes`,
  `train_index`/`val_index`/`test_index`.

Integer arrays are stored in the smallest dtype that holds them; they are widened here.
"""
from typing import Mapping

import numpy as np

from edgegnn.data.datasets import GraphClassificationDataset, NodeClassificationDataset
from edgegnn.data.graph import Graph

Arrays = Mapping[str, np.ndarray]


def _ints(arrays: Arrays, key: str) -> np.ndarray:
  """Returns the integer array `key` widened to int64 (stored dtypes may be uint8)."""
  array = arrays[key]
  if array.dtype.kind not in "iu":
    raise ValueError(f"{key} must hold integers, got dtype {array.dtype}.")
  return array.astype(np.int64)


def _scalar(arrays: Arrays, key: str) -> int:
  """Returns the integer scalar `key`."""
  return int(_ints(arrays, key).reshape(()))


def _offsets(arrays: Arrays, key: str, total: int) -> np.ndarray:
  """Returns offsets `key` after checking they run from 0 to `total` without decreasing."""
  offsets = _ints(arrays, key)
  if (offsets.ndim != 1 or offsets.size < 1 or offsets[0] != 0 or offsets[-1] != total
      or np.any(np.diff(offsets) < 0)):
    raise ValueError(f"{key} are not offsets from 0 to {total}.")
  return offsets


def _split_graphs(features: np.ndarray, node_offsets: np.ndarray, edge_source: np.ndarray,
                  edge_target: np.ndarray, edge_offsets: np.ndarray) -> tuple[Graph, ...]:
  """Cuts concatenated nodes and (graph-local) edges into one Graph per graph."""
  return tuple(
      Graph(features[n0:n1], edge_source[e0:e1], edge_target[e0:e1])
      for n0, n1, e0, e1 in zip(node_offsets[:-1], node_offsets[1:], edge_offsets[:-1],
                                edge_offsets[1:]))


def _one_hot(index: np.ndarray, width: int) -> np.ndarray:
  """Returns float32 [len(index), width] with a 1 at each row's `index`."""
  if index.size and (index.min() < 0 or index.max() >= width):
    raise ValueError(f"one-hot index outside [0, {width}).")
  features = np.zeros((index.size, width), np.float32)
  features[np.arange(index.size), index] = 1.0
  return features


def decode_planetoid(name: str, arrays: Arrays) -> NodeClassificationDataset:
  """Builds a NodeClassificationDataset from a "planetoid" file's arrays."""
  num_nodes, num_features = (int(v) for v in _ints(arrays, "x_shape"))
  indptr = _offsets(arrays, "x_indptr", arrays["x_data"].shape[0])
  if indptr.size != num_nodes + 1:
    raise ValueError(f"x_indptr has {indptr.size} entries for {num_nodes} rows.")
  columns = _ints(arrays, "x_indices")
  if columns.size and (columns.min() < 0 or columns.max() >= num_features):
    raise ValueError(f"x_indices outside [0, {num_features}).")
  features = np.zeros((num_nodes, num_features), np.float32)
  features[np.repeat(np.arange(num_nodes), np.diff(indptr)), columns] = arrays["x_data"]
  graph = Graph(features, _ints(arrays, "edge_source"), _ints(arrays, "edge_target"))
  return NodeClassificationDataset(
      name=name, graph=graph, labels=_ints(arrays, "labels"),
      num_classes=_scalar(arrays, "num_classes"), train_index=_ints(arrays, "train_index"),
      val_index=_ints(arrays, "val_index"), test_index=_ints(arrays, "test_index"))


def decode_tu(name: str, arrays: Arrays) -> GraphClassificationDataset:
  """Builds a GraphClassificationDataset (10 folds, no val_index) from a "tu" file's arrays."""
  feature_index = _ints(arrays, "node_feature_index")
  features = _one_hot(feature_index, arrays["node_feature_values"].shape[0])
  edge_source = _ints(arrays, "edge_source")
  graphs = _split_graphs(features, _offsets(arrays, "node_offsets", feature_index.size),
                         edge_source, _ints(arrays, "edge_target"),
                         _offsets(arrays, "edge_offsets", edge_source.size))
  folds = []
  train_index, test_index = _ints(arrays, "fold_train_index"), _ints(arrays, "fold_test_index")
  train_offsets = _offsets(arrays, "fold_train_offsets", train_index.size)
  test_offsets = _offsets(arrays, "fold_test_offsets", test_index.size)
  if train_offsets.size != test_offsets.size:
    raise ValueError("fold_train_offsets and fold_test_offsets differ in length.")
  for k in range(train_offsets.size - 1):
    folds.append((train_index[train_offsets[k]:train_offsets[k + 1]],
                  test_index[test_offsets[k]:test_offsets[k + 1]]))
  return GraphClassificationDataset(
      name=name, graphs=graphs, labels=_ints(arrays, "labels"),
      num_classes=_scalar(arrays, "num_classes"), folds=tuple(folds), val_index=None)


def decode_points(name: str, arrays: Arrays) -> GraphClassificationDataset:
  """Builds an edgeless GraphClassificationDataset (one split plus val_index) from "points"."""
  values = arrays["point_values"]
  divisor = arrays["feature_divisor"].astype(np.float32)
  if values.ndim != 2 or values.shape[1] != divisor.shape[0]:
    raise ValueError(f"point_values {values.shape} do not match feature_divisor "
                     f"{divisor.shape}.")
  features = values.astype(np.float32) / divisor
  node_offsets = _offsets(arrays, "node_offsets", values.shape[0])
  no_edges = np.zeros((0,), np.int64)
  graphs = _split_graphs(features, node_offsets, no_edges, no_edges,
                         np.zeros_like(node_offsets))
  return GraphClassificationDataset(
      name=name, graphs=graphs, labels=_ints(arrays, "labels"),
      num_classes=_scalar(arrays, "num_classes"),
      folds=((_ints(arrays, "train_index"), _ints(arrays, "test_index")),),
      val_index=_ints(arrays, "val_index"))


DECODERS = {"planetoid": decode_planetoid, "tu": decode_tu, "points": decode_points}
