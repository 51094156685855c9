"""The server side: one Flower strategy that every engine runs.

`GlobalModelStrategy` wraps a stock Flower strategy (FedAvg, FedAvgM or FedAdam: the
server optimizer) and adds what a GNN federation needs:

* the wrapped strategy aggregates and steps only the trainable arrays (example-weighted:
  w = sum_k n_k w_k / n, then the server optimizer's step); statistics such as BatchNorm
  moving means and variances are pooled (`weights.pool_statistics`) and never stepped;
* every update is checked against the model's `WeightLayout`; a malformed one counts as
  a failed client;
* rounds are numbered from the checkpoint, the global model and the server optimizer
  state are checkpointed after every round, so a restarted server resumes;
* the global model is evaluated on the server (`evaluate_fn`) every `eval_every` rounds.

`server_optimizer(config)` builds the wrapped strategy from a `FederatedConfig`.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Optional

import numpy as np
from flwr.common import (FitIns, FitRes, Parameters, ndarrays_to_parameters,
                         parameters_to_ndarrays)
from flwr.server.strategy import FedAdam, FedAvg, FedAvgM, Strategy

from edgegnn.federated.checkpoint import RoundCheckpoint, ServerState
from edgegnn.federated.config import FederatedConfig
from edgegnn.federated.weights import WeightLayout, WireError, pool_statistics

ServerOptimizerFn = Callable[[Parameters], Strategy]
EvaluateFn = Callable[[list[np.ndarray]], dict[str, float]]

_OPTIMIZER_SLOTS = ("current_weights", "m_t", "v_t", "momentum_vector")


def server_optimizer(config: FederatedConfig) -> ServerOptimizerFn:
  """A factory of the Flower strategy named by `config.strategy`, given initial
  (trainable) parameters, with the config's client sampling and failure rules."""
  common = dict(fraction_fit=config.fraction_fit, fraction_evaluate=0.0,
                min_fit_clients=config.min_fit_clients, min_evaluate_clients=0,
                min_available_clients=config.min_available_clients,
                accept_failures=config.accept_failures)

  def build(initial: Parameters) -> Strategy:
    if config.strategy == "fedavg":
      return FedAvg(**common)
    if config.strategy == "fedavgm":
      return FedAvgM(**common, initial_parameters=initial,
                     server_learning_rate=config.server_learning_rate,
                     server_momentum=config.server_momentum)
    if config.strategy == "fedadam":
      return FedAdam(**common, initial_parameters=initial, eta=config.server_eta,
                     eta_l=config.learning_rate, tau=config.server_tau)
    raise ValueError(f"Unknown strategy {config.strategy!r}; expected fedavg, fedavgm or "
                     "fedadam.")
  return build


def optimizer_state(strategy: Strategy) -> dict[str, list[np.ndarray]]:
  """The server optimizer's arrays (FedAvgM momentum and weights, FedAdam moments)."""
  state = {}
  for slot in _OPTIMIZER_SLOTS:
    value = getattr(strategy, slot, None)
    if value:
      state[slot] = [np.asarray(v) for v in value]
  if isinstance(strategy, FedAvgM) and strategy.initial_parameters is not None:
    state["initial_parameters"] = parameters_to_ndarrays(strategy.initial_parameters)
  return state


def restore_optimizer_state(strategy: Strategy, state: dict[str, list[np.ndarray]]) -> None:
  for slot, values in state.items():
    if slot == "initial_parameters":
      strategy.initial_parameters = ndarrays_to_parameters(values)
    else:
      setattr(strategy, slot, [np.asarray(v) for v in values])


