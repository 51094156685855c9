"""`edgegnn train`: one model on a bundled dataset or the user's own graph."""
from __future__ import annotations

import json

import click

from edgegnn.cli.base import fail as _fail, main


@main.command()
@click.option("--dataset", required=True,
              help="A bundled name (see `edgegnn datasets`), a .npz file, or a .yaml/.json "
                   "file holding a dataset source mapping (docs/data.md).")
@click.option("--architecture", default="gcn", show_default=True,
              help="gcn, gat, sage, gin, edgeconv, mlp or mp.")
@click.option("--hidden-units", default=16, show_default=True)
@click.option("--num-layers", default=2, show_default=True)
@click.option("--epochs", default=200, show_default=True)
@click.option("--learning-rate", default=0.01, show_default=True)
@click.option("--weight-decay", default=5e-4, show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--fold", default=0, show_default=True, help="Fold of a TU dataset (0-9).")
@click.option("--out", required=True, help="Directory for the trained model.")
def train(dataset, architecture, hidden_units, num_layers, epochs, learning_rate, weight_decay,
          seed, fold, out):
  """Train one model; writes OUT/model.json, OUT/weights.h5 and OUT/checkpoint/metrics.json."""
  from edgegnn.data import sources
  from edgegnn.models import ModelSpec
  from edgegnn.models.saving import ModelMeta, save_trained
  from edgegnn.training import TrainConfig, train as train_fn
  try:
    source = sources.resolve(dataset)
    ds, summary = sources.load_source_summary(source)
    if sources.is_source(source):
      click.echo(f"dataset {summary}")
    spec = ModelSpec(architecture=architecture, hidden_units=hidden_units,
                     num_layers=num_layers, weight_decay=weight_decay,
                     input_normalization="row" if ds.task == "node" else "none")
    result = train_fn(spec, ds, TrainConfig(epochs=epochs, learning_rate=learning_rate),
                      seed=seed, fold=fold, checkpoint_dir=f"{out}/checkpoint")
  except (ValueError, TypeError) as e:
    _fail(e)
  extra = {"dataset_source": source} if sources.is_source(source) else {}
  save_trained(out, result.model, ModelMeta(spec, ds.name, ds.task, ds.num_features,
                                            ds.num_classes, extra=extra))
  click.echo(json.dumps(result.metrics, indent=1))
