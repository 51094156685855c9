"""Mini-batch training of node models on sampled subgraphs, through `edgegnn.engine.fit`.

    sampler = NeighbourSampler(dataset.graph, config.fanouts, seed=seed)
    model = build_model(spec, ..., layout="neighbors", max_neighbors=sampler.max_in_degree)
    result = train_sampled(model, dataset, sampler, config, epochs=50, learning_rate=0.01,
                           weight_decay=5e-4, patience=20)

Each epoch shuffles the training nodes into batches of `config.batch_size` seeds; each
batch is the seeds' sampled neighbourhood (`edgegnn.data.sampling`) with the loss on the
seed rows only. Validation (early stopping) and the final accuracies use layer-wise
full-graph inference (`edgegnn.scale.layerwise`), so they are the model's accuracy on
the whole graph, not on samples. Distillation passes the teacher's logits over all nodes
(`teacher_logits`, computed once layer-wise and cached in a file) and reads the seeds'
rows from `batch.targets["teacher_logits"]` in its loss.
"""
from __future__ import annotations

import io
import pathlib
from typing import Callable, Iterable, Optional

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn import engine
from edgegnn.atomic import atomic_write_bytes
from edgegnn.engine.steps import Loss
from edgegnn.data.sampling import NeighbourSampler, SamplingConfig, check_model_inputs
from edgegnn.models import feeds
from edgegnn.scale.layerwise import layerwise_accuracy, layerwise_logits


def sampled_layout(model: tf.keras.Model) -> str:
  """The layout a model takes sampled batches in (after `check_model_inputs`)."""
  names = feeds.model_input_names(model)
  check_model_inputs(names)
  return "neighbors" if "neighbors" in names else "sparse"


def sampled_batches(sampler: NeighbourSampler, labels: np.ndarray, seed_nodes: np.ndarray,
                    batch_size: int, model: tf.keras.Model,
                    targets: Optional[dict[str, np.ndarray]] = None
                    ) -> Callable[[int], Iterable[engine.Batch]]:
  """epoch -> the `engine.Batch`es of that epoch for `model`: inputs the sampled
  subgraph's feed (the model's inputs, in its layout), labels and rows the seeds',
  `targets` (per-node arrays over the full graph, e.g. teacher logits) cut to the seeds."""
  labels = np.asarray(labels)
  layout, names = sampled_layout(model), feeds.model_input_names(model)

  def batches(epoch: int) -> Iterable[engine.Batch]:
    for batch in sampler.epoch(seed_nodes, batch_size, epoch):
      seeds = batch.seed_ids
      yield engine.Batch(feeds.select(batch.feed(layout), names), labels[seeds].astype(np.int32),
                         np.arange(batch.num_seeds, dtype=np.int32),
                         {k: v[seeds] for k, v in (targets or {}).items()})
  return batches


def train_sampled(model: tf.keras.Model, dataset, sampler: NeighbourSampler,
                  config: SamplingConfig, *, epochs: int, learning_rate: float,
                  weight_decay: float = 0.0, patience: int = 0,
                  loss: Optional[Loss] = None,
                  targets: Optional[dict[str, np.ndarray]] = None,
                  checkpoint_dir: Optional[str] = None, checkpoint_every: int = 10,
                  callbacks=(), progress: bool = False) -> engine.FitResult:
  """Trains `model` on sampled mini-batches of `dataset`'s training nodes (module doc).

  Validation after every epoch is layer-wise over the whole graph in chunks of
  `config.inference_chunk` nodes, keeping the best weights; `patience` 0 never stops
  early. `callbacks` as in `engine.fit`.
  """
  spec_layers = sum(1 for layer in model.layers if layer.name.startswith("conv"))
  if spec_layers:
    config.check_model_depth(spec_layers)
  index = sampler.index

  def validate():
    return layerwise_accuracy(model, dataset, "val", config.inference_chunk, index=index)

  return engine.fit(model, loss or engine.cross_entropy_loss,
                    sampled_batches(sampler, dataset.labels, dataset.train_index,
                                    config.batch_size, model, targets),
                    epochs=epochs, learning_rate=learning_rate, weight_decay=weight_decay,
                    early_stopping=engine.EarlyStopping(validate, patience=patience),
                    checkpoint_dir=checkpoint_dir, checkpoint_every=checkpoint_every,
                    callbacks=callbacks, progress=progress, description="train (sampled)")


def train_sampled_model(spec, dataset, sampling: SamplingConfig, train, *, seed: int = 0,
                        quantization=None, checkpoint_dir: Optional[str] = None,
                        progress: bool = False, loss: Optional[Loss] = None,
                        targets: Optional[dict[str, np.ndarray]] = None):
  """What a pipeline stage with a `sampling:` option runs instead of
  `edgegnn.training.train`: builds `spec` (float, or fake-quantized with `quantization`)
  in the neighbors layout sized for the graph's largest in-degree, trains it on sampled
  batches with `train` (a `TrainConfig`: epochs, learning_rate, patience,
  checkpoint_every) and returns a `TrainResult` whose metrics hold layer-wise train / val
  / test accuracies over the whole graph."""
  from edgegnn.models import build_model  # pylint: disable=g-import-not-at-top
  from edgegnn.training.trainer import TrainResult  # pylint: disable=g-import-not-at-top
  if getattr(dataset, "task", None) != "node":
    raise ValueError("sampling: trains node-classification models; graph datasets are "
                     "already batched by graph (remove the sampling option).")
  tf.keras.utils.set_random_seed(seed)
  sampler = NeighbourSampler(dataset.graph, sampling.fanouts, seed=seed)
  model = build_model(spec, num_features=dataset.num_features,
                      num_classes=dataset.num_classes, layout="neighbors",
                      max_neighbors=max(sampler.max_in_degree, 1), quantization=quantization)
  fitted = train_sampled(model, dataset, sampler, sampling, epochs=train.epochs,
                         learning_rate=train.learning_rate, weight_decay=spec.weight_decay,
                         patience=train.patience, loss=loss, targets=targets,
                         checkpoint_dir=checkpoint_dir,
                         checkpoint_every=train.checkpoint_every, progress=progress)
  logits = layerwise_logits(model, dataset.graph, sampling.inference_chunk, sampler.index)
  metrics = {"seed": seed, "fold": 0, "epochs_run": fitted.epochs_run,
             "best_epoch": fitted.best_epoch, "seconds": round(fitted.seconds, 2),
             "sampling": sampling.to_dict()}
  for split in ("train", "val", "test"):
    metrics[f"{split}_accuracy"] = layerwise_accuracy(model, dataset, split,
                                                      logits=logits)[0]
  return TrainResult(model=model, metrics=metrics, history=fitted.history)


def teacher_logits(teacher: tf.keras.Model, graph, chunk: int,
                   path: Optional[str] = None) -> np.ndarray:
  """The teacher's logits for every node, by layer-wise inference, computed once: with
  `path`, a file written on the first call (atomically) and read on the next ones (it
  must hold logits for this graph's node count)."""
  if path is not None and pathlib.Path(path).exists():
    with np.load(path, allow_pickle=False) as stored:
      logits = stored["logits"]
    if logits.shape[0] != graph.num_nodes:
      raise ValueError(f"{path} holds teacher logits for {logits.shape[0]} nodes, the graph "
                       f"has {graph.num_nodes}; delete the file to recompute it.")
    return logits
  logits = layerwise_logits(teacher, graph, chunk)
  if path is not None:
    buffer = io.BytesIO()
    np.savez(buffer, logits=logits)
    atomic_write_bytes(path, buffer.getvalue())
  return logits
