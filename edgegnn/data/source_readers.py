"""Readers of the dataset source formats: files in, plain arrays (`RawGraph`) out.

- npz: one numpy archive (`read_npz`).
- csv: a nodes file and an edges file, read with pyarrow.csv (`read_csv`).
- ogb: the raw layout an OGB node-property dataset unpacks to (`read_ogb`); never downloads.

No checking beyond what reading needs: `edgegnn.data.source_build` validates the arrays.
Every error is a `SourceError` naming the file and what to fix. numpy/pyarrow only.
"""
from __future__ import annotations

import fnmatch
import pathlib
import zipfile
from typing import Any, Mapping, Optional

import numpy as np

from edgegnn.data.source_build import RawGraph, SourceError
from edgegnn.data.sparse import SparseFeatures

NPZ_ARRAYS = ("node_features", "feature_indptr", "feature_indices", "feature_values",
              "feature_width", "edge_source", "edge_target", "labels", "train_index",
              "val_index", "test_index", "graph_index", "graph_labels")


def _exists(path: pathlib.Path, what: str) -> pathlib.Path:
  if not path.is_file():
    raise SourceError(f"{path}: {what} does not exist (or is not a file); check the path "
                      "(relative paths start at the pipeline file's directory).")
  return path


def read_npz(spec: Mapping[str, Any]) -> RawGraph:
  """The arrays of `spec["path"]` (see docs/data.md for the names)."""
  path = _exists(pathlib.Path(spec["path"]), "the npz file")
  try:
    with np.load(path, allow_pickle=False) as npz:
      arrays = {key: npz[key] for key in npz.files}
  except ValueError as e:
    raise SourceError(f"{path}: unreadable npz ({e}); save text labels or ids as integers "
                      "(object arrays are refused).") from None
  except (OSError, EOFError, zipfile.BadZipFile) as e:
    raise SourceError(f"{path}: not a readable .npz archive ({e}); write it with "
                      "numpy.savez.") from None
  unknown = sorted(set(arrays) - set(NPZ_ARRAYS))
  if unknown:
    raise SourceError(f"{path}: unknown array(s) {unknown}; the arrays are "
                      f"{', '.join(NPZ_ARRAYS)}.")
  for key in ("edge_source", "edge_target"):
    if key not in arrays:
      raise SourceError(f"{path}: the array {key} is missing; store the edges as edge_source "
                        "and edge_target (node rows, one entry per directed edge).")
  return RawGraph(where=str(path), features=arrays.get("node_features"),
                  sparse=_npz_sparse(path, arrays), edge_source=arrays["edge_source"],
                  edge_target=arrays["edge_target"], labels=arrays.get("labels"),
                  splits={s: arrays[f"{s}_index"] for s in ("train", "val", "test")
                          if f"{s}_index" in arrays},
                  graph_index=arrays.get("graph_index"), graph_labels=arrays.get("graph_labels"))


def _npz_sparse(path: pathlib.Path, arrays: dict) -> Optional[SparseFeatures]:
  """The CSR features of an npz file, or None when it has dense node_features."""
  csr = [k for k in ("feature_indptr", "feature_indices", "feature_values") if k in arrays]
  dense = arrays.get("node_features")
  if dense is not None:
    if csr:
      raise SourceError(f"{path}: both node_features and {csr}; keep one feature form.")
    if dense.ndim != 2 or dense.dtype.kind not in "biuf":
      raise SourceError(f"{path}: node_features must be a numeric [nodes, features] array, "
                        f"got shape {dense.shape}, dtype {dense.dtype}.")
    return None
  if "feature_indptr" not in arrays or "feature_indices" not in arrays:
    raise SourceError(f"{path}: no features; store node_features [N, F], or CSR "
                      "feature_indptr [N + 1] + feature_indices (+ feature_values).")
  indices = arrays["feature_indices"]
  width = (int(arrays["feature_width"]) if "feature_width" in arrays
           else int(indices.max()) + 1 if indices.size else 1)
  try:
    return SparseFeatures(arrays["feature_indptr"], indices, width, arrays.get("feature_values"))
  except ValueError as e:
    raise SourceError(f"{path}: CSR features (feature_indptr/feature_indices/feature_values): "
                      f"{e}") from None


# --- CSV -----------------------------------------------------------------------------------

