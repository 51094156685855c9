"""The inputs `edgegnn bench` times an artifact on: real ones, or a refusal.

An artifact with a dynamic dimension (shape signature -1: a sparse artifact's node and
edge counts) has a placeholder shape of 1 there, so random inputs of that shape time a
1-node graph. `resolve_inputs` therefore takes, in this order:

1. `inputs_dir`: a directory of `NAME.npy`, one per signature input (extra files ignored);
2. `input_shapes`: NAME -> shape for every input with a dynamic dimension (others may be
   given too); random values of those shapes (`bench.synthesize_inputs`), index inputs
   valid for the node count of `node_features`;
3. the artifact's stored sample inputs, `ARTIFACT.tflite.inputs/NAME.npy`
   (`write_sample_inputs`);
4. the artifact's sidecar (`ARTIFACT.tflite.json`): its dataset's graph in its layout,
   capacity and max_neighbors (node task: the whole graph; graph task: the first test
   graph of fold 0), built with `edgegnn.models.feeds` as the pipeline feeds it;
5. an artifact whose inputs are all static: random values of those shapes;

and otherwise raises ValueError naming the dynamic inputs and the ways to give them.

Runtime side: numpy only, except item 4, which builds the feed with
`edgegnn.models.feeds` and so imports TensorFlow with its package (a host-side
convenience; stored sample inputs need neither the dataset nor TensorFlow).
"""
from __future__ import annotations

import json
import os
import pathlib
from typing import Mapping, Optional, Sequence

import numpy as np

from edgegnn.deploy import sidecar as sidecar_lib
from edgegnn.deploy.tflite_file import IOTensor, TfliteModelInfo

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
  dataset = data.load_source(data.sources.of_artifact(artifact, name))
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
  from edgegnn.deploy import bench  # pylint: disable=g-import-not-at-top
  if inputs_dir is not None and input_shapes:
    raise ValueError("give --inputs DIR or --input-shape, not both.")
  if inputs_dir is not None:
    return read_inputs_dir(inputs_dir, info), f"--inputs {inputs_dir}"
  if input_shapes:
    shapes = check_input_shapes(info, input_shapes)
    return (bench.synthesize_inputs(info, shapes=shapes),
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
    return bench.synthesize_inputs(info), "random values of the artifact's static shapes"
  where = info.path or "the artifact"
  raise ValueError(
      f"{where}: input(s) {dynamic} have dynamic sizes (?) and no real inputs were found, "
      f"so bench would time the placeholder size 1 (a 1-node graph); {HOW}."
      + (f" The sidecar could not be used: {reason}" if reason else ""))
