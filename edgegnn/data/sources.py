"""Dataset sources: a bundled name, or your own graph on disk (numpy/pyarrow; TensorFlow for
the tfgnn format only).

    from edgegnn import data
    data.load_source("cora")                                   # a bundled dataset
    data.load_source({"format": "npz", "path": "g.npz"})       # your arrays
    data.load_source({"format": "csv", "nodes": "nodes.csv", "edges": "edges.csv",
                      "id": "id", "label": "label", "features": "f*",
                      "split": {"train": 0.6, "val": 0.2, "seed": 0}})
    data.load_source({"format": "ogb", "root": "ogbn_arxiv", "symmetrize": True})
    data.load_source({"format": "tfgnn", "schema": "schema.pbtxt", "path": "graph.tfrecord",
                      "split": {"train": 0.6, "val": 0.2}})   # imports TensorFlow
    data.load_source({"format": "synthetic", "num_nodes": 100000, "avg_degree": 10,
                      "num_classes": 7, "seed": 0})   # a generated graph, no file
    data.load_source("g.npz")      # a path: .npz, or a .yaml/.json file holding the mapping

Every place that turns a pipeline's `dataset:`, a CLI `--dataset` or a saved model's record
into a dataset goes through `load_source`. `resolve` turns the value into its stored form:
the canonical bundled name, or the source mapping with absolute paths and its `name` filled
in; that form is what model directories and report.json record, and `load_source` accepts
it anywhere (no base directory needed). docs/data.md lists each format's arrays and columns.

Errors are `SourceError` (a ValueError) naming the file, the array, column or row, and the
fix; they come before anything is trained or written.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import pathlib
import re
import weakref
from typing import Any, Mapping, Optional, Union

from edgegnn.data import registry, source_synthetic
from edgegnn.data.source_build import SourceError, build

Source = Union[str, Mapping[str, Any]]

COMMON_KEYS = ("format", "name", "symmetrize", "split", "folds")
FORMAT_KEYS = {
    "npz": ("path",),
    "csv": ("nodes", "edges", "id", "label", "features", "source", "target",
            "split_column", "sparse_features"),
    "ogb": ("root", "split_name"),
    "tfgnn": ("schema", "path", "node_set", "edge_set", "features", "label"),
    "synthetic": source_synthetic.KEYS,
}
PATH_KEYS = {"npz": ("path",), "csv": ("nodes", "edges"), "ogb": ("root",),
             "tfgnn": ("schema", "path"), "synthetic": ()}
REQUIRED_KEYS = PATH_KEYS
SPARSE_KEYS = ("path", "id", "index", "value", "width")
SPEC_SUFFIXES = (".yaml", ".yml", ".json")
MAX_SPEC_BYTES = 1 << 16

__all__ = ["SourceError", "describe", "fingerprint", "is_source", "load_source",
           "load_source_summary", "of_artifact", "origin", "resolve"]


def is_source(value: Any) -> bool:
  """True if `value` is a source mapping (not a bundled dataset name)."""
  return isinstance(value, Mapping)


def _looks_like_path(text: str) -> bool:
  return text.endswith((".npz",) + SPEC_SUFFIXES) or "/" in text or os.sep in text


def _spec_file(path: pathlib.Path) -> dict:
  """The mapping held by a small YAML or JSON file."""
  import yaml  # pylint: disable=g-import-not-at-top
  if not path.is_file():
    raise SourceError(f"{path}: the dataset file does not exist; give a bundled name "
                      f"({', '.join(registry.available_datasets())}), a .npz file or a "
                      ".yaml/.json file holding the source mapping.")
  if path.stat().st_size > MAX_SPEC_BYTES:
    raise SourceError(f"{path}: {path.stat().st_size} bytes; a dataset source file holds one "
                      "small mapping (the data goes in the files it names).")
  try:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
  except (yaml.YAMLError, UnicodeDecodeError) as e:
    raise SourceError(f"{path}: not valid YAML/JSON: {' '.join(str(e).split())}") from None
  if not isinstance(raw, Mapping):
    raise SourceError(f"{path}: expected a mapping with a `format` key, got "
                      f"{type(raw).__name__}.")
  return dict(raw)


def _default_name(spec: Mapping[str, Any]) -> str:
  fmt = spec["format"]
  if fmt == "synthetic":
    return source_synthetic.default_name(spec)
  stem = pathlib.Path(spec[PATH_KEYS[fmt][0]]).name
  if fmt == "tfgnn":  # graph_schema.pbtxt says little: its directory's name
    stem = pathlib.Path(spec["schema"]).parent.name
  stem = stem[:-len(".npz")] if stem.endswith(".npz") else pathlib.Path(stem).stem
  stem = re.sub(r"[^A-Za-z0-9_.-]", "_", stem).lstrip(".") or "dataset"
  return stem[:128]


def _sparse_spec(spec: dict, base_dir: pathlib.Path, where: str) -> dict:
  """The checked `sparse_features` mapping of a csv source, its path made absolute."""
  sparse = spec["sparse_features"]
  if not isinstance(sparse, Mapping) or not isinstance(sparse.get("path"), str):
    raise SourceError(f"{where}: sparse_features must be a mapping like {{path: feats.csv, id: "
                      f"node, index: word, value: count}}, got {sparse!r}.")
  unknown = sorted(set(sparse) - set(SPARSE_KEYS))
  if unknown:
    raise SourceError(f"{where}: unknown sparse_features key(s) {unknown}; valid keys: "
                      f"{list(SPARSE_KEYS)}.")
  if "features" in spec:
    raise SourceError(f"{where}: give `features` (columns of the nodes file) or "
                      "`sparse_features` (a file of non-zeros), not both.")
  width = sparse.get("width")
  if width is not None and (isinstance(width, bool) or not isinstance(width, int) or width < 1):
    raise SourceError(f"{where}: sparse_features.width must be an integer >= 1, got {width!r}.")
  out = dict(sparse)
  out["path"] = str((base_dir / os.path.expanduser(sparse["path"])).resolve())
  return out


def _normalize(spec: Mapping[str, Any], base_dir: pathlib.Path, where: str) -> dict:
  """The checked mapping with absolute paths and a `name`."""
  from edgegnn.safe_paths import check_name  # pylint: disable=g-import-not-at-top
  fmt = spec.get("format")
  if fmt not in FORMAT_KEYS:
    raise SourceError(f"{where}: `format` must be one of {', '.join(FORMAT_KEYS)}, got "
                      f"{fmt!r}.")
  allowed = set(COMMON_KEYS) | set(FORMAT_KEYS[fmt])
  unknown = sorted(set(spec) - allowed)
  if unknown:
    raise SourceError(f"{where}: unknown key(s) {unknown} for format {fmt}; valid keys: "
                      f"{sorted(allowed)}.")
  out = copy.deepcopy(dict(spec))
  if fmt == "synthetic":
    source_synthetic.check(out, where)
  for key in REQUIRED_KEYS[fmt]:
    if not isinstance(out.get(key), str) or not out[key]:
      raise SourceError(f"{where}: format {fmt} needs `{key}` (a path), got "
                        f"{out.get(key)!r}.")
    out[key] = str((base_dir / os.path.expanduser(out[key])).resolve())
  for key in ("id", "label", "source", "target", "split_name", "split_column", "node_set",
              "edge_set"):
    if key in out and not isinstance(out[key], str):
      raise SourceError(f"{where}: `{key}` must be a column or directory name (text), got "
                        f"{out[key]!r}.")
  if "sparse_features" in out:
    out["sparse_features"] = _sparse_spec(out, base_dir, where)
  if not isinstance(out.get("symmetrize", False), bool):
    raise SourceError(f"{where}: symmetrize must be true or false, got {out['symmetrize']!r}.")
  out.setdefault("name", _default_name(out))
  try:
    check_name(out["name"], f"{where}: name")
  except ValueError as e:
    raise SourceError(str(e)) from None
  return out


def resolve(value: Any, base_dir: Optional[Union[str, os.PathLike]] = None) -> Union[str, dict]:
  """The stored form of a dataset value: a canonical bundled name, or the source mapping
  with absolute paths and a `name` (see the module doc).

  Args:
    value: a bundled name; a path to a .npz file or to a .yaml/.json file holding a source
      mapping; or a source mapping.
    base_dir: where relative paths start (the pipeline file's directory); default the
      current directory. Paths inside a .yaml/.json source file start at that file's
      directory.

  Raises:
    SourceError: a malformed mapping or a missing source file.
    UnknownDatasetError: a name that is neither bundled nor a path.
  """
  base = pathlib.Path(base_dir if base_dir is not None else os.getcwd())
  if isinstance(value, Mapping):
    return _normalize(value, base, "dataset")
  if not isinstance(value, str):
    raise SourceError(f"dataset must be a bundled name, a path or a mapping with a `format` "
                      f"key, got {value!r}.")
  if not _looks_like_path(value):
    try:
      return registry.canonical_name(value)
    except registry.UnknownDatasetError as e:
      raise registry.UnknownDatasetError(
          f"{e} Or your own graph: a .npz path, or a mapping with a `format` key (npz, csv, "
          "ogb, tfgnn, synthetic; docs/data.md).") from None
  path = (base / os.path.expanduser(value)).resolve()
  if value.endswith(".npz"):
    return _normalize({"format": "npz", "path": str(path)}, base, str(path))
  if value.endswith(SPEC_SUFFIXES):
    return _normalize(_spec_file(path), path.parent, str(path))
  raise SourceError(f"dataset {value!r}: a path must name a .npz file or a .yaml/.json file "
                    "holding the source mapping.")


def _files(spec: Mapping[str, Any]) -> list[pathlib.Path]:
  """Every file a resolved source reads."""
  paths = [pathlib.Path(spec[k]) for k in PATH_KEYS[spec["format"]]]
  if "sparse_features" in spec:
    paths.append(pathlib.Path(spec["sparse_features"]["path"]))
  if spec["format"] == "ogb":
    root = paths[0]
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
  if spec["format"] == "tfgnn":
    from edgegnn.data.source_tfgnn import files_of  # pylint: disable=g-import-not-at-top
    return paths[:1] + files_of(spec)
  return paths


def _stat_key(spec: Mapping[str, Any]) -> str:
  stats = []
  for path in _files(spec):
    try:
      info = path.stat()
      stats.append((str(path), info.st_size, info.st_mtime_ns))
    except OSError:
      stats.append((str(path), None, None))
  return json.dumps([spec, stats], sort_keys=True, default=str)


def fingerprint(value: Any) -> Optional[str]:
  """SHA-256 over a resolved source's mapping and file contents (None for bundled names):
  a pipeline's stage cache is keyed on it, so an edited file retrains."""
  if not isinstance(value, Mapping):
    return None
  digest = hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode())
  for path in _files(value):
    digest.update(str(path).encode())
    with open(path, "rb") as handle:
      for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
  return digest.hexdigest()[:16]


