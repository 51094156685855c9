"""The training loop shared by node-level distillation methods (kd, lsp, glnn, cpf, gnn-sd).

Full-graph steps on Cora-like datasets (`edgegnn.engine.fit` on one batch): the method's
objective sees the student's outputs ({"logits", hidden states...}) and returns the loss;
weight decay applies to `engine.decayed_variables(student)`; early stopping keeps the
weights with the best validation accuracy (ties broken by validation cross-entropy), like
`edgegnn.training.train`.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn import engine
from edgegnn.distill.hidden_states import with_hidden_states
from edgegnn.models import feeds
from edgegnn.training.tasks import NodeTask
from edgegnn.training.trainer import TrainResult

Objective = Callable[[Mapping[str, tf.Tensor]], tf.Tensor]


def full_feed(model: tf.keras.Model, dataset) -> dict[str, tf.Tensor]:
  """The whole graph as constant tensors, keyed by `model`'s input names."""
  names = feeds.model_input_names(model)
  return {k: tf.constant(v) for k, v in feeds.select(feeds.graph_feed(dataset.graph),
                                                      names).items()}


def node_outputs(model: tf.keras.Model, dataset,
                 hidden: Sequence[str] = ()) -> dict[str, np.ndarray]:
  """Inference outputs (logits and the named hidden states) of `model` on the whole graph."""
  names = [h for h in hidden if h != "logits"]
  probe = with_hidden_states(model, names) if names else model
  out = probe(full_feed(model, dataset), training=False)
  return {k: v.numpy() for k, v in out.items()}


def fit_node_student(student: tf.keras.Model, dataset, objective: Objective, *,
                     epochs: int, learning_rate: float, weight_decay: float, patience: int,
                     hidden: Sequence[str] = (), seed: int = 0, progress: bool = False,
                     description: str = "distill") -> TrainResult:
  """Trains `student` (in place) on `objective` and returns it with its metrics.

  Args:
    student: a functional model returning {"logits": [N, C]}.
    dataset: a `NodeClassificationDataset`.
    objective: outputs -> scalar loss; outputs hold "logits" and each of `hidden`.
    hidden: student layers whose outputs the objective needs.
  """
  tf.keras.utils.set_random_seed(seed)
  names = [h for h in hidden if h != "logits"]
  trained = with_hidden_states(student, names) if names else student
  task = NodeTask(dataset)
  fitted = engine.fit(
      student, lambda outputs, batch: objective(outputs), [engine.Batch(task.full_feed())],
      epochs=epochs, learning_rate=learning_rate, weight_decay=weight_decay,
      outputs_model=trained,
      early_stopping=engine.EarlyStopping(lambda: engine.evaluate(student, task, "val"),
                                          patience),
      progress=progress, description=description)
  metrics = {"seed": seed, "epochs_run": fitted.epochs_run, "best_epoch": fitted.best_epoch,
             "seconds": round(fitted.seconds, 2)}
  for split in ("train", "val", "test"):
    metrics[f"{split}_accuracy"] = engine.evaluate(student, task, split)[0]
  return TrainResult(model=student, metrics=metrics, history=fitted.history)