def _read_table(path: pathlib.Path, header: bool = True, column_types=None):
  """A pyarrow Table of a CSV file (compressed if the name says so); a ragged row is
  reported with its line number."""
  import pyarrow as pa  # pylint: disable=g-import-not-at-top
  from pyarrow import csv  # pylint: disable=g-import-not-at-top
  read = {} if header else {"autogenerate_column_names": True}
  convert = csv.ConvertOptions(column_types=column_types or {})
  try:
    return csv.read_csv(path, read_options=csv.ReadOptions(**read), convert_options=convert)
  except pa.ArrowInvalid as e:
    rows = []

    def handler(row):
      rows.append(row)
      return "error"
    try:
      csv.read_csv(path, read_options=csv.ReadOptions(use_threads=False, **read),
                   parse_options=csv.ParseOptions(invalid_row_handler=handler),
                   convert_options=convert)
    except pa.ArrowInvalid:
      pass
    if rows:
      row = rows[0]
      raise SourceError(f"{path}: line {row.number} has {row.actual_columns} values but the "
                        f"header has {row.expected_columns} ({row.text!r}); every line needs "
                        "one value per column.") from None
    raise SourceError(f"{path}: not readable as CSV: {e}") from None
  except OSError as e:
    raise SourceError(f"{path}: cannot read: {e}") from None


def _column(table, name: str, path: pathlib.Path, key: str):
  if name not in table.column_names:
    raise SourceError(f"{path}: no column {name!r} (set as `{key}`); its columns are "
                      f"{table.column_names}.")
  return table.column(name)


def _feature_columns(table, pattern: Any, path: pathlib.Path) -> list[str]:
  """The columns named by `features`: a list of names or one "prefix*" glob."""
  if isinstance(pattern, str):
    names = [c for c in table.column_names if fnmatch.fnmatchcase(c, pattern)]
    if not names:
      raise SourceError(f"{path}: no column matches features {pattern!r}; its columns are "
                        f"{table.column_names}.")
    return names
  if not isinstance(pattern, list) or not pattern or not all(isinstance(c, str) for c in pattern):
    raise SourceError(f"{path}: features must be a list of column names or a glob such as "
                      f"\"f*\", got {pattern!r}.")
  missing = [c for c in pattern if c not in table.column_names]
  if missing:
    raise SourceError(f"{path}: no column(s) {missing} (set as `features`); its columns are "
                      f"{table.column_names}.")
  return pattern


def _features_of(table, names: list[str], path: pathlib.Path) -> np.ndarray:
  """float32 [N, len(names)]: empty cells and text are refused naming the column and row."""
  import pyarrow as pa  # pylint: disable=g-import-not-at-top
  out = np.empty((table.num_rows, len(names)), np.float32)
  for j, name in enumerate(names):
    column = table.column(name)
    if column.null_count:
      row = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
      raise SourceError(f"{path}: feature column {name!r} is missing (empty, NA or NaN) on "
                        f"data row {row} (line {row + 2}); fill missing values (e.g. with 0) "
                        "before loading.")
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
            or pa.types.is_boolean(column.type)):
      raise SourceError(f"{path}: feature column {name!r} holds {column.type} values, not "
                        "numbers; features must be numeric.")
    out[:, j] = column.to_numpy(zero_copy_only=False)
  return out


def _ids(column, path: pathlib.Path, key: str):
  """The id column as an Arrow array; duplicates are refused naming both rows."""
  import pyarrow.compute as pc  # pylint: disable=g-import-not-at-top
  ids = column.combine_chunks()
  if ids.null_count:
    row = int(np.flatnonzero(ids.is_null().to_numpy(zero_copy_only=False))[0])
    raise SourceError(f"{path}: column {key!r} is empty on data row {row} (line {row + 2}); "
                      "every node needs an id.")
  if len(pc.unique(ids)) != len(ids):
    seen = {}
    for row, value in enumerate(ids.to_pylist()):
      if value in seen:
        raise SourceError(f"{path}: node id {value!r} appears on data rows {seen[value]} and "
                          f"{row} (lines {seen[value] + 2} and {row + 2}); each node once.")
      seen[value] = row
  return ids


def _rows_of(ids, column, nodes_path: pathlib.Path, edges_path: pathlib.Path, key: str,
             id_key: str) -> np.ndarray:
  """int64 node rows of the edge end-point column; an unknown id names its edge row."""
  import pyarrow as pa  # pylint: disable=g-import-not-at-top
  import pyarrow.compute as pc  # pylint: disable=g-import-not-at-top
  column = column.combine_chunks()
  if pa.types.is_integer(ids.type) and pa.types.is_integer(column.type):
    ids, column = ids.cast(pa.int64()), column.cast(pa.int64())
  else:
    ids, column = ids.cast(pa.string()), column.cast(pa.string())
  rows = pc.index_in(column, value_set=ids)
  if rows.null_count:
    row = int(np.flatnonzero(rows.is_null().to_numpy(zero_copy_only=False))[0])
    raise SourceError(f"{edges_path}: {key} {column[row].as_py()!r} on data row {row} (line "
                      f"{row + 2}) is not a node id of {nodes_path} (column {id_key!r}); add "
                      "the node or drop the line.")
  return rows.to_numpy(zero_copy_only=False).astype(np.int64)


