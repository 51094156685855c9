"""Server-side evaluation of the global model on the dataset's held-out split.

Node datasets: the whole graph is fed (as a centrally trained model is scored), accuracy
on the validation and test nodes. Graph datasets: the test graphs of the fold.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.training import accuracy, cross_entropy, make_task, predict
from edgegnn.training.tasks import NodeTask


def make_evaluator(model: tf.keras.Model, dataset, fold: int = 0
                   ) -> Callable[[list[np.ndarray]], dict[str, float]]:
  """weights -> {test_accuracy, test_loss[, val_accuracy]} of `model` carrying them."""
  task = make_task(dataset, fold)

  def evaluate(weights: list[np.ndarray]) -> dict[str, float]:
    model.set_weights(weights)
    metrics = {}
    if isinstance(task, NodeTask):
      logits = predict(model, task)
      splits = {"val": task.split("val"), "test": task.split("test")}
      for name, index in splits.items():
        metrics[f"{name}_accuracy"] = accuracy(logits[index], task.labels[index])
      test = splits["test"]
      metrics["test_loss"] = float(cross_entropy(tf.constant(logits[test]),
                                                 tf.constant(task.labels[test], tf.int32)))
      return metrics
    index = task.split("test")
    logits = predict(model, task, index)
    labels = task.labels[index]
    return {"test_accuracy": accuracy(logits, labels),
            "test_loss": float(cross_entropy(tf.constant(logits), tf.constant(labels, tf.int32)))}
  return evaluate
