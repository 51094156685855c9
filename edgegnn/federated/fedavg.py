"""`build_weighted_fed_avg`: federated averaging as a process, in the style of TFF.

    process = build_weighted_fed_avg(model_fn, lambda: tf.keras.optimizers.Adam(0.01))
    state = process.initialize()
    for _ in range(rounds):
      output = process.next(state, clients)     # clients: a list of ClientData
      state = output.state                      # output.metrics: this round's record

`next` runs one round in this process with the same pieces the Flower engines run:
every client is a `FlowerClient` called through Flower's `Client.fit` (so its update is
serialised exactly as on the wire), and the server step is `GlobalModelStrategy`, which
delegates the example-weighted aggregation and the server optimizer to Flower's
FedAvg / FedAvgM / FedAdam.

    w_{t+1} = ServerOpt( w_t, sum_k n_k w_k^{t+1} / sum_k n_k )   (trainable arrays)
    statistics: pooled (BatchNorm variances by the law of total variance)
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Optional, Sequence

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf
from flwr.common import FitRes, ndarrays_to_parameters

from edgegnn.federated.checkpoint import RoundCheckpoint, ServerState
from edgegnn.federated.client import ClientUpdate, FlowerClient, LocalTraining, OptimizerFn
from edgegnn.federated.client_data import ClientData
from edgegnn.federated.strategy import EvaluateFn, GlobalModelStrategy, ServerOptimizerFn
from edgegnn.federated.weights import WeightLayout

ModelFn = Callable[[], tf.keras.Model]


def fedavg() -> ServerOptimizerFn:
  """Plain FedAvg (Flower's `FedAvg`, all clients, failures accepted)."""
  from flwr.server.strategy import FedAvg  # pylint: disable=g-import-not-at-top
  return lambda initial: FedAvg(fraction_fit=1.0, fraction_evaluate=0.0, min_fit_clients=1,
                                min_evaluate_clients=0, min_available_clients=1)


@dataclasses.dataclass
class FederatedOutput:
  """What `next` returns: the new server state and the round's metrics."""
  state: ServerState
  metrics: dict[str, Any]


class WeightedFedAvgProcess:
  """The process `build_weighted_fed_avg` returns (`initialize`, `next`, `evaluate`)."""

  def __init__(self, model_fn: ModelFn, client_update: ClientUpdate,
               server_optimizer_fn: ServerOptimizerFn, evaluate_fn: Optional[EvaluateFn],
               seed: int, total_rounds: int, checkpoint: Optional[RoundCheckpoint]):
    self.model_fn = model_fn
    self.client_update = client_update
    self.seed = seed
    tf.keras.utils.set_random_seed(seed)
    self.model = model_fn()  # one model, lent to each client in turn
    self.layout = WeightLayout.from_model(self.model)
    self.strategy = GlobalModelStrategy(
        layout=self.layout, initial_weights=self.model.get_weights(),
        server_optimizer_fn=server_optimizer_fn, total_rounds=total_rounds,
        checkpoint=checkpoint, evaluate_fn=evaluate_fn)
    self._initial = self.strategy.state()

  def initialize(self) -> ServerState:
    """The state before round 1 (or the checkpointed state, when one exists)."""
    return self._initial

  def next(self, state: ServerState, clients: Sequence[ClientData],
           client_ids: Optional[Sequence[int]] = None) -> FederatedOutput:
    """One round: every client in `clients` trains from `state`; the server aggregates.

    A client whose update raises counts as a failure (the strategy's accept_failures
    decides whether the round still aggregates).
    """
    self.strategy.set_state(state)
    instructions = self.strategy.fit_instructions()
    client_ids = list(client_ids) if client_ids is not None else list(range(len(clients)))
    results, failures = [], []
    for cid, data in zip(client_ids, clients):
      client = FlowerClient(self.model, self.client_update, data,
                            seed=int(np.random.SeedSequence([self.seed, cid]).generate_state(1)[0]))
      try:
        res: FitRes = client.to_client().fit(instructions)
        results.append((None, res))
      except Exception as e:  # a crashing client is a failure, as on the wire
        failures.append(e)
    self.strategy.aggregate_fit(self.strategy.completed + 1, results, failures)
    self.strategy.evaluate(self.strategy.completed, ndarrays_to_parameters(self.strategy.weights))
    new_state = self.strategy.state()
    return FederatedOutput(state=new_state, metrics=dict(new_state.history[-1]))

  def evaluate(self, state: ServerState) -> dict[str, float]:
    if self.strategy.evaluate_fn is None:
      raise ValueError("This process was built without an evaluate_fn.")
    return self.strategy.evaluate_fn(state.weights)


def build_weighted_fed_avg(model_fn: ModelFn, client_optimizer_fn: Optional[OptimizerFn] = None,
                           server_optimizer_fn: Optional[ServerOptimizerFn] = None, *,
                           client_update: Optional[ClientUpdate] = None,
                           evaluate_fn: Optional[EvaluateFn] = None, seed: int = 0,
                           total_rounds: int = 1 << 30,
                           checkpoint: Optional[RoundCheckpoint] = None) -> WeightedFedAvgProcess:
  """Example-weighted federated averaging over Keras models (TFF's builder, on Flower).

  Args:
    model_fn: builds the (uncompiled) Keras model; called once per process.
    client_optimizer_fn: builds the client optimizer for the default `LocalTraining`
      (ignored when `client_update` is given).
    server_optimizer_fn: initial trainable Parameters -> a Flower strategy (FedAvg,
      FedAvgM, FedAdam; see `strategy.server_optimizer`). Default: plain FedAvg.
    client_update: the local training callable (default: `LocalTraining`).
    evaluate_fn: weights -> metrics, run on the global model after every round.
    seed: seeds the initial model and the clients' shuffling.
    total_rounds: rounds of the whole run (the last is always evaluated).
    checkpoint: save the state after every round and start from it if present.
  """
  if client_update is None:
    client_update = LocalTraining(client_optimizer_fn)
  return WeightedFedAvgProcess(model_fn, client_update, server_optimizer_fn or fedavg(),
                               evaluate_fn, seed, total_rounds, checkpoint)