def read_csv(spec: Mapping[str, Any]) -> RawGraph:
  """Nodes (id, label, feature columns) and edges (source, target columns) CSV files."""
  nodes_path = _exists(pathlib.Path(spec["nodes"]), "the nodes file")
  edges_path = _exists(pathlib.Path(spec["edges"]), "the edges file")
  id_key, label_key = spec.get("id", "id"), spec.get("label", "label")
  source_key, target_key = spec.get("source", "source"), spec.get("target", "target")
  nodes = _read_table(nodes_path)
  ids = _ids(_column(nodes, id_key, nodes_path, "id"), nodes_path, id_key)
  labels_column = _column(nodes, label_key, nodes_path, "label")
  features, sparse = None, None
  if "sparse_features" in spec:
    sparse = _sparse_file(spec["sparse_features"], ids, nodes_path, id_key)
  else:
    features = _features_of(nodes, _feature_columns(nodes, spec.get("features", "f*"),
                                                    nodes_path), nodes_path)
  edges = _read_table(edges_path)
  source = _rows_of(ids, _column(edges, source_key, edges_path, "source"), nodes_path,
                    edges_path, "source", id_key)
  target = _rows_of(ids, _column(edges, target_key, edges_path, "target"), nodes_path,
                    edges_path, "target", id_key)
  splits = {}
  if "split_column" in spec:
    splits = _splits_of(_column(nodes, spec["split_column"], nodes_path, "split_column"),
                        nodes_path, spec["split_column"])
  return RawGraph(where=f"{nodes_path} + {edges_path}", features=features, sparse=sparse,
                  edge_source=source, edge_target=target,
                  labels=_labels_of(labels_column, nodes_path, label_key), splits=splits,
                  edge_names=(f"{edges_path.name} {source_key}",
                              f"{edges_path.name} {target_key}"))


def _sparse_file(conf: Mapping[str, Any], ids, nodes_path: pathlib.Path,
                 id_key: str) -> SparseFeatures:
  """CSR features from a file of non-zeros: one line per (node id, column index[, value]);
  no value column = binary features."""
  import pyarrow as pa  # pylint: disable=g-import-not-at-top
  path = _exists(pathlib.Path(conf["path"]), "the sparse features file")
  table = _read_table(path)
  index_key = conf.get("index", "index")
  rows = _rows_of(ids, _column(table, conf.get("id", "id"), path, "sparse_features.id"),
                  nodes_path, path, "node", id_key)
  index = _column(table, index_key, path, "sparse_features.index")
  if index.null_count or not pa.types.is_integer(index.type):
    raise SourceError(f"{path}: column {index_key!r} must hold an integer feature column "
                      f"index on every line (got {index.type}, {index.null_count} empty).")
  index = index.to_numpy().astype(np.int64)
  if index.size and index.min() < 0:
    row = int(np.flatnonzero(index < 0)[0])
    raise SourceError(f"{path}: {index_key} is {index[row]} on data row {row} (line "
                      f"{row + 2}); feature indices are 0..F-1.")
  values = None
  if conf.get("value") is not None:
    values = _features_of(table, [conf["value"]], path)[:, 0]
    from edgegnn.data.source_build import check_finite  # pylint: disable=g-import-not-at-top
    check_finite(values[:, None], str(path), f"column {conf['value']!r}")
  width = conf.get("width") or (int(index.max()) + 1 if index.size else 1)
  if index.size and index.max() >= width:
    raise SourceError(f"{path}: {index_key} reaches {index.max()} but width is {width}; "
                      "raise sparse_features.width or fix the index.")
  keys = rows * width + index
  unique, first = np.unique(keys, return_index=True)
  if unique.size != keys.size:
    repeats = np.ones(keys.size, bool)
    repeats[first] = False
    row = int(np.flatnonzero(repeats)[0])
    earlier = int(np.flatnonzero(keys == keys[row])[0])
    raise SourceError(f"{path}: node {ids[int(rows[row])].as_py()!r} has {index_key} "
                      f"{index[row]} on data rows {earlier} and {row} (lines {earlier + 2} and "
                      f"{row + 2}); list each non-zero once (sum the values first).")
  order = np.argsort(keys, kind="stable")
  splits = np.zeros(len(ids) + 1, np.int64)
  np.cumsum(np.bincount(rows, minlength=len(ids)), out=splits[1:])
  return SparseFeatures(splits, index[order], width,
                        None if values is None else values[order])


def _splits_of(column, path: pathlib.Path, key: str) -> dict[str, np.ndarray]:
  """Rows per split of a column holding train, val, test or nothing (in no split)."""
  values = np.array([v or "" for v in column.cast("string").to_pylist()], dtype=object)
  known = np.isin(values, ["train", "val", "test", ""])
  if not known.all():
    row = int(np.flatnonzero(~known)[0])
    raise SourceError(f"{path}: split column {key!r} holds {values[row]!r} on data row {row} "
                      f"(line {row + 2}); use train, val, test or leave it empty.")
  return {s: np.flatnonzero(values == s) for s in ("train", "val", "test")}


