"""The client side: local training (`client_update`) and the Flower client around it.

A client gets a built model and a `client_update`: a callable

    client_update(model, data, *, server_round, seed) -> {metric name: float}

that trains `model` in place on the client's `ClientData`. `LocalTraining` is the FP32
default (local epochs of a fresh client optimizer on a loss); a quantization-aware
update (e.g. Degree-Quant) plugs in as another callable with the same signature, with a
`model_fn` that builds its model.

`FlowerClient` is the one Flower client every engine runs: it receives the global
weights, runs `client_update`, and returns only the updated weights (checked against the
model's `WeightLayout`), its example count and scalar metrics.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Protocol

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf
from flwr.client import NumPyClient

from edgegnn import engine
from edgegnn.federated.client_data import ClientData
from edgegnn.federated.weights import WeightLayout, WireError
from edgegnn.models import feeds
from edgegnn.engine import cross_entropy

LossFn = Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
OptimizerFn = Callable[[], tf.keras.optimizers.Optimizer]


class ClientUpdate(Protocol):
  def __call__(self, model: tf.keras.Model, data: ClientData, *, server_round: int,
               seed: int) -> dict[str, float]:
    ...


class LocalTraining:
  r"""FP32 client update: `local_epochs` passes of a fresh optimizer over the client data
  (`edgegnn.engine.fit` with a `TrainStep` kept per model).

  Minimises  L(w) = 1/|B| sum_{i in B} CE(f_w(x)_i, y_i)  per batch B, with weight
  decay on `engine.decayed_variables` either coupled (an L2 term lambda/2 sum ||W||^2 in the loss, whose
  gradient lambda W goes through the optimizer) or decoupled (after each step,
  W <- W - lr * lambda * W, as in AdamW). The optimizer starts fresh each round (its
  slots are zeroed), as in FedAvg, where client optimizer state does not outlive a round.

  Why decoupled is the federated default: a fresh Adam normalises each coordinate's
  gradient by its own magnitude, so on a weight whose only gradient on this client is
  the L2 term (a Cora word absent from the client's subgraph) the step is
  -lr * sign(W) per local step, whatever lambda is. With K clients each holding a
  different part of the vocabulary, K - 1 of them shrink such a weight by up to
  E * lr per round while one client learns it, and the average forgets it. Decoupled
  decay shrinks it by the factor (1 - lr * lambda) per step instead.

  Args:
    optimizer_fn: builds the client optimizer (default Adam(0.01)).
    loss_fn: loss(logits, labels).
    local_epochs: passes over the client's examples per round.
    batch_size: graphs per step (graph data; node data is one full-subgraph step).
    weight_decay: lambda.
    decoupled_weight_decay: decay after each step (True) instead of an L2 loss term.
  """

  def __init__(self, optimizer_fn: Optional[OptimizerFn] = None, loss_fn: LossFn = cross_entropy,
               local_epochs: int = 1, batch_size: int = 32, weight_decay: float = 0.0,
               decoupled_weight_decay: bool = False):
    if local_epochs < 1 or batch_size < 1:
      raise ValueError(f"LocalTraining needs local_epochs >= 1 and batch_size >= 1, got "
                       f"{local_epochs} and {batch_size}.")
    if weight_decay < 0:
      raise ValueError(f"weight_decay must be >= 0, got {weight_decay}.")
    self.optimizer_fn = optimizer_fn or (lambda: tf.keras.optimizers.Adam(0.01))
    self.loss_fn = loss_fn
    self.local_epochs = local_epochs
    self.batch_size = batch_size
    self.weight_decay = weight_decay
    self.decoupled_weight_decay = decoupled_weight_decay
    self._steps: dict[int, engine.TrainStep] = {}

  def _step(self, model: tf.keras.Model) -> engine.TrainStep:
    """The model's compiled step (built once: its optimizer is reset every round)."""
    if id(model) not in self._steps:
      self._steps[id(model)] = engine.TrainStep(
          model, engine.logits_loss(self.loss_fn), self.optimizer_fn(),
          weight_decay=self.weight_decay, decoupled_weight_decay=self.decoupled_weight_decay)
    return self._steps[id(model)]

  def __call__(self, model: tf.keras.Model, data: ClientData, *, server_round: int,
               seed: int) -> dict[str, float]:
    step = self._step(model)
    for variable in step.optimizer.variables:
      variable.assign(tf.zeros_like(variable))
    rng = np.random.default_rng([seed, server_round])
    losses = []

    def counted_step(batch):
      loss = step(batch)
      losses.append(float(loss))
      return loss
    engine.fit(model, None,
               lambda epoch: (engine.Batch(feed, labels, rows)
                              for feed, labels, rows in data.batches(self.batch_size, rng)),
               epochs=self.local_epochs, step=counted_step)
    return {"train_loss": float(np.mean(losses))}


def check_metrics(metrics: dict[str, Any]) -> dict[str, float]:
  """Metrics leave a client only as named finite scalars."""
  out = {}
  for key, value in metrics.items():
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
      raise WireError(f"Metric {key!r} must be a number, got {type(value).__name__}; "
                      "clients send scalars only.")
    out[str(key)] = float(value)
  return out


class FlowerClient(NumPyClient):
  """The Flower client of every engine: global weights in, updated weights out.

  Args:
    model: the client's model (built by the `model_fn`).
    client_update: trains `model` in place on `data` (see `ClientUpdate`).
    data: the client's examples; they never leave this object.
    seed: the client's seed (local shuffling, per round).
  """

  def __init__(self, model: tf.keras.Model, client_update: ClientUpdate, data: ClientData,
               seed: int):
    self.model = model
    self.layout = WeightLayout.from_model(model)
    self.client_update = client_update
    self.data = data
    self.seed = int(seed)

  def get_parameters(self, config):
    return self.model.get_weights()

  def fit(self, parameters, config):
    self.layout.check(parameters)
    self.model.set_weights(parameters)
    metrics = self.client_update(self.model, self.data, server_round=int(config.get("round", 0)),
                                 seed=self.seed)
    update = self.model.get_weights()
    self.layout.check(update)
    return update, self.data.num_examples, check_metrics(metrics)

  def evaluate(self, parameters, config):
    self.layout.check(parameters)
    self.model.set_weights(parameters)
    names = feeds.model_input_names(self.model)
    losses, correct = [], 0
    for feed, labels, rows in self.data.batches(256):
      logits = self.model(feeds.select(feed, names), training=False)["logits"]
      if rows is not None:
        logits = tf.gather(logits, rows)
      losses.append(float(cross_entropy(logits, labels)) * len(labels))
      correct += int(np.sum(np.argmax(logits.numpy(), -1) == labels))
    n = max(self.data.num_examples, 1)
    return sum(losses) / n, self.data.num_examples, {"accuracy": correct / n}
