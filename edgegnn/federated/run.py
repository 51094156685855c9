"""`run_federated`: one federated training run, on any engine, as a pipeline stage calls it.

    result = run_federated(spec, dataset, FederatedConfig(setting="subgraph", rounds=100),
                           seed=0, out_dir="runs/fl/seed0")

Writes OUT/checkpoint/global.npz (every round; a restarted run resumes), OUT/model/
(the final global model: `edgegnn.models.saving` format, exportable by the deploy core)
and OUT/result.json, and returns the result dict.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time
from typing import Any, Optional

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.atomic import atomic_write_text
from edgegnn.federated.checkpoint import RoundCheckpoint
from edgegnn.federated.client_data import label_skew
from edgegnn.federated.config import FederatedConfig
from edgegnn.federated.evaluation import client_subgraph_accuracy, make_evaluator
from edgegnn.federated.fedavg import build_weighted_fed_avg
from edgegnn.federated.job import DEFAULT_HOOKS, FederatedJob, resolve_hooks
from edgegnn.federated.partition import make_clients
from edgegnn.federated.strategy import server_optimizer
from edgegnn.models import ModelSpec
from edgegnn.models.saving import ModelMeta, save_trained


def _sample(num_clients: int, config: FederatedConfig, rng: np.random.Generator) -> np.ndarray:
  """Flower's rule: max(min_fit_clients, fraction_fit * available) clients per round."""
  count = max(config.min_fit_clients, int(config.fraction_fit * num_clients))
  return np.sort(rng.choice(num_clients, size=min(count, num_clients), replace=False))


def _run_inprocess(job: FederatedJob, dataset, log) -> None:
  config = job.config
  hooks = resolve_hooks(job.hooks)(job.spec, dataset, config)
  clients = make_clients(dataset, config, job.seed)
  evaluator_model = hooks.model_fn()
  process = build_weighted_fed_avg(
      hooks.model_fn, server_optimizer_fn=server_optimizer(config),
      client_update=hooks.client_update,
      evaluate_fn=make_evaluator(evaluator_model, dataset, config.fold), seed=job.seed,
      total_rounds=config.rounds, checkpoint=RoundCheckpoint(job.checkpoint_dir))
  process.strategy.eval_every = config.eval_every
  state = process.initialize()
  rng = np.random.default_rng([job.seed, 7])
  for r in range(state.round):  # replay the sampling of the rounds already done
    _sample(len(clients), config, rng)
  while state.round < config.rounds:
    chosen = _sample(len(clients), config, rng)
    output = process.next(state, [clients[i] for i in chosen], client_ids=chosen)
    state = output.state
    if "test_accuracy" in output.metrics:
      log(f"round {state.round}: test accuracy {output.metrics['test_accuracy']:.4f}")


