"""The inputs `edgegnn bench` times an artifact on: real ones, or a refusal.

An artifact with a dynamic dimension (shape signature -1: a sparse artifact's node and
edge counts) has a placeholder shape of 1 there, so random inputs of that shape time a
1-node graph. `resolve_inputs` therefore takes, in this order:

1. `inputs_dir`: a directory of `NAME.npy`, one per signature input (extra files ignored);
2. `input_shapes`: NAME -> shape for every input with a dynamic dimension (others may be
   given too); random values of those shapes (`synthesize_inputs`), index inputs
   valid for the node count of `node_features`;
3. the artifact's stored sample inputs, `ARTIFACT.tflite.inputs/NAME.npy`
   (`write_sample_inputs`);
4. the artifact's sidecar (`ARTIFACT.tflite.json`): its dataset's graph (the sidecar's
   `dataset_source` for your own graph, else the run's report.json, else the bundled
   dataset of that name) in its layout, capacity and max_neighbors (node task: the whole
   graph; graph task: the first test graph of fold 0), built with `edgegnn.models.feeds`
   as the pipeline feeds it;
5. an artifact whose inputs are all static: random values of those shapes;

and otherwise raises ValueError naming the dynamic inputs and the ways to give them.

Imports numpy only; item 4 loads the dataset with `edgegnn.data` and builds the feed with
`edgegnn.models.feeds` (numpy too; stored sample inputs need neither).
"""
from __future__ import annotations

import json
import os
import pathlib
from typing import Mapping, Optional, Sequence

import numpy as np

from . import sidecar as sidecar_lib, tflite_file
from .tflite_file import IOTensor, TfliteModelInfo

SAMPLE_SUFFIX = ".inputs"
HOW = ("give real inputs: --inputs DIR (one NAME.npy per input), --input-shape NAME=d0,d1 "
       "(repeat for each dynamic input; random values), or sample inputs next to the "
       "artifact (ARTIFACT.tflite.inputs/NAME.npy, or its sidecar ARTIFACT.tflite.json "
       "naming the dataset)")


def sample_inputs_dir(artifact: str | os.PathLike) -> pathlib.Path:
  """`model.tflite` -> `model.tflite.inputs/` (one NAME.npy per input)."""
  artifact = pathlib.Path(artifact)
  return artifact.with_name(artifact.name + SAMPLE_SUFFIX)


def write_sample_inputs(artifact: str | os.PathLike,
                        inputs: Mapping[str, np.ndarray]) -> pathlib.Path:
  """Stores real inputs next to the artifact (`sample_inputs_dir`), replacing old ones."""
  folder = sample_inputs_dir(artifact)
  folder.mkdir(parents=True, exist_ok=True)
  for old in folder.glob("*.npy"):
    old.unlink()
  for name, value in inputs.items():
    if not name or "/" in name or name.startswith("."):
      raise ValueError(f"input name {name!r} cannot be a file name.")
    np.save(folder / f"{name}.npy", np.asarray(value))
  return folder


def _dynamic(io: IOTensor) -> bool:
  return any(d < 0 for d in io.tensor.shape_signature)


def _signature(io: IOTensor) -> str:
  dims = io.tensor.shape_signature or io.shape
  return f"{io.name}[{','.join('?' if d < 0 else str(d) for d in dims)}]"


def read_inputs_dir(folder: str | os.PathLike, info: TfliteModelInfo) -> dict[str, np.ndarray]:
  """NAME.npy for every input of the artifact.

  Raises:
    FileNotFoundError: the directory or an input's file is missing (all missing named).
  """
  folder = pathlib.Path(folder)
  if not folder.is_dir():
    raise FileNotFoundError(f"{folder}: no such inputs directory.")
  missing = [io.name for io in info.inputs if not (folder / f"{io.name}.npy").is_file()]
  if missing:
    raise FileNotFoundError(
        f"{folder}: no {', '.join(m + '.npy' for m in missing)}; the artifact takes "
        f"{[_signature(io) for io in info.inputs]}, one NAME.npy each.")
  return {io.name: np.load(folder / f"{io.name}.npy", allow_pickle=False)
          for io in info.inputs}


def parse_input_shape(text: str) -> tuple[str, tuple[int, ...]]:
  """"node_features=2708,1433" -> ("node_features", (2708, 1433)); "x=" is a scalar."""
  name, sep, dims = text.partition("=")
  try:
    shape = tuple(int(d) for d in dims.split(",") if d.strip()) if sep else None
  except ValueError:
    shape = None
  if not name or shape is None or any(d < 0 for d in shape):
    raise ValueError(f"--input-shape {text!r}: expected NAME=d0,d1,... with sizes >= 0, "
                     "e.g. node_features=2708,1433.")
  return name.strip(), shape