def _labels_of(column, path: pathlib.Path, key: str) -> np.ndarray:
  """Labels as numpy: an empty cell is refused naming its row (-1 marks unlabeled)."""
  import pyarrow as pa  # pylint: disable=g-import-not-at-top
  if column.null_count:
    row = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
    raise SourceError(f"{path}: label column {key!r} is missing (empty, NA or NaN) on data row "
                      f"{row} (line {row + 2}); give every node an integer label, -1 if "
                      "unlabeled.")
  if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
    text = column.to_pylist()
    row = next(i for i, v in enumerate(text) if not v.lstrip("-").isdigit())
    raise SourceError(f"{path}: label column {key!r} holds text ({text[row]!r} on data row "
                      f"{row}, line {row + 2}); labels must be integers 0..C-1 (-1 = "
                      "unlabeled). Map each class name to an integer.")
  return column.to_numpy(zero_copy_only=False)


# --- OGB raw layout --------------------------------------------------------------------------

def _no_header(path: pathlib.Path, what: str) -> np.ndarray:
  """The numeric matrix of a header-less (gzipped) OGB CSV file, [rows, columns]."""
  import pyarrow as pa  # pylint: disable=g-import-not-at-top
  _exists(path, what)
  table = _read_table(path, header=False)
  columns = []
  for j, column in enumerate(table.columns):
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
            or pa.types.is_null(column.type)):
      raise SourceError(f"{path}: column {j} holds {column.type} values; {what} must be "
                        "numbers.")
    columns.append(column.to_numpy(zero_copy_only=False))
  return np.stack(columns, axis=1) if columns else np.zeros((0, 0))


def read_ogb(spec: Mapping[str, Any]) -> RawGraph:
  """An unpacked OGB node-property dataset: raw/edge.csv.gz, raw/node-feat.csv.gz,
  raw/node-label.csv.gz and split/NAME/{train,valid,test}.csv.gz (NAME: `split_name`, or the
  only directory under split/)."""
  root = pathlib.Path(spec["root"])
  if not root.is_dir():
    raise SourceError(f"{root}: the OGB root directory does not exist; point `root` at the "
                      "directory holding raw/ and split/.")
  raw = root / "raw"
  edges = _no_header(raw / "edge.csv.gz", "edges (two node rows per line)")
  if edges.shape[1] != 2:
    raise SourceError(f"{raw / 'edge.csv.gz'}: {edges.shape[1]} columns; one edge per line as "
                      "'source,target'.")
  features = _no_header(raw / "node-feat.csv.gz", "node features").astype(np.float32)
  labels = _no_header(raw / "node-label.csv.gz", "node labels")
  if labels.shape[1] != 1:
    raise SourceError(f"{raw / 'node-label.csv.gz'}: {labels.shape[1]} columns; one label per "
                      "line.")
  labels = labels[:, 0]
  if labels.dtype.kind == "f":   # OGB marks unlabeled nodes with an empty/NaN label
    labels = np.where(np.isnan(labels), -1.0, labels)
  splits = {}
  split_root = root / "split"
  if split_root.is_dir():
    name = spec.get("split_name")
    if name is None:
      names = sorted(p.name for p in split_root.iterdir() if p.is_dir())
      if len(names) != 1:
        raise SourceError(f"{split_root}: {len(names)} split directories {names}; choose one "
                          "with `split_name`.")
      name = names[0]
    for ours, theirs in (("train", "train"), ("val", "valid"), ("test", "test")):
      path = split_root / name / f"{theirs}.csv.gz"
      rows = _no_header(path, f"the {theirs} node rows")
      if rows.shape[1] != 1 or rows.dtype.kind not in "iu":
        raise SourceError(f"{path}: one integer node row per line expected.")
      splits[ours] = rows[:, 0]
  return RawGraph(where=str(root), features=features, sparse=None, edge_source=edges[:, 0],
                  edge_target=edges[:, 1], labels=labels, splits=splits,
                  edge_names=("raw/edge.csv.gz column 0", "raw/edge.csv.gz column 1"))


def read_tfgnn(spec: Mapping[str, Any]) -> RawGraph:
  """GraphSchema + TFRecord (`edgegnn.data.source_tfgnn`; imports TensorFlow)."""
  from edgegnn.data import source_tfgnn  # pylint: disable=g-import-not-at-top
  return source_tfgnn.read_tfgnn(spec)


READERS = {"npz": read_npz, "csv": read_csv, "ogb": read_ogb, "tfgnn": read_tfgnn}
