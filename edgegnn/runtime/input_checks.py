"""The values of a graph model's inputs, checked before an interpreter sees them.

The interpreters trust their inputs: an out-of-range edge id is silently dropped by
UNSORTED_SEGMENT_SUM (or reads another node's row through GATHER), a NaN feature turns
into finite int8 logits after quantization, and a float or int64 index is truncated or
wrapped by a plain cast. So every input of the plain-tensor contract
(`edgegnn.models.zoo`) is checked by name, vectorised (one pass per array):

  index inputs           integer dtype (no float, no bool) and in range:
    edge_source, edge_target, row_node, neighbors, node_graph_index   [0, N)
    feature_node                                    [0, N), non-decreasing
    feature_index                                   [0, F]  (F: padding, "no feature")
    overflow_rows                                   [0, R)  (R: rows of `neighbors`)
    overflow_index                                  [0, V]  (V: rows of `overflow_rows`)
    in_degree                                       >= 0
  masks (node_mask, neighbor_mask)                  0 or 1
  every other float input (node_features, feature_value, adjacency, edge_weight)
                                                    finite (no NaN, no +-inf)

N is the node count (rows of node_features, else the length of in_degree or node_mask),
F the feature count (columns of node_features, or `num_features` when the features come
as sparse lists). A bound whose size is not known from the inputs is not checked.
Values already in a quantized tensor's integer dtype are the caller's own encoding and
only range-checked by the cast.

numpy only: this file is also copied into device bundles next to `run_bundle.py`.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

import numpy as np

# name -> (low, name of the size that bounds it, whether the size itself is allowed)
_INDEX_BOUNDS = {
    "edge_source": (0, "N", False), "edge_target": (0, "N", False),
    "row_node": (0, "N", False), "neighbors": (0, "N", False),
    "node_graph_index": (0, "N", False), "feature_node": (0, "N", False),
    "feature_index": (0, "F", True), "overflow_rows": (0, "R", False),
    "overflow_index": (0, "V", True), "in_degree": (0, None, False),
}
INDEX_INPUTS = tuple(_INDEX_BOUNDS)
MASK_INPUTS = ("node_mask", "neighbor_mask")


def _position(array: np.ndarray, flat: int) -> str:
  index = np.unravel_index(flat, array.shape) if array.ndim else ()
  return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _sizes(inputs: Mapping[str, np.ndarray], num_features: Optional[int]) -> dict:
  sizes: dict[str, Optional[int]] = {"F": num_features}
  features = inputs.get("node_features")
  if features is not None and np.ndim(features) >= 2:
    sizes["N"] = int(np.shape(features)[-2])
    sizes["F"] = int(np.shape(features)[-1])
  else:
    for name in ("in_degree", "node_mask"):
      if name in inputs and np.ndim(inputs[name]) >= 1:
        sizes["N"] = int(np.shape(inputs[name])[-1])
        break
  if "neighbors" in inputs and np.ndim(inputs["neighbors"]) >= 1:
    sizes["R"] = int(np.shape(inputs["neighbors"])[0])
  if "overflow_rows" in inputs and np.ndim(inputs["overflow_rows"]) >= 1:
    sizes["V"] = int(np.shape(inputs["overflow_rows"])[0])
  return sizes


def _check_index(name: str, array: np.ndarray, sizes: dict) -> None:
  if array.dtype.kind not in "iu":
    raise ValueError(f"input {name!r}: indices must be integers, got dtype {array.dtype} "
                     "(a float or bool index would be truncated); pass int32 values.")
  low, size_name, inclusive = _INDEX_BOUNDS[name]
  size = sizes.get(size_name) if size_name else None
  if not array.size:
    return
  bad = array < low
  if size is not None:
    bad |= array > size if inclusive else array >= size
  if bad.any():
    flat = int(np.argmax(bad.ravel()))
    value = array.ravel()[flat]
    allowed = (f"[{low}, {size}]" if inclusive else f"[{low}, {size})") if size is not None \
        else f">= {low}"
    meaning = {"N": "the node count", "F": "the feature count (F = no feature)",
               "R": "the rows of neighbors", "V": "the rows of overflow_rows"}
    where = f"; {size} is {meaning[size_name]}" if size is not None else ""
    raise ValueError(f"input {name!r}: value {value} at position {_position(array, flat)} "
                     f"is outside {allowed}{where}.")
  if name == "feature_node" and array.ndim == 1 and len(array) > 1:
    drops = np.diff(array.astype(np.int64)) < 0
    if drops.any():
      flat = int(np.argmax(drops)) + 1
      raise ValueError(f"input {name!r}: value {array[flat]} at position [{flat}] is "
                       f"below the one before it ({array[flat - 1]}); the sparse-feature "
                       "lists must be sorted by node.")


def check_inputs(inputs: Mapping[str, Any], num_features: Optional[int] = None,
                 quantized: tuple[str, ...] = ()) -> None:
  """Raises ValueError naming the first input (and position) whose values the model's
  contract does not allow; see the module docstring. `quantized` names inputs whose
  arrays are already in their quantized integer encoding (not checked as real values)."""
  arrays = {name: np.asarray(value) for name, value in inputs.items()}
  sizes = _sizes(arrays, num_features)
  for name, array in arrays.items():
    if name in _INDEX_BOUNDS:
      _check_index(name, array, sizes)
    elif name in quantized:
      continue
    elif name in MASK_INPUTS:
      if array.dtype.kind not in "biuf":
        raise ValueError(f"input {name!r}: a mask must be numeric 0/1, got {array.dtype}.")
      bad = (array != 0) & (array != 1)
      if bad.any():
        flat = int(np.argmax(bad.ravel()))
        raise ValueError(f"input {name!r}: value {array.ravel()[flat]} at position "
                         f"{_position(array, flat)} is not 0 or 1; a mask holds 0 or 1 only.")
    elif array.dtype.kind in "fc":
      bad = ~np.isfinite(array)
      if bad.any():
        flat = int(np.argmax(bad.ravel()))
        raise ValueError(f"input {name!r}: value {array.ravel()[flat]} at position "
                         f"{_position(array, flat)} is not finite; inputs must have no "
                         "NaN or infinity.")
    elif array.dtype.kind not in "biu":
      raise ValueError(f"input {name!r}: expected numbers, got dtype {array.dtype}.")


def check_integer_cast(name: str, array: np.ndarray, dtype: Any) -> np.ndarray:
  """`array` cast to integer `dtype`, refusing floats (truncation) and values the dtype
  cannot hold (wrap-around)."""
  dtype = np.dtype(dtype)
  if array.dtype == dtype:
    return array
  if array.dtype.kind not in "biu":
    raise ValueError(f"input {name!r}: expected integer ({dtype}) values, got {array.dtype}.")
  info = np.iinfo(dtype)
  if array.size and (array.min() < info.min or array.max() > info.max):
    flat = int(np.argmax(((array < info.min) | (array > info.max)).ravel()))
    raise ValueError(f"input {name!r}: value {array.ravel()[flat]} at position "
                     f"{_position(array, flat)} does not fit {dtype}.")
  return array.astype(dtype)