class GlobalModelStrategy(Strategy):
  """Flower strategy: wrapped server optimizer + statistics pooling + checkpoints.

  Args:
    layout: the model's weight layout.
    initial_weights: the global model before round 1 (ignored when a checkpoint exists).
    server_optimizer_fn: builds the wrapped Flower strategy from initial trainable params.
    total_rounds: rounds of the whole run (to know when it is finished).
    fit_config: extra config sent with every fit instruction (the round is added).
    checkpoint: where to save the state after every round (and resume from), or None.
    evaluate_fn: weights -> metrics (needs "test_loss" or "loss") for server-side
      evaluation, or None.
    eval_every: rounds between evaluations (the last round is always evaluated).
    log: receives one line per round.
  """

  def __init__(self, *, layout: WeightLayout, initial_weights: list[np.ndarray],
               server_optimizer_fn: ServerOptimizerFn, total_rounds: int,
               fit_config: Optional[dict[str, Any]] = None,
               checkpoint: Optional[RoundCheckpoint] = None,
               evaluate_fn: Optional[EvaluateFn] = None, eval_every: int = 1,
               log: Optional[Callable[[str], None]] = None):
    self.layout = layout
    self.server_optimizer_fn = server_optimizer_fn
    self.total_rounds = total_rounds
    self.fit_config = dict(fit_config or {})
    self.checkpoint = checkpoint
    self.evaluate_fn = evaluate_fn
    self.eval_every = eval_every
    self.log = log or (lambda line: None)
    restored = checkpoint.load() if checkpoint else None
    self.resumed_from = restored.round if restored else 0
    self.set_state(restored or ServerState(round=0, weights=list(initial_weights)))

  # State (TFF-style): everything the server knows, as one value.
  def set_state(self, state: ServerState) -> None:
    self.layout.check(state.weights)
    self.weights = [np.asarray(w) for w in state.weights]
    self.completed = int(state.round)
    self.history = [dict(r) for r in state.history]
    trainable, _ = self.layout.split(self.weights)
    self.inner = self.server_optimizer_fn(ndarrays_to_parameters(trainable))
    restore_optimizer_state(self.inner, state.optimizer)

  def state(self) -> ServerState:
    return ServerState(round=self.completed, weights=list(self.weights),
                       optimizer=optimizer_state(self.inner), history=list(self.history))

  @property
  def remaining_rounds(self) -> int:
    return max(self.total_rounds - self.completed, 0)

  def fit_instructions(self) -> FitIns:
    """The instruction of the next round: global weights plus the round's config."""
    return FitIns(ndarrays_to_parameters(self.weights),
                  {**self.fit_config, "round": self.completed + 1})

  # Flower Strategy interface.
  def initialize_parameters(self, client_manager):
    return ndarrays_to_parameters(self.weights)

  def configure_fit(self, server_round, parameters, client_manager):
    instructions = self.inner.configure_fit(self.completed + 1, parameters, client_manager)
    config = {**self.fit_config, "round": self.completed + 1}
    return [(client, FitIns(ins.parameters, dict(config))) for client, ins in instructions]

  def aggregate_fit(self, server_round, results, failures):
    started = time.perf_counter()
    round_number = self.completed + 1
    failures = list(failures)
    accepted, full = [], []
    for proxy, res in results:
      weights = parameters_to_ndarrays(res.parameters)
      try:
        self.layout.check(weights)
      except WireError as e:
        failures.append(e)
        continue
      trainable, _ = self.layout.split(weights)
      accepted.append((proxy, FitRes(res.status, ndarrays_to_parameters(trainable),
                                     res.num_examples, res.metrics)))
      full.append((weights, res.num_examples, res.metrics))
    aggregated, _ = (self.inner.aggregate_fit(round_number, accepted, failures)
                     if accepted else (None, {}))
    record: dict[str, Any] = {"round": round_number, "clients": len(accepted),
                              "failures": len(failures), "aggregated": aggregated is not None}
    if aggregated is not None:
      statistics = pool_statistics(self.layout, [w for w, _, _ in full], [n for _, n, _ in full])
      self.weights = self.layout.merge(parameters_to_ndarrays(aggregated), statistics)
      total = sum(n for _, n, _ in full)
      losses = [(n, m["train_loss"]) for _, n, m in full if "train_loss" in m]
      if losses:
        record["train_loss"] = float(sum(n * l for n, l in losses) / sum(n for n, _ in losses))
      record["examples"] = int(total)
    self.completed = round_number
    record["aggregate_seconds"] = round(time.perf_counter() - started, 4)
    self.history.append(record)
    if self.checkpoint:
      self.checkpoint.save(self.state())
    self.log(f"round {round_number}: {len(accepted)} client(s), {len(failures)} failure(s)")
    return ndarrays_to_parameters(self.weights), {k: v for k, v in record.items()
                                                  if isinstance(v, (int, float))}

  def configure_evaluate(self, server_round, parameters, client_manager):
    return []  # the global model is evaluated on the server (`evaluate`)

  def aggregate_evaluate(self, server_round, results, failures):
    return None, {}

  def evaluate(self, server_round, parameters):
    if self.evaluate_fn is None:
      return None
    r = self.completed
    if r and r % self.eval_every and r != self.total_rounds:
      return None
    metrics = self.evaluate_fn(parameters_to_ndarrays(parameters))
    if self.history and self.history[-1]["round"] == r:
      self.history[-1].update(metrics)
      if self.checkpoint:
        self.checkpoint.save(self.state())
    self.log(f"round {r}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    return float(metrics.get("test_loss", metrics.get("loss", 0.0))), metrics
