"""Converts the raw datasets into edgegnn's package files (`edgegnn/data/files/NAME.npz`).

    .venv/bin/python tools/convert_datasets.py --source /work/shared/datasets \
        --out edgegnn/data/files

Reads `planetoid/{cora,citeseer}.npz` (already pickle-free; the `ind.*` pickles are never
opened), the six TU sets in the DGCNN/GIN text format (`tu/NAME/NAME.txt` and
`tu/NAME/10fold_idx/`), and scikit-learn's bundled 8x8 digits. Writes one compressed npz
per dataset, in the layout `edgegnn/data/decode.py` documents. The output is byte-for-byte
deterministic (fixed zip timestamps, sorted keys) and each file is written atomically.
"""
import argparse
import io
import os
import pathlib
import sys
import tempfile
import zipfile

import numpy as np

from edgegnn.data import registry  # pylint: disable=g-import-not-at-top,wrong-import-position

Arrays = dict[str, np.ndarray]

PLANETOID = ("cora", "citeseer")
# Canonical name -> (folder and file stem under tu/, node feature kind). IMDBBINARY has a
# single node tag, so its nodes get a one-hot of their degree instead, as GIN does.
TU = {
    "mutag": ("MUTAG", "tag"),
    "proteins": ("PROTEINS", "tag"),
    "nci1": ("NCI1", "tag"),
    "ptc": ("PTC", "tag"),
    "enzymes": ("ENZYMES", "tag"),
    "imdb_binary": ("IMDBBINARY", "degree"),
}
NUM_FOLDS = 10
DIGITS_SPLIT_SEED = 0
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def compact(values: np.ndarray) -> np.ndarray:
  """Returns integer `values` in the smallest of uint8/int8/uint16/int16/int32/int64."""
  values = np.asarray(values)
  low, high = (int(values.min()), int(values.max())) if values.size else (0, 0)
  for dtype in (np.uint8, np.int8, np.uint16, np.int16, np.int32, np.int64):
    info = np.iinfo(dtype)
    if info.min <= low and high <= info.max:
      return values.astype(dtype)
  raise ValueError(f"integers in [{low}, {high}] do not fit int64.")


def _header(name: str, source: str) -> Arrays:
  """Returns the arrays every package file starts with."""
  return {"format_version": np.int32(registry.FORMAT_VERSION), "name": np.str_(name),
          "kind": np.str_(registry.DATASET_KINDS[name]), "source": np.str_(source)}


def _offsets(sizes: list[int] | np.ndarray) -> np.ndarray:
  """Returns [0, s0, s0 + s1, ...] for the given sizes."""
  return np.concatenate([[0], np.cumsum(np.asarray(sizes, np.int64))])


# Planetoid ------------------------------------------------------------------------------------


