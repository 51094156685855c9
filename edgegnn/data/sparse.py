"""Node features kept as their non-zeros (CSR), for graphs too large to hold them dense.

A bag-of-words feature matrix is mostly zeros (Cora: 1.3 % non-zero, all 1.0), and at a
million nodes its dense float32 form would take N * F * 4 bytes (1M x 1000: 4 GB).
`SparseFeatures` holds the same matrix X [N, F] as compressed sparse rows:

    X[i, indices[j]] = values[j]   for j in [row_splits[i], row_splits[i + 1])

and every other entry is 0. `values` None means binary features (every stored entry is
1.0), which needs no value array at all. Column indices within a row are distinct.

numpy only.
"""
from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np

from edgegnn.data._arrays import readonly


@dataclasses.dataclass(frozen=True, eq=False)
class SparseFeatures:
  """A node-feature matrix [num_rows, num_features] stored as CSR (see the module doc).

  Attributes:
    row_splits: int64 [N + 1], non-decreasing, row_splits[0] = 0, row_splits[-1] = nnz.
    indices: int32 [nnz] column of each non-zero, in [0, num_features).
    num_features: F, the width of the dense matrix.
    values: float32 [nnz], or None for binary features (all stored entries are 1.0).
  """
  row_splits: np.ndarray
  indices: np.ndarray
  num_features: int
  values: Optional[np.ndarray] = None

  def __post_init__(self):
    splits = np.asarray(self.row_splits)
    indices = np.asarray(self.indices)
    if splits.ndim != 1 or splits.size < 1 or splits.dtype.kind not in "iu":
      raise ValueError(f"row_splits must be a 1-D integer array of N + 1 entries, got "
                       f"shape {splits.shape}, dtype {splits.dtype}.")
    if indices.ndim != 1 or (indices.size and indices.dtype.kind not in "iu"):
      raise ValueError(f"indices must be a 1-D integer array, got shape {indices.shape}, "
                       f"dtype {indices.dtype}.")
    if splits[0] != 0 or splits[-1] != indices.size or np.any(np.diff(splits) < 0):
      raise ValueError(f"row_splits must start at 0, never decrease and end at the number of "
                       f"non-zeros ({indices.size}); got start {splits[0]}, end {splits[-1]}.")
    width = int(self.num_features)
    if width < 1:
      raise ValueError(f"num_features must be >= 1, got {self.num_features}.")
    if indices.size and (indices.min() < 0 or indices.max() >= width):
      raise ValueError(f"indices must lie in [0, {width}), got [{indices.min()}, "
                       f"{indices.max()}].")
    values = self.values
    if values is not None:
      values = np.asarray(values)
      if values.shape != indices.shape:
        raise ValueError(f"values has shape {values.shape} but indices {indices.shape}; "
                         "one value per non-zero (or None for binary features).")
      values = readonly(values.astype(np.float32, copy=False))
    object.__setattr__(self, "row_splits", readonly(splits.astype(np.int64, copy=False)))
    object.__setattr__(self, "indices", readonly(indices.astype(np.int32, copy=False)))
    object.__setattr__(self, "num_features", width)
    object.__setattr__(self, "values", values)

  @classmethod
  def from_dense(cls, dense: np.ndarray, binary: Optional[bool] = None) -> "SparseFeatures":
    """The non-zeros of a dense [N, F] matrix; `binary` None: binary iff they are all 1."""
    dense = np.asarray(dense)
    if dense.ndim != 2:
      raise ValueError(f"dense features must be 2-D [N, F], got shape {dense.shape}.")
    rows, cols = np.nonzero(dense)
    values = dense[rows, cols]
    if binary is None:
      binary = bool(np.all(values == 1))
    elif binary and not np.all(values == 1):
      raise ValueError("binary=True but some non-zero features are not 1.0.")
    splits = np.zeros(dense.shape[0] + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=dense.shape[0]), out=splits[1:])
    return cls(splits, cols, max(1, dense.shape[1]), None if binary else values)

  @property
  def num_rows(self) -> int:
    """N."""
    return int(self.row_splits.shape[0] - 1)

  @property
  def nnz(self) -> int:
    """Number of stored non-zeros."""
    return int(self.indices.shape[0])

  @property
  def binary(self) -> bool:
    """True when no value array is stored (all non-zeros are 1.0)."""
    return self.values is None

  def row_ids(self) -> np.ndarray:
    """int32 [nnz]: the row (node) of each non-zero (the `feature_node` of a feed)."""
    return np.repeat(np.arange(self.num_rows, dtype=np.int32), np.diff(self.row_splits))

  def take(self, rows: np.ndarray) -> "SparseFeatures":
    """The sub-matrix of the given rows, in that order (repeats allowed)."""
    rows = np.asarray(rows, np.int64)
    if rows.size and (rows.min() < 0 or rows.max() >= self.num_rows):
      raise ValueError(f"rows must lie in [0, {self.num_rows}).")
    lengths = self.row_splits[rows + 1] - self.row_splits[rows]
    splits = np.zeros(rows.size + 1, np.int64)
    np.cumsum(lengths, out=splits[1:])
    entries = np.arange(splits[-1]) + np.repeat(self.row_splits[rows] - splits[:-1], lengths)
    return SparseFeatures(splits, self.indices[entries], self.num_features,
                          None if self.values is None else self.values[entries])

  def to_dense(self) -> np.ndarray:
    """float32 [N, F]. Materialises the whole matrix: only for graphs that fit in memory."""
    dense = np.zeros((self.num_rows, self.num_features), np.float32)
    dense[self.row_ids(), self.indices] = 1.0 if self.values is None else self.values
    return dense


def concatenate(parts) -> SparseFeatures:
  """The rows of several matrices of one width, stacked in order."""
  parts = list(parts)
  if not parts:
    raise ValueError("concatenate needs at least one SparseFeatures.")
  widths = sorted({p.num_features for p in parts})
  if len(widths) > 1:
    raise ValueError(f"SparseFeatures of different widths {widths} cannot be stacked.")
  offsets = np.cumsum([0] + [p.nnz for p in parts])
  splits = np.concatenate([[0]] + [p.row_splits[1:] + o for p, o in zip(parts, offsets)])
  binary = all(p.binary for p in parts)
  values = None if binary else np.concatenate(
      [np.ones(p.nnz, np.float32) if p.binary else p.values for p in parts])
  return SparseFeatures(splits, np.concatenate([p.indices for p in parts]), widths[0], values)
