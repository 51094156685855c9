"""Server-side evaluation of the global model on the dataset's held-out split.

Node datasets: the whole graph is fed (as a centrally trained model is scored), accuracy
on the validation and test nodes. Graph datasets: the test graphs of the fold.

`client_subgraph_accuracy` is FedGraphNN's subgraph-level metric instead: the global model
run on each client's own subgraph (cross-client edges missing), scored on the test nodes
that client holds, pooled over clients. `run_federated` reports both; the whole-graph
figure is the headline because it is the metric of the centralized baseline and the
graph a deployed model is run on.
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


def client_subgraph_accuracy(model: tf.keras.Model, weights: list[np.ndarray], clients,
                             test_nodes: np.ndarray) -> float:
  r"""sum_k #correct_k / sum_k #test_k over the test nodes each client holds, every
  client's subgraph fed on its own (the partition covers each node once)."""
  from edgegnn.models import feeds  # pylint: disable=g-import-not-at-top
  model.set_weights(weights)
  names = feeds.model_input_names(model)
  correct = total = 0
  for client in clients:
    rows = np.flatnonzero(np.isin(client.global_nodes, test_nodes))
    if not len(rows):
      continue
    feed = feeds.select(feeds.graph_feed(client.graph), names)
    logits = model(feed, training=False)["logits"].numpy()[rows]
    correct += int(np.sum(logits.argmax(-1) == client.labels[rows]))
    total += len(rows)
  return correct / max(total, 1)
