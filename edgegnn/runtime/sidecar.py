"""The JSON sidecar written next to every exported artifact: `NAME.tflite.json`.

A mobile or embedded app needs more than the `.tflite` bytes to call a model: the
signature's input names, shapes and dtypes, how to quantize a float input for an int8
tensor, what the output means, and how a graph must be laid out (sparse edge lists,
a dense padded adjacency of `capacity` nodes, or `max_neighbors` in-neighbour slots).
The sidecar carries exactly that. Input/output facts are read from the flatbuffer
(`tflite_file`); layout, capacity and labels come from the export stage.

Schema (`"schema": "edgegnn.sidecar/1"`):

    artifact, bytes, format, runtimes, signature,
    inputs / outputs: [{name, shape, shape_signature, dtype, quantization}]
      (quantization: {scale: [...], zero_point: [...], quantized_dimension} or null;
       shape_signature has -1 for a dimension the caller sizes, e.g. the edge count),
    task, dataset, num_classes, label_names, layout, capacity, max_neighbors, features,
    dataset_source (what reloads the dataset: a bundled name, or your own graph's source
      mapping as `edgegnn.data.sources.resolve` stores it; absent when unknown).

Imports numpy and `tflite_file` only.
"""
from __future__ import annotations

import json
import os
import pathlib
from typing import Optional, Sequence, Union

from edgegnn.atomic import atomic_write_text
from . import tflite_file
from .tflite_file import IOTensor, TfliteModelInfo

SCHEMA = "edgegnn.sidecar/1"
SUFFIX = ".json"


def sidecar_path(artifact: Union[str, os.PathLike]) -> pathlib.Path:
  """`model.tflite` -> `model.tflite.json`."""
  artifact = pathlib.Path(artifact)
  return artifact.with_name(artifact.name + SUFFIX)


def _io(io: IOTensor) -> dict:
  q = io.quantization
  return {"name": io.name, "shape": list(io.shape),
          "shape_signature": list(io.tensor.shape_signature), "dtype": io.dtype,
          "quantization": None if q is None else {
              "scale": [float(s) for s in q.scale],
              "zero_point": [int(z) for z in q.zero_point],
              "quantized_dimension": int(q.quantized_dimension)}}


def describe(model: Union[str, os.PathLike, bytes, TfliteModelInfo], *, fmt: Optional[str] = None,
             task: Optional[str] = None, dataset: Optional[str] = None,
             num_classes: Optional[int] = None, label_names: Optional[Sequence[str]] = None,
             layout: Optional[str] = None, capacity: Optional[int] = None,
             max_neighbors: Optional[int] = None, features: str = "dense",
             dataset_source: Optional[Union[str, dict]] = None) -> dict:
  """The sidecar dict of an artifact.

  Args:
    model: The artifact (path, bytes or parsed info).
    fmt: The export format ("tflite-int8", ...).
    task: "node" (one logits row per node) or "graph" (one row per graph).
    dataset: The dataset name.
    num_classes: Number of output classes.
    label_names: One name per class, in logit order; default "0".."K-1" (class indices,
      when the dataset ships no names).
    layout / capacity / max_neighbors: How graphs must be fed (see `edgegnn.models.feeds`).
    features: How node features are fed: dense, sparse or binary (their non-zeros, see
      `edgegnn.layers.sparse_features`).
    dataset_source: What reloads the dataset (`edgegnn.data.sources.origin`); tools that
      need the graph again (`edgegnn bench`, `edgegnn deploy pi`) read it.

  Raises:
    ValueError: `label_names` does not have `num_classes` entries.
  """
  info = model if isinstance(model, TfliteModelInfo) else tflite_file.read_model(model)
  if label_names is None and num_classes is not None:
    label_names = [str(k) for k in range(num_classes)]
  if label_names is not None and num_classes is not None and len(label_names) != num_classes:
    raise ValueError(f"label_names has {len(label_names)} entries for {num_classes} classes.")
  return {
      "schema": SCHEMA,
      "artifact": pathlib.Path(info.path).name if info.path else None,
      "bytes": info.file_bytes, "format": fmt,
      "runtimes": list(info.runtimes.runnable_by),
      "signature": info.signature_key,
      "inputs": [_io(io) for io in info.inputs],
      "outputs": [_io(io) for io in info.outputs],
      "task": task, "dataset": dataset, "num_classes": num_classes,
      "label_names": list(label_names) if label_names is not None else None,
      "layout": layout, "capacity": capacity, "max_neighbors": max_neighbors,
      "features": features,
      **({"dataset_source": dataset_source} if dataset_source is not None else {}),
  }


def write_sidecar(artifact: Union[str, os.PathLike], **stage_info) -> pathlib.Path:
  """Writes `ARTIFACT.json` atomically next to the artifact; returns its path.

  Args:
    artifact: The `.tflite` path.
    **stage_info: `describe`'s keyword arguments.
  """
  path = sidecar_path(artifact)
  atomic_write_text(path, json.dumps(describe(artifact, **stage_info), indent=1) + "\n")
  return path


def read_sidecar(artifact: Union[str, os.PathLike]) -> dict:
  """Reads the sidecar of an artifact; raises FileNotFoundError naming the missing file."""
  path = sidecar_path(artifact)
  if not path.is_file():
    raise FileNotFoundError(f"{path}: no sidecar next to {artifact}; re-export the artifact "
                            "with `edgegnn run` or `edgegnn convert`.")
  data = json.loads(path.read_text())
  if data.get("schema") != SCHEMA:
    raise ValueError(f"{path}: schema {data.get('schema')!r}, expected {SCHEMA!r}.")
  return data
