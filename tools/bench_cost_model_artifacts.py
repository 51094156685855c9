"""The artifacts `tools/bench_cost_model.py` checks the cost model on.

Tiny trained models (a few epochs: latency does not depend on accuracy) exported in many
formats and layouts with the library (`edgegnn.deploy.convert`), each with its real
inputs stored beside it (`ARTIFACT.tflite.inputs/`, what `edgegnn bench` and the cost
model read): node tasks the whole graph, MUTAG its largest graph. A variant the converter
refuses is listed in `skipped` with the reason, never silently dropped.
"""
from __future__ import annotations

import pathlib
from typing import Optional

import edgegnn  # noqa: F401  (Keras 2 before TensorFlow)
from edgegnn import data
from edgegnn.deploy.convert import convert
from edgegnn.models import feeds
from edgegnn.models.saving import ModelMeta, load_trained, save_trained, serving_build
from edgegnn.models.spec import ModelSpec
from edgegnn.runtime import bench_inputs, tflite_file
from edgegnn.training import TrainConfig, train

F32, F16, DYN8, INT8 = "tflite-float32", "tflite-float16", "tflite-dynamic-int8", "tflite-int8"

# (dataset, spec arguments, [(layout, features, format, integer_io), ...])
PLAN = [
    ("cora", {"architecture": "gcn", "input_normalization": "row"}, [
        ("sparse", "dense", F32, False), ("sparse", "dense", F16, False),
        ("sparse", "dense", DYN8, False), ("sparse", "binary", F32, False),
        ("sparse", "binary", F16, False), ("sparse", "binary", DYN8, False),
        ("sparse", "sparse", F32, False), ("neighbors", "dense", INT8, True),
        ("neighbors", "dense", INT8, False), ("neighbors", "dense", F32, False),
        ("neighbors", "dense", DYN8, False), ("dense", "dense", F32, False),
        ("dense", "dense", INT8, False)]),
    ("citeseer", {"architecture": "gcn", "input_normalization": "row"}, [
        ("sparse", "dense", F32, False), ("sparse", "binary", F32, False),
        ("neighbors", "dense", INT8, True)]),
    ("cora", {"architecture": "gat", "hidden_units": 8, "num_heads": 8}, [
        ("sparse", "dense", F32, False), ("sparse", "dense", DYN8, False),
        ("neighbors", "dense", INT8, False)]),
    ("cora", {"architecture": "sage", "hidden_units": 64}, [
        ("sparse", "dense", F32, False), ("sparse", "binary", F32, False),
        ("neighbors", "dense", INT8, False)]),
    ("cora", {"architecture": "mlp", "hidden_units": 256}, [
        ("sparse", "dense", F32, False), ("sparse", "dense", INT8, False)]),
    ("mutag", {"architecture": "gin", "hidden_units": 64, "num_layers": 5}, [
        ("dense", "dense", INT8, True), ("dense", "dense", F32, False),
        ("sparse", "dense", F32, False), ("neighbors", "dense", INT8, False)]),
]
BINARY_PLAN = [("cora", 128), ("cora", 32), ("citeseer", 128)]


def _graph(ds):
  if ds.task == "node":
    return ds.graph
  return max(ds.graphs, key=lambda g: g.num_nodes)


def _train(ds, spec_args: dict, epochs: int, directory: pathlib.Path) -> None:
  spec = ModelSpec(**spec_args)
  config = TrainConfig(epochs=epochs, patience=0 if ds.task == "graph" else epochs)
  result = train(spec, ds, config, seed=0, progress=False)
  save_trained(directory, result.model, ModelMeta(
      spec=spec, dataset=ds.name, task=ds.task, num_features=ds.num_features,
      num_classes=ds.num_classes))