def convert_planetoid(source: pathlib.Path, name: str) -> Arrays:
  """Converts `planetoid/NAME.npz` (CSR features, edge_index, masks) to the package layout."""
  import scipy.sparse  # pylint: disable=g-import-not-at-top
  with np.load(source / "planetoid" / f"{name}.npz", allow_pickle=False) as raw:
    raw = {key: raw[key] for key in raw.files}
  shape = tuple(int(v) for v in raw["x_shape"])
  x = scipy.sparse.csr_matrix((raw["x_data"], raw["x_indices"], raw["x_indptr"]), shape=shape)
  x.sum_duplicates()  # Also sorts the column indices of each row.
  x.eliminate_zeros()
  data = x.data
  if np.all(data == np.round(data)) and data.min() >= 0 and data.max() <= 255:
    data = data.astype(np.uint8)  # Binary bag-of-words: stored exactly as uint8.
  else:
    data = data.astype(np.float32)
  num_nodes = shape[0]
  edges = np.asarray(raw["edge_index"], np.int64)
  if edges.ndim != 2 or edges.shape[0] != 2:
    raise ValueError(f"{name}: edge_index must be [2, E], got {edges.shape}.")
  if edges.size and (edges.min() < 0 or edges.max() >= num_nodes):
    raise ValueError(f"{name}: edge_index outside [0, {num_nodes}).")
  # Sorted by (source, target), duplicates dropped.
  keys = np.unique(edges[0] * num_nodes + edges[1])
  labels = np.asarray(raw["y"], np.int64)
  num_classes = int(raw["num_classes"])
  if labels.shape != (num_nodes,) or labels.min() < -1 or labels.max() >= num_classes:
    raise ValueError(f"{name}: labels must be [N] in [-1, {num_classes}).")
  arrays = _header(name, "kimiyoung/planetoid data/ (MIT), Planetoid public split, via "
                   f"planetoid/{name}.npz")
  arrays.update({
      "x_data": data,
      "x_indices": compact(x.indices),
      "x_indptr": compact(x.indptr),
      "x_shape": np.asarray(shape, np.int32),
      "edge_source": compact(keys // num_nodes),
      "edge_target": compact(keys % num_nodes),
      "labels": compact(labels),
      "num_classes": np.int32(num_classes),
  })
  for split in ("train", "val", "test"):
    mask = np.asarray(raw[f"{split}_mask"], bool)
    if mask.shape != (num_nodes,):
      raise ValueError(f"{name}: {split}_mask must be [N].")
    arrays[f"{split}_index"] = compact(np.flatnonzero(mask))
  return arrays


# TU -------------------------------------------------------------------------------------------


def parse_tu_text(text: str, where: str) -> dict[str, object]:
  """Parses the DGCNN/GIN text format.

  Args:
    text: the file's contents: line 1 the number of graphs; per graph a line `n label`, then
      n lines `tag m j1 .. jm [extra floats]` (the extra floats are ignored).
    where: the file name, for error messages.

  Returns:
    A dict with "tags" (int64 [sum n], raw node tags), "num_nodes" (list), "source" and
    "target" (int64, graph-local, both directions as listed, duplicates dropped keeping the
    first), "num_edges" (list), "labels" (list of raw graph labels) and "duplicates" (how
    many listed edges were dropped).
  """
  lines = iter(text.splitlines())
  line_number = 0

  def next_fields() -> list[str]:
    nonlocal line_number
    for line in lines:
      line_number += 1
      if line.strip():
        return line.split()
    raise ValueError(f"{where}: file ends early, after line {line_number}.")

  num_graphs = int(next_fields()[0])
  tags, num_nodes, sources, targets, num_edges, labels = [], [], [], [], [], []
  duplicates = 0
  for _ in range(num_graphs):
    fields = next_fields()
    if len(fields) != 2:
      raise ValueError(f"{where}:{line_number}: expected `num_nodes label`, got {fields}.")
    n, label = int(fields[0]), int(fields[1])
    seen = set()
    edge_count = 0
    for i in range(n):
      fields = next_fields()
      m = int(fields[1])
      if len(fields) < 2 + m:
        raise ValueError(f"{where}:{line_number}: node lists {m} neighbours but has "
                         f"{len(fields) - 2} fields after them.")
      tags.append(int(fields[0]))
      for j in map(int, fields[2:2 + m]):
        if not 0 <= j < n:
          raise ValueError(f"{where}:{line_number}: neighbour {j} outside [0, {n}).")
        if (i, j) in seen:
          duplicates += 1
          continue
        seen.add((i, j))
        sources.append(i)
        targets.append(j)
        edge_count += 1
    num_nodes.append(n)
    num_edges.append(edge_count)
    labels.append(label)
  for line in lines:
    line_number += 1
    if line.strip():
      raise ValueError(f"{where}:{line_number}: text after the last of {num_graphs} graphs.")
  return {"tags": np.asarray(tags, np.int64), "num_nodes": num_nodes,
          "source": np.asarray(sources, np.int64), "target": np.asarray(targets, np.int64),
          "num_edges": num_edges, "labels": labels, "duplicates": duplicates}


def _read_indices(path: pathlib.Path, num_graphs: int) -> np.ndarray:
  """Reads one whitespace-separated list of 0-based graph indices."""
  indices = np.asarray([int(v) for v in path.read_text().split()], np.int64)
  if indices.size and (indices.min() < 0 or indices.max() >= num_graphs):
    raise ValueError(f"{path}: graph index outside [0, {num_graphs}).")
  return indices


def convert_tu(source: pathlib.Path, name: str) -> Arrays:
  """Converts `tu/STEM/STEM.txt` and its 10 folds to the package layout."""
  stem, feature_kind = TU[name]
  folder = source / "tu" / stem
  parsed = parse_tu_text((folder / f"{stem}.txt").read_text(), f"{stem}.txt")
  num_graphs = len(parsed["labels"])
  node_offsets = _offsets(parsed["num_nodes"])
  edge_offsets = _offsets(parsed["num_edges"])
  if feature_kind == "tag":
    node_values = parsed["tags"]
  else:  # Degree: each node's number of distinct listed neighbours.
    graph_of_edge = np.repeat(np.arange(num_graphs), parsed["num_edges"])
    global_source = parsed["source"] + node_offsets[graph_of_edge]
    node_values = np.bincount(global_source, minlength=int(node_offsets[-1]))
  vocabulary, feature_index = np.unique(node_values, return_inverse=True)
  label_values, labels = np.unique(np.asarray(parsed["labels"], np.int64), return_inverse=True)
  train_parts, test_parts = [], []
  for k in range(1, NUM_FOLDS + 1):
    train_parts.append(_read_indices(folder / "10fold_idx" / f"train_idx-{k}.txt", num_graphs))
    test_parts.append(_read_indices(folder / "10fold_idx" / f"test_idx-{k}.txt", num_graphs))
  arrays = _header(name, f"muhanzhang/pytorch_DGCNN data/{stem} (MIT; TU benchmark "
                   "collection), GIN/DGCNN text format and 10-fold splits")
  arrays.update({
      "node_offsets": compact(node_offsets),
      "edge_offsets": compact(edge_offsets),
      "edge_source": compact(parsed["source"]),
      "edge_target": compact(parsed["target"]),
      "node_feature_kind": np.str_(feature_kind),
      "node_feature_index": compact(feature_index.reshape(-1)),
      "node_feature_values": compact(vocabulary),
      "labels": compact(labels.reshape(-1)),
      "label_values": compact(label_values),
      "num_classes": np.int32(label_values.size),
      "fold_train_index": compact(np.concatenate(train_parts)),
      "fold_train_offsets": compact(_offsets([p.size for p in train_parts])),
      "fold_test_index": compact(np.concatenate(test_parts)),
      "fold_test_offsets": compact(_offsets([p.size for p in test_parts])),
  })
  if parsed["duplicates"]:
    print(f"  {name}: dropped {parsed['duplicates']} duplicate edges", file=sys.stderr)
  return arrays


# Digits point clouds --------------------------------------------------------------------------


def convert_digits() -> Arrays:
  """Converts scikit-learn's 8x8 digits to point clouds of their lit pixels.

  Each pixel with intensity > 0 becomes a point (column, row, intensity), stored as uint8
  and scaled at load time by (7, 7, 16) into [0, 1]. The split is stratified, seed 0:
  20% test, then 12.5% of the rest (10% of all) validation, the remaining 70% train.
  """
  from sklearn import datasets  # pylint: disable=g-import-not-at-top
  from sklearn import model_selection  # pylint: disable=g-import-not-at-top
  digits = datasets.load_digits()
  images = np.asarray(digits.images)
  if not np.array_equal(images, np.round(images)) or images.min() < 0 or images.max() > 16:
    raise ValueError("digits: expected integer intensities in [0, 16].")
  labels = np.asarray(digits.target, np.int64)
  points, sizes = [], []
  for image in images.astype(np.int64):
    rows, cols = np.nonzero(image > 0)  # Row-major order.
    points.append(np.stack([cols, rows, image[rows, cols]], axis=1))
    sizes.append(rows.size)
  index = np.arange(labels.size)
  rest, test = model_selection.train_test_split(
      index, test_size=0.2, stratify=labels, random_state=DIGITS_SPLIT_SEED)
  train, val = model_selection.train_test_split(
      rest, test_size=0.125, stratify=labels[rest], random_state=DIGITS_SPLIT_SEED)
  arrays = _header("digits_points", "scikit-learn load_digits (UCI optical digits, 8x8): "
                   "lit pixels as (x, y, intensity) points")
  arrays.update({
      "node_offsets": compact(_offsets(sizes)),
      "point_values": np.concatenate(points).astype(np.uint8),
      "feature_divisor": np.asarray([7, 7, 16], np.float32),
      "labels": compact(labels),
      "num_classes": np.int32(10),
      "train_index": compact(np.sort(train)),
      "val_index": compact(np.sort(val)),
      "test_index": compact(np.sort(test)),
      "split_seed": np.int32(DIGITS_SPLIT_SEED),
  })
  return arrays


# Writing --------------------------------------------------------------------------------------


def npz_bytes(arrays: Arrays) -> bytes:
  """Returns a compressed npz of `arrays` with sorted members and fixed timestamps."""
  buffer = io.BytesIO()
  with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
    for key in sorted(arrays):
      member = io.BytesIO()
      np.lib.format.write_array(member, np.asarray(arrays[key]), allow_pickle=False)
      info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_TIME)
      info.compress_type = zipfile.ZIP_DEFLATED
      info.external_attr = 0o644 << 16
      archive.writestr(info, member.getvalue(), compresslevel=9)
  return buffer.getvalue()


