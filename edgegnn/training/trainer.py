"""Teacher training: early stopping on validation, seeds, checkpoints and resume, metrics.

    result = train(spec, dataset, TrainConfig(epochs=200), seed=0, checkpoint_dir="ckpt")

A run killed mid-way and started again with the same `checkpoint_dir` resumes from its
last checkpoint (model, optimizer, early-stopping state and history).
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import time
import zipfile
from typing import Any, Callable, Optional

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf
import tqdm

from edgegnn.atomic import atomic_write_text
from edgegnn.models import ModelSpec, build_model, feeds
from edgegnn.training.batch_norm import reestimate_batch_norm
from edgegnn.training.config import TrainConfig
from edgegnn.training.tasks import GraphTask, NodeTask, make_task

LossFn = Callable[[tf.Tensor, tf.Tensor], tf.Tensor]


def cross_entropy(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
  return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))


@dataclasses.dataclass
class TrainResult:
  """A trained model (training layout) with its metrics and per-epoch history."""
  model: tf.keras.Model
  metrics: dict[str, Any]
  history: list[dict[str, float]]


def _decayed_kernels(model: tf.keras.Model) -> list[tf.Variable]:
  return [v for v in model.trainable_variables
          if "kernel" in v.name or "vector" in v.name]


class _Checkpoints:
  """Model + optimizer checkpoints plus a JSON state file, written atomically."""

  def __init__(self, directory: Optional[str], model, optimizer):
    self.directory = pathlib.Path(directory) if directory else None
    if self.directory is None:
      return
    self.directory.mkdir(parents=True, exist_ok=True)
    self.checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer)
    self.manager = tf.train.CheckpointManager(self.checkpoint, str(self.directory / "tf"),
                                              max_to_keep=1)
    self.state_path = self.directory / "state.json"
    self.best_path = self.directory / "best_weights.npz"

  def restore(self) -> Optional[dict[str, Any]]:
    if self.directory is None or not self.state_path.exists() or not self.manager.latest_checkpoint:
      return None
    # A checkpoint truncated or edited by hand must not resume into half-loaded weights.
    try:
      state = json.loads(self.state_path.read_text())
      if not isinstance(state, dict):
        raise ValueError("state.json is not an object")
      self.checkpoint.restore(self.manager.latest_checkpoint).expect_partial()
      if self.best_path.exists():
        with np.load(self.best_path, allow_pickle=False) as f:
          state["best_weights"] = [f[f"w{i}"] for i in range(len(f.files))]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile,
            tf.errors.OpError) as e:
      raise ValueError(f"the training checkpoint in {self.directory} is unreadable "
                       f"({type(e).__name__}: {' '.join(str(e).split())[:200]}); delete "
                       "that directory to train this run from scratch.") from None
    return state

  def save(self, state: dict[str, Any], best_weights: Optional[list[np.ndarray]]) -> None:
    if self.directory is None:
      return
    self.manager.save()
    if best_weights is not None:
      tmp = self.best_path.with_suffix(".tmp.npz")
      np.savez(tmp, **{f"w{i}": w for i, w in enumerate(best_weights)})
      os.replace(tmp, self.best_path)
    atomic_write_text(self.state_path, json.dumps(state))


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
  return float(np.mean(np.argmax(logits, -1) == labels)) if len(labels) else float("nan")


def predict(model: tf.keras.Model, task, index: Optional[np.ndarray] = None,
            batch_size: int = 256) -> np.ndarray:
  """Logits of `model` for the task's nodes (all nodes) or for the graphs in `index`."""
  names = feeds.model_input_names(model)
  if isinstance(task, NodeTask):
    feed = feeds.select(task.full_feed(), names)
    return model(feed, training=False)["logits"].numpy()
  outputs = [model(feeds.select(feed, names), training=False)["logits"].numpy()
             for feed, _ in task.batches(index, batch_size)]
  return np.concatenate(outputs)


def _evaluate(model, task, split: str, predictor, batch_size: int) -> tuple[float, float]:
  """Accuracy and loss on a split; `predictor` gives all node logits (node task) or the
  logits of one merged-graph feed of `batch_size` graphs (graph task: the training batch
  size, since a layer's cost can grow faster than linearly in the merged batch, e.g.
  EdgeConv's k-NN distance matrix)."""
  index = task.split(split)
  if index is None or len(index) == 0:
    return float("nan"), float("nan")
  labels = task.labels[index]
  if isinstance(task, NodeTask):
    logits = predictor()[index]
  else:
    logits = np.concatenate([predictor(feed) for feed, _ in task.batches(index, batch_size)])
  loss = float(cross_entropy(tf.constant(logits), tf.constant(labels, tf.int32)))
  return accuracy(logits, labels), loss