_CACHE: dict[str, tuple[Any, str]] = {}
# Dataset object -> the resolved source it was loaded from (`origin`).
_ORIGINS: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def origin(dataset: Any) -> Union[str, dict]:
  """What reloads a loaded dataset in another process: the resolved source mapping it came
  from (`load_source`), else its name (a bundled dataset, or one built in Python)."""
  return _ORIGINS.get(dataset, dataset.name)


def load_source_summary(value: Source, base_dir: Optional[Union[str, os.PathLike]] = None):
  """(dataset, one-line summary): nodes, edges, duplicate edges, self-loops, split sizes.

  Loaded once per process per source and file state (size and modification time).
  """
  from edgegnn.data.loading import load  # pylint: disable=g-import-not-at-top
  from edgegnn.data.source_readers import READERS  # pylint: disable=g-import-not-at-top
  resolved = resolve(value, base_dir)
  if isinstance(resolved, str):
    dataset = load(resolved)
    return dataset, f"{resolved}: bundled dataset"
  key = _stat_key(resolved)
  if key not in _CACHE:
    fmt = resolved["format"]
    raw = (source_synthetic.read_synthetic if fmt == "synthetic" else READERS[fmt])(resolved)
    _CACHE.clear()  # one user graph at a time: a large one must not stay alive twice
    _CACHE[key] = build(raw, resolved["name"], resolved)
    _ORIGINS[_CACHE[key][0]] = resolved
  return _CACHE[key]