def _run_processes(job: FederatedJob, log, timeout: float) -> None:
  out = pathlib.Path(job.out_dir)
  job_path = out / "job.json"
  job.save(job_path)
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(
      [str(pathlib.Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")]))
  command = [sys.executable, "-m", "edgegnn.federated.flower_app"]
  logs = out / "logs"
  logs.mkdir(parents=True, exist_ok=True)
  with open(logs / "server.log", "ab") as server_log:
    server = subprocess.Popen(command + ["server", str(job_path)], env=env, stdout=server_log,
                              stderr=subprocess.STDOUT)
  clients = []
  for k in range(job.config.num_clients):
    with open(logs / f"client{k}.log", "ab") as client_log:
      clients.append(subprocess.Popen(command + ["client", str(job_path), "--partition-id", str(k)],
                                      env=env, stdout=client_log, stderr=subprocess.STDOUT))
  try:
    code = server.wait(timeout=timeout)
    if code != 0:
      raise RuntimeError(f"The federated server exited with {code}; see {logs / 'server.log'}.")
    for c in clients:
      try:
        c.wait(timeout=30)
      except subprocess.TimeoutExpired:
        c.terminate()
  finally:
    for p in [server, *clients]:
      if p.poll() is None:
        p.kill()
        p.wait()
  log(f"processes engine finished: server log {logs / 'server.log'}")


def run_federated(spec: ModelSpec, dataset, config: FederatedConfig, seed: int,
                  out_dir: str | os.PathLike, *, hooks: str = DEFAULT_HOOKS,
                  log=print, timeout: float = 3600.0) -> dict[str, Any]:
  """Trains `spec` on `dataset` with federated averaging; returns the result dict.

  Args:
    spec: the model (its FP32 zoo build, unless `hooks` supplies another model_fn).
    dataset: a loaded edgegnn dataset (by name for the processes engine's children).
    config: the federation (setting, clients, rounds, strategy, engine, ...).
    seed: one seed (partition, initial model, clients).
    out_dir: where the checkpoint, the final model and result.json go.
    hooks: 'module:function' -> `Hooks(model_fn, client_update)`.
    log: receives progress lines.
    timeout: processes engine: seconds to wait for the server.

  Returns:
    {setting, engine, strategy, seed, rounds_completed, test_accuracy, val_accuracy,
     client_subgraph_test_accuracy (subgraph setting: see `evaluation`),
     best_test_accuracy, clients (examples each), label_skew, update_bytes, seconds,
     history, model_path}.
  """
  out = pathlib.Path(out_dir)
  out.mkdir(parents=True, exist_ok=True)
  from edgegnn.data.sources import origin  # pylint: disable=g-import-not-at-top
  # By name, or your own graph's source mapping: what the engines' processes reload.
  job = FederatedJob(spec=spec, dataset=origin(dataset), config=config, seed=seed,
                     out_dir=str(out), hooks=hooks)
  started = time.perf_counter()
  if config.engine == "inprocess":
    _run_inprocess(job, dataset, log)
  elif config.engine == "simulation":
    from edgegnn.federated.flower_app import run_simulation_engine  # pylint: disable=g-import-not-at-top
    run_simulation_engine(job, log=None)
  else:
    _run_processes(job, log, timeout)
  seconds = time.perf_counter() - started
  state = RoundCheckpoint(job.checkpoint_dir).load()
  if state is None:
    raise RuntimeError(f"The {config.engine} engine finished without a checkpoint in "
                       f"{job.checkpoint_dir}.")
  hook = resolve_hooks(hooks)(spec, dataset, config)
  model = hook.model_fn()
  final = make_evaluator(model, dataset, config.fold)(state.weights)
  model_dir = out / "model"
  save_trained(model_dir, model, ModelMeta(spec, dataset.name, dataset.task,
                                           dataset.num_features, dataset.num_classes,
                                           extra={"federated": config.to_dict(), "seed": seed,
                                                  **({"dataset_source": job.dataset}
                                                     if isinstance(job.dataset, dict) else {}),
                                                  **({"quantization": config.quantization}
                                                     if config.quantization else {})}))
  clients = make_clients(dataset, config, seed)
  evaluated = [r for r in state.history if "test_accuracy" in r]
  subgraph_accuracy = None
  if config.setting == "subgraph":
    from edgegnn.training import make_task  # pylint: disable=g-import-not-at-top
    subgraph_accuracy = client_subgraph_accuracy(
        model, state.weights, clients, make_task(dataset, config.fold).split("test"))
  result = {
      "setting": config.setting, "engine": config.engine, "strategy": config.strategy,
      "seed": seed, "rounds_completed": state.round,
      "test_accuracy": final["test_accuracy"], "val_accuracy": final.get("val_accuracy"),
      "client_subgraph_test_accuracy": subgraph_accuracy,
      "best_test_accuracy": max((r["test_accuracy"] for r in evaluated), default=None),
      "clients": [c.num_examples for c in clients],
      "label_skew": label_skew(clients, dataset.num_classes),
      "failures": int(sum(r.get("failures", 0) for r in state.history)),
      "update_bytes": int(sum(w.nbytes for w in state.weights)),
      "seconds": round(seconds, 2), "history": state.history,
      "model_path": str(model_dir)}
  atomic_write_text(out / "result.json", json.dumps(result, indent=1))
  return result
