"""`edgegnn convert`: a trained model directory to a verified .tflite artifact."""
from __future__ import annotations

import click

from edgegnn.cli.base import emit_json, fail as _fail, main


@main.command()
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--format", "fmt", default="tflite-float32", show_default=True,
              help="tflite-float32, tflite-float16, tflite-dynamic-int8, tflite-int8 or lce.")
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
def convert(model_dir, fmt, layout, capacity, max_neighbors, target, integer_io, features,
            output, as_json):
  """Convert a trained model directory to a .tflite artifact, verified on its interpreter.

  The artifact runs over the dataset's test split (fold 0) and is kept only if its
  predictions agree with the Keras model's (floors: 0.99 float, 0.97 int8)."""
  from edgegnn import data
  from edgegnn.deploy.ship import Bench, ship
  from edgegnn.deploy.verify import AgreementError, floor_for
  from edgegnn.models import feeds
  from edgegnn.models.saving import load_meta, load_trained, serving_build
  from edgegnn.training import make_task, predict
  try:
    meta = load_meta(model_dir)
    meta.check_export(layout, formats=[fmt])
    from edgegnn.quantization.config import check_integer_export
    check_integer_export(meta.quantization, [fmt], "convert")
    ds = data.load_source(meta.extra.get("dataset_source") or meta.dataset)
    capacity, max_neighbors = feeds.layout_sizes(
        ds, layout, capacity if capacity is not None else meta.bound_nodes, max_neighbors)
    feeds.check_feature_encoding("convert", features, layout, [fmt], target)
    if features == "binary":
      feeds.check_binary_features(ds)
    trained, _ = load_trained(model_dir, batched=ds.task == "graph")
    model, _ = load_trained(model_dir, layout=layout, capacity=capacity,
                            max_neighbors=max_neighbors, features=features,
                            serving=serving_build([fmt]))
    task = make_task(ds, 0)
    test_index = task.split("test")
    graphs = [ds.graph] if ds.task == "node" else [ds.graphs[i] for i in ds.split(0)[0][:100]]
    reference = (predict(trained, task)[test_index] if ds.task == "node"
                 else predict(trained, task, test_index))
    names = feeds.model_input_names(model)
    rep = [feeds.select(feeds.graph_feed(g, layout, capacity, max_neighbors=max_neighbors),
                        names) for g in graphs]
    figures = ship(model, fmt, output, dataset=ds, reference_logits=reference,
                   test_index=test_index, layout=layout, capacity=capacity,
                   max_neighbors=max_neighbors, features=features, target=target,
                   representative_feeds=rep, integer_io=integer_io, floor=floor_for(fmt),
                   bench_settings=Bench(runs=None))
  except (ValueError, RuntimeError, FileNotFoundError, AgreementError) as e:
    _fail(e)
  except OSError as e:  # h5py / numpy on a truncated weights file name no file
    _fail(ValueError(f"{model_dir}: cannot read the trained model ({e}); train it again."))
  if as_json:
    emit_json(figures)
    return
  click.echo(f"wrote {figures['artifact']}: {figures['bytes']} bytes, runtime "
             f"{figures['runtime']}, ops {figures['ops']}; test accuracy "
             f"{100 * figures['test_accuracy']:.2f} %, agreement {figures['agreement']:.3f}; "
             f"sidecar {figures['sidecar']}")