def load_source(value: Source, base_dir: Optional[Union[str, os.PathLike]] = None):
  """The dataset of a bundled name, a path or a source mapping (see `resolve`).

  Returns:
    A NodeClassificationDataset or GraphClassificationDataset, arrays read-only.

  Raises:
    SourceError: the file, array, column or row at fault, and the fix.
    UnknownDatasetError: an unknown bundled name.
  """
  return load_source_summary(value, base_dir)[0]


def of_artifact(artifact: Union[str, os.PathLike], name: str) -> Union[str, dict]:
  """The dataset an artifact was made from: its sidecar's `dataset_source`
  (ARTIFACT.tflite.json, written by `edgegnn.deploy.ship`), else the `dataset_source` of
  the pipeline run's report.json (OUT/report.json for OUT/artifacts/NAME.tflite), when
  either names the same dataset `name`; else `name` itself."""
  artifact = pathlib.Path(artifact).resolve()
  for path in (artifact.with_name(artifact.name + ".json"),
               artifact.parent.parent / "report.json"):
    try:
      raw = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError):
      continue
    source = raw.get("dataset_source") if isinstance(raw, dict) else None
    if raw.get("dataset") == name and isinstance(source, Mapping) and source.get("name") == name:
      return dict(source)
  return name


def describe(value: Any) -> str:
  """A short text for a stored dataset value: the name, or "name (format path)"."""
  if not isinstance(value, Mapping):
    return str(value)
  fmt = value.get("format")
  if fmt == "synthetic":
    return f"{value.get('name')} (synthetic, {value.get('num_nodes')} nodes)"
  where = value.get(PATH_KEYS.get(fmt, ("path",))[0], "?")
  return f"{value.get('name')} ({fmt} {where})"
