"""Teacher training: early stopping on validation, seeds, checkpoints and resume, metrics.

    result = train(spec, dataset, TrainConfig(epochs=200), seed=0, checkpoint_dir="ckpt")

A run killed mid-way and started again with the same `checkpoint_dir` resumes from its
last checkpoint (model, optimizer, early-stopping state and history). The loop is
`edgegnn.engine.fit`; this module supplies the task's batches and the loss.
"""
from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Any, Callable, Optional

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn import engine
from edgegnn.atomic import atomic_write_text
from edgegnn.engine import accuracy, cross_entropy, predict  # noqa: F401  (re-exported)
from edgegnn.engine.batch_norm import reestimate_batch_norm, statistics_feeds
from edgegnn.models import ModelSpec, build_model
from edgegnn.training.config import TrainConfig
from edgegnn.training.tasks import NodeTask, make_task

LossFn = Callable[[tf.Tensor, tf.Tensor], tf.Tensor]


@dataclasses.dataclass
class TrainResult:
  """A trained model (training layout) with its metrics and per-epoch history."""
  model: tf.keras.Model
  metrics: dict[str, Any]
  history: list[dict[str, float]]


def task_batches(task, batch_size: int, seed: int) -> engine.batches.Batches:
  """A task's training batches: the whole graph (node task) or merged graphs reshuffled
  every epoch (graph task)."""
  if isinstance(task, NodeTask):
    return [engine.node_batch(task)]
  return engine.graph_batches(task, batch_size, seed)


def has_validation(task) -> bool:
  index = task.split("val")
  return index is not None and len(index) > 0


def train(spec: ModelSpec, dataset, config: TrainConfig, *, seed: int = 0, fold: int = 0,
          checkpoint_dir: Optional[str] = None, loss_fn: LossFn = cross_entropy,
          progress: bool = True, description: str = "train",
          model: Optional[tf.keras.Model] = None) -> TrainResult:
  """Trains `spec` (or the given `model`) on `dataset` and returns the best model.

  Node tasks (Cora, CiteSeer): full-graph steps on the labelled training nodes, early
  stopping on validation accuracy (ties broken by validation loss), best weights kept.
  Graph tasks: batches of merged graphs for fold `fold`; with a validation split early
  stopping as above, without one (TU folds) all epochs run and the last weights are kept.
  Weight decay `spec.weight_decay` applies to `engine.decayed_variables(model)`.
  """
  tf.keras.utils.set_random_seed(seed)
  task = make_task(dataset, fold)
  if model is None:
    model = build_model(spec, num_features=dataset.num_features,
                        num_classes=dataset.num_classes, task=task.kind, layout="sparse",
                        batched=task.kind == "graph")

  evaluate = lambda split: engine.evaluate(model, task, split, config.batch_size)
  early_stopping = (engine.EarlyStopping(lambda: evaluate("val"), config.patience)
                    if has_validation(task) else None)
  callbacks = []
  if config.record_test_accuracy:
    callbacks.append(lambda epoch, record: record.update(test_accuracy=evaluate("test")[0]))
  learning_rate = (engine.halving(config.learning_rate, config.lr_decay_every)
                   if config.lr_decay_every else config.learning_rate)
  # Graph tasks: one compiled step for merged batches of every size.
  step = engine.TrainStep(model, engine.logits_loss(loss_fn),
                          tf.keras.optimizers.Adam(learning_rate=config.learning_rate),
                          weight_decay=spec.weight_decay, input_signature=task.kind == "graph")
  fitted = engine.fit(model, None, task_batches(task, config.batch_size, seed),
                      epochs=config.epochs, learning_rate=learning_rate, step=step,
                      early_stopping=early_stopping,
                      checkpoint_dir=checkpoint_dir, checkpoint_every=config.checkpoint_every,
                      callbacks=callbacks, progress=progress, description=description)
  metrics = {"seed": seed, "fold": fold, "epochs_run": fitted.epochs_run,
             "best_epoch": fitted.best_epoch}
  if config.reestimate_batch_norm:
    metrics["batch_norm_reestimated"] = reestimate_batch_norm(
        model, statistics_feeds(model, task, config.batch_size))
  metrics["seconds"] = round(fitted.seconds, 2)
  for split in ("train", "val", "test"):
    metrics[f"{split}_accuracy"] = evaluate(split)[0]
  if checkpoint_dir:
    atomic_write_text(pathlib.Path(checkpoint_dir) / "metrics.json",
                      json.dumps({"metrics": metrics, "history": fitted.history}, indent=1))
  return TrainResult(model=model, metrics=metrics, history=fitted.history)
