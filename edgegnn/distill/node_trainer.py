"""The training loop shared by node-level distillation methods (kd, lsp, glnn, cpf, gnn-sd).

Full-graph steps on Cora-like datasets: the method's objective sees the student's outputs
({"logits", hidden states...}) and returns the loss; weight decay is added on the
student's kernels; early stopping keeps the weights with the best validation accuracy
(ties broken by validation cross-entropy), like `edgegnn.training.train`.
"""
from __future__ import annotations

import time
from typing import Callable, Mapping, Optional, Sequence

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf
import tqdm

from edgegnn.distill.hidden_states import with_hidden_states
from edgegnn.models import feeds
from edgegnn.training.trainer import TrainResult, accuracy

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
  feed = full_feed(student, dataset)
  optimizer = tf.keras.optimizers.Adam(learning_rate)
  variables = student.trainable_variables
  decayed = [v for v in variables if "kernel" in v.name]

  @tf.function
  def step():
    with tf.GradientTape() as tape:
      loss = objective(trained(feed, training=True))
      if weight_decay and decayed:
        loss += weight_decay * tf.add_n([tf.nn.l2_loss(v) for v in decayed])
    grads = tape.gradient(loss, variables)
    optimizer.apply_gradients([(g, v) for g, v in zip(grads, variables) if g is not None])
    return loss

  infer = tf.function(lambda: student(feed, training=False)["logits"])
  labels = dataset.labels
  val, test, train = dataset.val_index, dataset.test_index, dataset.train_index

  def val_score(logits):
    shifted = logits[val] - logits[val].max(-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    return [accuracy(logits[val], labels[val]),
            float(np.mean(log_p[np.arange(len(val)), labels[val]]))]

  best, best_weights, best_epoch, wait, history = None, None, -1, 0, []
  start = time.perf_counter()
  bar = tqdm.tqdm(range(epochs), desc=description, leave=False,
                  disable=None if progress else True)
  for epoch in bar:
    loss = float(step())
    logits = infer().numpy()
    score = val_score(logits)
    history.append({"epoch": epoch, "train_loss": loss, "val_accuracy": score[0]})
    if best is None or score > best:
      best, best_weights, best_epoch, wait = score, student.get_weights(), epoch, 0
    else:
      wait += 1
    if patience and wait >= patience:
      break
  bar.close()
  student.set_weights(best_weights)
  logits = infer().numpy()
  metrics = {"seed": seed, "epochs_run": len(history), "best_epoch": best_epoch,
             "seconds": round(time.perf_counter() - start, 2),
             "train_accuracy": accuracy(logits[train], labels[train]),
             "val_accuracy": accuracy(logits[val], labels[val]),
             "test_accuracy": accuracy(logits[test], labels[test])}
  return TrainResult(model=student, metrics=metrics, history=history)