def write_atomically(path: pathlib.Path, content: bytes) -> None:
  """Writes `content` to a temporary file next to `path`, then renames it over `path`."""
  handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
  try:
    with os.fdopen(handle, "wb") as file:
      file.write(content)
      file.flush()
      os.fsync(file.fileno())
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
  except BaseException:
    if os.path.exists(temporary):
      os.unlink(temporary)
    raise


def convert(source: pathlib.Path, name: str) -> Arrays:
  """Returns the package arrays of dataset `name` (a canonical name) read from `source`."""
  if name in PLANETOID:
    return convert_planetoid(source, name)
  if name in TU:
    return convert_tu(source, name)
  if name == "digits_points":
    return convert_digits()
  raise ValueError(f"no converter for {name!r}.")


def main(argv: list[str] | None = None) -> int:
  """Converts the requested datasets (default: all) and prints each file's size."""
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--source", type=pathlib.Path, required=True,
                      help="folder with planetoid/ and tu/ (e.g. /work/shared/datasets)")
  parser.add_argument("--out", type=pathlib.Path, default=registry.FILES_DIR,
                      help="output folder (default: the package's edgegnn/data/files)")
  parser.add_argument("--only", nargs="*", default=None, metavar="NAME",
                      help="convert only these datasets (default: all)")
  args = parser.parse_args(argv)
  names = ([registry.canonical_name(n) for n in args.only] if args.only
           else registry.available_datasets())
  args.out.mkdir(parents=True, exist_ok=True)
  for name in names:
    path = args.out / f"{name}.npz"
    write_atomically(path, npz_bytes(convert(args.source, name)))
    print(f"{path}: {path.stat().st_size / 1024:.1f} KiB")
  return 0


if __name__ == "__main__":
  sys.exit(main())
