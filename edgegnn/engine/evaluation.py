"""`predict` and `evaluate`: a model's logits and its accuracy and loss on a task's split.

Node tasks run the whole graph once; graph tasks run merged batches of `batch_size`
graphs (a layer's cost can grow faster than linearly in the merged batch, e.g. EdgeConv's
k-NN distance matrix, so batches stay at training size). The forward pass is compiled
once per model.
"""
from __future__ import annotations

import weakref
from typing import Any, Optional

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.models import feeds

# Graphs per inference batch (the training batch size of the graph tasks).
PREDICT_BATCH = 32

_FORWARD: "weakref.WeakKeyDictionary[tf.keras.Model, Any]" = weakref.WeakKeyDictionary()


def cross_entropy(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
  """Mean softmax cross-entropy of `logits` [N, C] against int class ids `labels` [N]."""
  return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
  """Share of rows whose argmax is the label (NaN for no rows)."""
  return float(np.mean(np.argmax(logits, -1) == labels)) if len(labels) else float("nan")


def _forward(model: tf.keras.Model):
  if model not in _FORWARD:
    ref = weakref.ref(model)   # the cache must not keep the model alive
    _FORWARD[model] = tf.function(lambda feed: ref()(feed, training=False)["logits"],
                                  reduce_retracing=True)
  return _FORWARD[model]


def predict(model: tf.keras.Model, task, index: Optional[np.ndarray] = None,
            batch_size: int = PREDICT_BATCH) -> np.ndarray:
  """Inference logits of `model`: every node of a node task (`index` is ignored), or the
  graphs `index` of a graph task (in that order)."""
  names = feeds.model_input_names(model)
  forward = _forward(model)
  if task.kind == "node":
    return forward(feeds.select(task.full_feed(), names)).numpy()
  if index is None:
    raise ValueError("predict on a graph task needs the graph indices (`index`).")
  return np.concatenate([forward(feeds.select(feed, names)).numpy()
                         for feed, _ in task.batches(index, batch_size)])


def evaluate(model: tf.keras.Model, task, split: str,
             batch_size: int = PREDICT_BATCH) -> tuple[float, float]:
  """(accuracy, mean cross-entropy) of `model` on `split` (NaN, NaN if it is empty)."""
  index = task.split(split)
  if index is None or len(index) == 0:
    return float("nan"), float("nan")
  logits = predict(model, task, index, batch_size)
  if task.kind == "node":
    logits = logits[index]
  labels = task.labels[index]
  loss = float(cross_entropy(tf.constant(logits), tf.constant(labels, tf.int32)))
  return accuracy(logits, labels), loss