def train(spec: ModelSpec, dataset, config: TrainConfig, *, seed: int = 0, fold: int = 0,
          checkpoint_dir: Optional[str] = None, loss_fn: LossFn = cross_entropy,
          progress: bool = True, description: str = "train",
          model: Optional[tf.keras.Model] = None) -> TrainResult:
  """Trains `spec` (or the given `model`) on `dataset` and returns the best model.

  Node tasks (Cora, CiteSeer): full-graph steps on the labelled training nodes, early
  stopping on validation accuracy (ties broken by validation loss), best weights kept.
  Graph tasks: batches of merged graphs for fold `fold`; with a validation split early
  stopping as above, without one (TU folds) all epochs run and the last weights are kept.
  """
  tf.keras.utils.set_random_seed(seed)
  task = make_task(dataset, fold)
  if model is None:
    model = build_model(spec, num_features=dataset.num_features,
                        num_classes=dataset.num_classes, task=task.kind, layout="sparse",
                        batched=task.kind == "graph")
  names = feeds.model_input_names(model)
  learning_rate = tf.Variable(config.learning_rate, trainable=False, dtype=tf.float32)
  optimizer = tf.keras.optimizers.Adam(learning_rate=learning_rate)
  decayed = _decayed_kernels(model)

  def objective(logits, labels):
    loss = loss_fn(logits, labels)
    if spec.weight_decay:
      loss += spec.weight_decay * tf.add_n([tf.nn.l2_loss(v) for v in decayed])
    return loss

  def apply(feed, labels, rows):
    with tf.GradientTape() as tape:
      logits = model(feed, training=True)["logits"]
      if rows is not None:
        logits = tf.gather(logits, rows)
      loss = objective(logits, labels)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss

  if isinstance(task, NodeTask):
    full = {k: tf.constant(v) for k, v in feeds.select(task.full_feed(), names).items()}
    train_rows = tf.constant(task.split("train"), tf.int32)
    train_labels = tf.constant(task.labels[task.split("train")], tf.int32)
    node_step = tf.function(lambda: apply(full, train_labels, train_rows))
    node_predict = tf.function(lambda: model(full, training=False)["logits"])
    run_epoch = lambda epoch: float(node_step())
    predictor = lambda: node_predict().numpy()
  else:
    # One trace per run: every merged batch has its own node and edge count.
    inputs = model.input if isinstance(model.input, dict) else dict(zip(names, model.inputs))
    feed_signature = {name: tf.TensorSpec(inputs[name].shape, inputs[name].dtype)
                      for name in names}

    @tf.function(input_signature=[feed_signature, tf.TensorSpec([None], tf.int32)])
    def graph_step(feed, labels):
      return apply(feed, labels, None)

    @tf.function(input_signature=[feed_signature])
    def graph_predict(feed):
      return model(feed, training=False)["logits"]

    def run_epoch(epoch):
      rng = np.random.default_rng([seed, epoch])
      losses = [float(graph_step(feeds.select(feed, names), labels))
                for feed, labels in task.batches(task.split("train"), config.batch_size, rng)]
      return float(np.mean(losses))
    predictor = lambda feed: graph_predict(feeds.select(feed, names)).numpy()

  has_val = task.split("val") is not None and len(task.split("val")) > 0
  checkpoints = _Checkpoints(checkpoint_dir, model, optimizer)
  state = checkpoints.restore() or {"epoch": -1, "best": None, "best_epoch": -1, "wait": 0,
                                     "history": [], "seconds": 0.0, "finished": False}
  best_weights = state.pop("best_weights", None)
  start = time.perf_counter() - state["seconds"]
  first = config.epochs if state.get("finished") else state["epoch"] + 1
  bar = tqdm.tqdm(range(first, config.epochs), desc=description, leave=False,
                  disable=None if progress else True, initial=state["epoch"] + 1, total=config.epochs)
  for epoch in bar:
    if config.lr_decay_every:
      learning_rate.assign(config.learning_rate * 0.5 ** (epoch // config.lr_decay_every))
    train_loss = run_epoch(epoch)
    record = {"epoch": epoch, "train_loss": train_loss}
    if has_val:
      val_acc, val_loss = _evaluate(model, task, "val", predictor, config.batch_size)
      record.update(val_accuracy=val_acc, val_loss=val_loss)
      score = [val_acc, -val_loss]
      if state["best"] is None or score > state["best"]:
        state.update(best=score, best_epoch=epoch, wait=0)
        best_weights = model.get_weights()
      else:
        state["wait"] += 1
      bar.set_postfix(loss=f"{train_loss:.3f}", val_acc=f"{val_acc:.3f}")
    else:
      bar.set_postfix(loss=f"{train_loss:.3f}")
    if config.record_test_accuracy:
      record["test_accuracy"] = _evaluate(model, task, "test", predictor, config.batch_size)[0]
    state["history"].append(record)
    state["epoch"] = epoch
    state["seconds"] = time.perf_counter() - start
    stop = has_val and config.patience and state["wait"] >= config.patience
    state["finished"] = bool(stop or epoch == config.epochs - 1)
    if (epoch + 1) % config.checkpoint_every == 0 or state["finished"]:
      checkpoints.save(state, best_weights)
    if stop:
      break
  bar.close()
  if has_val and best_weights is not None:
    model.set_weights(best_weights)
  metrics = {"seed": seed, "fold": fold, "epochs_run": state["epoch"] + 1,
             "best_epoch": state["best_epoch"] if has_val else state["epoch"]}
  if config.reestimate_batch_norm:
    if isinstance(task, NodeTask):
      statistics_feeds = [full]
    else:
      statistics_feeds = (feeds.select(feed, names) for feed, _ in
                          task.batches(task.split("train"), config.batch_size))
    metrics["batch_norm_reestimated"] = reestimate_batch_norm(model, statistics_feeds)
  metrics["seconds"] = round(time.perf_counter() - start, 2)
  for split in ("train", "val", "test"):
    metrics[f"{split}_accuracy"] = _evaluate(model, task, split, predictor, config.batch_size)[0]
  if checkpoint_dir:
    atomic_write_text(pathlib.Path(checkpoint_dir) / "metrics.json",
                      json.dumps({"metrics": metrics, "history": state["history"]}, indent=1))
  return TrainResult(model=model, metrics=metrics, history=state["history"])