def check_input_shapes(info: TfliteModelInfo,
                       shapes: Mapping[str, Sequence[int]]) -> dict[str, tuple[int, ...]]:
  """Validates NAME -> shape against the signature: known names, rank, static sizes, and
  a shape for every input with a dynamic dimension.

  Raises:
    ValueError: naming the offending inputs and the expected signatures.
  """
  by_name = {io.name: io for io in info.inputs}
  unknown = sorted(set(shapes) - set(by_name))
  if unknown:
    raise ValueError(f"--input-shape for unknown input(s) {unknown}; the artifact takes "
                     f"{[_signature(io) for io in info.inputs]}.")
  out = {}
  for name, shape in shapes.items():
    io, shape = by_name[name], tuple(int(d) for d in shape)
    signature = io.tensor.shape_signature or io.shape
    if len(shape) != len(signature) or any(s >= 0 and s != d
                                           for s, d in zip(signature, shape)):
      raise ValueError(f"--input-shape {name}={','.join(map(str, shape))} does not fit "
                       f"{_signature(io)} (only the ? sizes may be chosen).")
    out[name] = shape
  missing = [_signature(io) for io in info.inputs if _dynamic(io) and io.name not in out]
  if missing:
    raise ValueError(f"--input-shape is missing for the dynamic input(s) {missing}; "
                     "give NAME=d0,d1 for each.")
  return out


def sidecar_inputs(artifact: str | os.PathLike, info: TfliteModelInfo
                   ) -> tuple[dict[str, np.ndarray], str]:
  """The inputs of the sidecar's dataset graph (module doc, item 4) and a description.

  Raises:
    FileNotFoundError / ValueError: no sidecar, no dataset in it, or a feed that does not
      fit the artifact (the reason named).
  """
  from edgegnn import data  # pylint: disable=g-import-not-at-top
  side = sidecar_lib.read_sidecar(artifact)
  name, layout = side.get("dataset"), side.get("layout") or "sparse"
  if not name:
    raise ValueError(f"{sidecar_lib.sidecar_path(artifact)} names no dataset.")
  dataset = data.load_source(side.get("dataset_source")
                             or data.sources.of_artifact(artifact, name))
  if dataset.task == "node":
    graph, which = dataset.graph, "the whole graph"
  else:
    index = int(dataset.split(0)[1][0])
    graph, which = dataset.graphs[index], f"graph {index} (first test graph of fold 0)"
  from edgegnn.models import feeds  # pylint: disable=g-import-not-at-top
  feed = feeds.graph_feed(graph, layout, side.get("capacity"),
                          max_neighbors=side.get("max_neighbors"))
  inputs = feeds.select(feed, [io.name for io in info.inputs])
  return ({k: np.asarray(v) for k, v in inputs.items()},
          f"sidecar: dataset {name}, {which}, layout {layout}")


def resolve_inputs(info: TfliteModelInfo, inputs_dir: Optional[str | os.PathLike] = None,
                   input_shapes: Optional[Mapping[str, Sequence[int]]] = None
                   ) -> tuple[dict[str, np.ndarray], str]:
  """(inputs, where they came from): see the module doc for the order.

  Raises:
    ValueError: both `inputs_dir` and `input_shapes`; bad shapes; or a dynamic input and
      nothing real to time it on (the message names the inputs and the three ways).
    FileNotFoundError: `inputs_dir` lacks an input.
  """
  if inputs_dir is not None and input_shapes:
    raise ValueError("give --inputs DIR or --input-shape, not both.")
  if inputs_dir is not None:
    return read_inputs_dir(inputs_dir, info), f"--inputs {inputs_dir}"
  if input_shapes:
    shapes = check_input_shapes(info, input_shapes)
    return (synthesize_inputs(info, shapes=shapes),
            "random values of the --input-shape shapes")
  reason = None
  if info.path:
    stored = sample_inputs_dir(info.path)
    if stored.is_dir():
      return read_inputs_dir(stored, info), f"sample inputs {stored}"
    if sidecar_lib.sidecar_path(info.path).is_file():
      try:
        return sidecar_inputs(info.path, info)
      except (ValueError, KeyError, OSError, json.JSONDecodeError) as e:
        reason = f"{type(e).__name__}: {e}"
  dynamic = [_signature(io) for io in info.inputs if _dynamic(io)]
  if not dynamic:
    return synthesize_inputs(info), "random values of the artifact's static shapes"
  where = info.path or "the artifact"
  raise ValueError(
      f"{where}: input(s) {dynamic} have dynamic sizes (?) and no real inputs were found, "
      f"so bench would time the placeholder size 1 (a 1-node graph); {HOW}."
      + (f" The sidecar could not be used: {reason}" if reason else ""))


def _node_count(info: TfliteModelInfo, shapes: Mapping[str, tuple[int, ...]]) -> int:
  """Number of node slots: from `node_features` ([N, F] or [1, N, F]), else a guess.
  `shapes`: each input's shape as it will be fed."""
  for io in info.inputs:
    if "node" in io.name and "feature" in io.name and len(shapes[io.name]) >= 2:
      return max(1, shapes[io.name][-2])
  for io in info.inputs:
    if io.name in ("adjacency", "node_mask", "in_degree") and shapes[io.name]:
      return max(1, shapes[io.name][-1])
  for io in info.inputs:
    if io.dtype.startswith("float") and len(shapes[io.name]) >= 2:
      return max(1, shapes[io.name][-2])
  return 1


