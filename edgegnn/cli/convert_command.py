"""`edgegnn convert`: a trained model directory, or a Keras model saved outside edgegnn, to a
verified .tflite artifact."""
from __future__ import annotations

import click

from edgegnn.cli.base import emit_json, fail as _fail, main


@main.command()
@click.argument("model", type=click.Path(exists=True))
@click.option("--dataset", default=None,
              help="The dataset to calibrate and verify on: a bundled name, a .npz file or a "
                   ".yaml/.json source file (docs/data.md). Default for a model directory: "
                   "the dataset it records; required for a .keras/.h5/SavedModel file.")
@click.option("--format", "fmt", default="tflite-float32", show_default=True,
              help="tflite-float32, tflite-float16, tflite-dynamic-int8, tflite-int8, "
                   "tflite-int8-float16, tflite-int16x8 or lce.")
@click.option("--layout", default="sparse", show_default=True,
              help="sparse, dense or neighbors (the full-int8 layout for large graphs).")
@click.option("--capacity", type=int, default=None,
              help="Node capacity of a dense artifact (default: the dataset's largest graph).")
@click.option("--max-neighbors", type=int, default=None,
              help="In-neighbour slots per node of a neighbors artifact (default: the "
                   "dataset's largest in-degree).")
@click.option("--target", default=None, help="mobile, arm-linux or mcu: fail if it cannot run.")
@click.option("--integer-io/--float-io", default=None,
              help="tflite-int8 only: int8 inputs/outputs (the app passes quantized "
                   "features; default: int8 for target mcu, float otherwise).")
@click.option("--features", default="dense", show_default=True,
              type=click.Choice(["dense", "sparse", "binary"]),
              help="How the artifact takes node features: dense rows, or their non-zeros "
                   "(sparse: feature_node/feature_index/feature_value; binary: no values). "
                   "Float formats, node-level gcn/sage/gat/mp/mlp.")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False),
              help="Destination .tflite file (written atomically).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the artifact's figures (bytes, ops, accuracy, agreement, latency) "
                   "as one JSON document.")
def convert(model, dataset, fmt, layout, capacity, max_neighbors, target, integer_io, features,
            output, as_json):
  """Convert MODEL to a .tflite artifact, verified on its interpreter.

  MODEL is a trained model directory (edgegnn train, a pipeline's models/), or a Keras
  model saved outside edgegnn (.keras, .h5 or a SavedModel directory) that follows the
  input contract: inputs named node_features, edge_source, edge_target (sparse layout;
  docs/data.md lists every layout's), output logits; it needs --dataset.

  The artifact runs over the dataset's test split (fold 0) and is kept only if its
  predictions agree with the Keras model's (floors: 0.99 float, 0.97 int8); its sidecar
  records the dataset source, so `edgegnn bench` finds real inputs for it."""
  from edgegnn import data
  from edgegnn.deploy.ship import Bench, contract_logits, ship
  from edgegnn.deploy.verify import AgreementError, floor_for
  from edgegnn.models import feeds, saving
  try:
    outside = saving.is_outside_model(model)
    if outside and dataset is None:
      raise ValueError(f"{model} is a Keras model saved outside edgegnn: pass --dataset (a "
                       "bundled name, a .npz file or a .yaml/.json source file) to calibrate "
                       "and verify it on.")
    meta = None if outside else saving.load_meta(model)
    if meta is not None:
      meta.check_export(layout, formats=[fmt])
      from edgegnn.quantization.config import check_integer_export
      check_integer_export(meta.quantization, [fmt], "convert")
    ds = (data.load_source(dataset) if dataset is not None
          else saving.load_dataset(model, meta))
    capacity, max_neighbors = feeds.layout_sizes(
        ds, layout, capacity if capacity is not None or meta is None else meta.bound_nodes,
        max_neighbors)
    feeds.check_feature_encoding("convert", features, layout, [fmt], target)
    if features == "binary":
      feeds.check_binary_features(ds)
    test_index = ds.test_index if ds.task == "node" else ds.split(0)[1]
    if outside:
      export = saving.load_outside(model, layout=layout, num_features=ds.num_features,
                                   num_classes=ds.num_classes)
      reference = contract_logits(export, ds, test_index, layout=layout, capacity=capacity,
                                  max_neighbors=max_neighbors)
    else:
      export, reference = _zoo_model(model, ds, test_index, layout, capacity, max_neighbors,
                                     features, fmt)
    names = feeds.model_input_names(export)
    graphs = [ds.graph] if ds.task == "node" else [ds.graphs[i] for i in ds.split(0)[0][:100]]
    rep = [feeds.select(feeds.graph_feed(g, layout, capacity, max_neighbors=max_neighbors),
                        names) for g in graphs]
    figures = ship(export, fmt, output, dataset=ds, reference_logits=reference,
                   test_index=test_index, layout=layout, capacity=capacity,
                   max_neighbors=max_neighbors, features=features, target=target,
                   representative_feeds=rep, integer_io=integer_io, floor=floor_for(fmt),
                   bench_settings=Bench(runs=None))
  except (ValueError, RuntimeError, FileNotFoundError, AgreementError) as e:
    _fail(e)
  except OSError as e:  # h5py / numpy on a truncated weights file name no file
    _fail(ValueError(f"{model}: cannot read the trained model ({e}); train it again."))
  if as_json:
    emit_json(figures)
    return
  click.echo(f"wrote {figures['artifact']}: {figures['bytes']} bytes, runtime "
             f"{figures['runtime']}, ops {figures['ops']}; test accuracy "
             f"{100 * figures['test_accuracy']:.2f} %, agreement {figures['agreement']:.3f}; "
             f"sidecar {figures['sidecar']}")


def _zoo_model(model_dir, ds, test_index, layout, capacity, max_neighbors, features, fmt):
  """(export build, Keras test logits) of a trained model directory."""
  from edgegnn.models.saving import load_trained, serving_build
  from edgegnn.training import make_task, predict
  trained, _ = load_trained(model_dir, batched=ds.task == "graph")
  export, _ = load_trained(model_dir, layout=layout, capacity=capacity,
                           max_neighbors=max_neighbors, features=features,
                           serving=serving_build([fmt]))
  task = make_task(ds, 0)
  reference = (predict(trained, task)[test_index] if ds.task == "node"
               else predict(trained, task, test_index))
  return export, reference