def _export(directory: pathlib.Path, ds, layout: str, features: str, fmt: str,
            integer_io: bool, path: pathlib.Path) -> None:
  capacity, max_neighbors = feeds.layout_sizes(ds, layout)
  model, _ = load_trained(directory, layout=layout, capacity=capacity,
                          max_neighbors=max_neighbors, features=features,
                          serving=serving_build([fmt]))
  names = feeds.model_input_names(model)
  graphs = [ds.graph] if ds.task == "node" else list(ds.graphs[:100])
  rep = [feeds.select(feeds.graph_feed(g, layout, capacity, max_neighbors=max_neighbors),
                      names) for g in graphs]
  convert(model, fmt, path, representative_feeds=rep if fmt == INT8 else None,
          integer_io=integer_io if fmt == INT8 else None)
  feed = feeds.graph_feed(_graph(ds), layout, capacity, max_neighbors=max_neighbors)
  info = tflite_file.read_model(path)
  bench_inputs.write_sample_inputs(path, feeds.select(feed, [io.name for io in info.inputs]))


def _export_binary(ds, hidden: int, path: pathlib.Path) -> None:
  from edgegnn.binary.models import BinarySpec, build_binary_model  # pylint: disable=g-import-not-at-top
  graph = ds.graph
  model = build_binary_model(BinarySpec(architecture="gcn", hidden_units=hidden),
                             num_features=ds.num_features, num_classes=ds.num_classes,
                             layout="sparse", capacity=graph.num_nodes,
                             num_edges=graph.num_edges)
  convert(model, "lce", path)
  info = tflite_file.read_model(path)
  feed = feeds.graph_feed(graph, "sparse")
  bench_inputs.write_sample_inputs(path, feeds.select(feed, [io.name for io in info.inputs]))


def build_artifacts(out: pathlib.Path, epochs: int, limit: Optional[int] = None
                    ) -> tuple[list[dict], list[dict]]:
  """(artifacts, skipped): each artifact a dict with name, path, group (its trained
  model), dataset, architecture, layout, features, format, integer_io, bytes."""
  out.mkdir(parents=True, exist_ok=True)
  artifacts, skipped = [], []
  for dataset_name, spec_args, variants in PLAN:
    ds = data.load(dataset_name)
    group = f"{dataset_name}_{spec_args['architecture']}"
    directory = out / "models" / group
    if not (directory / "model.json").is_file():
      print(f"training {group} for {epochs} epochs", flush=True)
      _train(ds, spec_args, epochs, directory)
    for layout, features, fmt, integer_io in variants:
      name = (f"{group}_{layout}" + (f"_{features}features" if features != "dense" else "")
              + f"_{fmt.replace('tflite-', '')}" + ("_int8io" if integer_io else ""))
      path = out / f"{name}.tflite"
      row = {"name": name, "path": str(path), "group": group, "dataset": dataset_name,
             "architecture": spec_args["architecture"], "layout": layout,
             "features": features, "format": fmt, "integer_io": integer_io}
      try:
        if not path.is_file():
          _export(directory, ds, layout, features, fmt, integer_io, path)
      except Exception as e:  # the converter raises several unrelated types
        skipped.append(row | {"reason": f"{type(e).__name__}: {str(e)[:300]}"})
        print(f"skipped {name}: {type(e).__name__}: {str(e)[:200]}", flush=True)
        continue
      artifacts.append(row | {"bytes": path.stat().st_size})
      print(f"built {name} ({path.stat().st_size} bytes)", flush=True)
  for dataset_name, hidden in BINARY_PLAN:
    ds = data.load(dataset_name)
    name = f"{dataset_name}_binary_gcn{hidden}_sparse_lce"
    path = out / f"{name}.tflite"
    row = {"name": name, "path": str(path), "group": f"{dataset_name}_binary_gcn",
           "dataset": dataset_name, "architecture": "binary gcn", "layout": "sparse",
           "features": "dense", "format": "lce", "integer_io": False}
    try:
      if not path.is_file():
        _export_binary(ds, hidden, path)
    except Exception as e:  # the LCE converter raises several unrelated types
      skipped.append(row | {"reason": f"{type(e).__name__}: {str(e)[:300]}"})
      continue
    artifacts.append(row | {"bytes": path.stat().st_size})
    print(f"built {name} ({path.stat().st_size} bytes)", flush=True)
  return artifacts[:limit], skipped