def _real_range(io: IOTensor) -> tuple[float, float]:
  """The real values a quantized tensor can represent."""
  info = np.iinfo(np.dtype(io.dtype))
  scale, zero = io.tensor.scale, io.tensor.zero_point
  return (info.min - zero) * scale, (info.max - zero) * scale


def synthesize_inputs(model: TfliteModelInfo | str | os.PathLike | bytes,
                      seed: int = 0, shapes: Mapping[str, tuple[int, ...]] | None = None
                      ) -> dict[str, np.ndarray]:
  """Plausible random inputs for a graph model, keyed by signature input name.

  Float features are standard normal (clipped to a quantized input's range);
  int32/int64 index inputs are within the bounds `input_checks` enforces: node
  indices (`edge_source`, `edge_target`, `neighbors`, `row_node`, ...) below the node
  count N (rows of `node_features`, else the length of `in_degree` or `node_mask`),
  `feature_node` sorted, `feature_index` below the rows of the weight table its GATHER
  reads (else below F, else 0), `overflow_rows` below the rows of `neighbors`,
  `overflow_index` at most the rows of `overflow_rows`, `in_degree` the in-degrees of
  the synthesized `edge_target` when there is one; `adjacency` is a random sparse 0/1
  matrix with self-loops; masks (`*mask*`) are ones.

  Args:
    model: A parsed model, a path or bytes.
    seed: Random seed.
    shapes: Input name -> shape to use instead of the tensor's (static) shape, e.g.
      sizes for the dynamic (-1) dimensions (see `bench_inputs.check_input_shapes`).

  Returns:
    Input name -> array, in the input's shape; floats for quantized inputs.
  """
  info = model if isinstance(model, TfliteModelInfo) else tflite_file.read_model(model)
  rng = np.random.default_rng(seed)
  shapes = {io.name: tuple((shapes or {}).get(io.name, io.shape)) for io in info.inputs}
  num_nodes = _node_count(info, shapes)
  out = {}
  for io in info.inputs:
    shape = shapes[io.name]
    quantized = io.dtype in ("int8", "uint8", "int16") and io.quantization is not None
    real_dtype = np.float32 if quantized else np.dtype(io.dtype)
    name = io.name.lower()
    if "mask" in name:
      value = np.ones(shape, real_dtype)
    elif "adjacency" in name:
      n = shape[-1] if shape else 1
      density = min(1.0, 4.0 / max(n, 1))
      value = (rng.random(shape) < density).astype(real_dtype)
      if len(shape) >= 2 and shape[-1] == shape[-2]:
        value = np.maximum(value, np.eye(shape[-1], dtype=real_dtype))
    elif np.issubdtype(real_dtype, np.integer):
      high = _index_bound(info, io, shapes, num_nodes)
      value = rng.integers(0, high, size=shape).astype(real_dtype)
      if name == "feature_node":
        value = np.sort(value, axis=None).reshape(shape)
    elif real_dtype == np.bool_:
      value = np.ones(shape, np.bool_)
    else:
      value = rng.standard_normal(shape).astype(np.float32)
      if quantized:
        low, high = _real_range(io)
        value = np.clip(value, low, high)
      value = value.astype(real_dtype)
    out[io.name] = value
  degree = out.get("in_degree")
  target = out.get("edge_target")
  if degree is not None and target is not None and degree.ndim == 1 and target.ndim == 1:
    out["in_degree"] = np.bincount(target, minlength=degree.size)[: degree.size].astype(
        degree.dtype)
  return out


def _gather_rows(info: TfliteModelInfo, io: IOTensor) -> int | None:
  """Rows of the constant table a GATHER of the main subgraph reads with this input as
  its indices (a sparse-feature artifact's weight rows), or None."""
  subgraph = info.subgraphs[0]
  rows = []
  for op in subgraph.operators:
    if op.name == "GATHER" and len(op.inputs) > 1 and op.inputs[1] == io.tensor.index:
      params = subgraph.tensors[op.inputs[0]]
      if params.is_constant and params.shape:
        rows.append(params.shape[0])
  return min(rows) if rows else None


def _index_bound(info: TfliteModelInfo, io: IOTensor, shapes: Mapping[str, tuple[int, ...]],
                 num_nodes: int) -> int:
  """Exclusive upper bound for the random values of an integer input (see
  `synthesize_inputs`)."""
  if io.name == "feature_index":
    rows = _gather_rows(info, io)
    if rows is not None:
      return max(1, rows)
    features = shapes.get("node_features")
    return max(1, features[-1]) if features and len(features) >= 2 else 1
  if io.name == "overflow_rows" and shapes.get("neighbors"):
    return max(1, shapes["neighbors"][0])
  if io.name == "overflow_index" and shapes.get("overflow_rows"):
    return shapes["overflow_rows"][0] + 1
  return num_nodes
