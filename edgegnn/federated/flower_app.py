"""The Flower apps: one client factory and one server builder for both engines.

* simulation: `run_simulation_engine(job)` runs Flower's simulation engine
  (`flwr.simulation.run_simulation`, Ray backend) with a `ServerApp` and a `ClientApp`
  built from `build_server` and `ClientFactory`.
* processes: `serve(job)` runs a Flower server (gRPC, `flwr.server.start_server`) and
  `join(job, partition_id)` a Flower client (`flwr.client.start_client`), each in its own
  process, over the network (loopback in the tests):

      python -m edgegnn.federated.flower_app server OUT/job.json
      python -m edgegnn.federated.flower_app client OUT/job.json --partition-id 3

Both engines run the same `FlowerClient` and the same `GlobalModelStrategy`. A client
process loads the dataset and keeps only its own partition; what it sends is the updated
weight list, its example count and scalar metrics (checked by `WeightLayout.check`).
"""
from __future__ import annotations

import argparse
import socket
import sys
import time
from typing import Optional

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.federated.checkpoint import RoundCheckpoint
from edgegnn.federated.client import FlowerClient
from edgegnn.federated.evaluation import make_evaluator
from edgegnn.federated.job import FederatedJob, Hooks, resolve_hooks
from edgegnn.federated.partition import make_clients
from edgegnn.federated.strategy import GlobalModelStrategy, server_optimizer
from edgegnn.federated.weights import WeightLayout


def client_seed(seed: int, partition_id: int) -> int:
  return int(np.random.SeedSequence([seed, partition_id]).generate_state(1)[0])


class ClientFactory:
  """Builds the Flower client of a partition; the model is built once per process.

  Picklable (holds only the job until first use), so Ray can ship it to its workers.
  """

  def __init__(self, job: FederatedJob):
    self.job = job
    self._loaded: Optional[tuple[Hooks, tf.keras.Model, list]] = None

  def __getstate__(self):
    return {"job": self.job, "_loaded": None}

  def _load(self):
    if self._loaded is None:
      from edgegnn import data  # pylint: disable=g-import-not-at-top
      dataset = data.load_source(self.job.dataset)
      hooks = resolve_hooks(self.job.hooks)(self.job.spec, dataset, self.job.config)
      clients = make_clients(dataset, self.job.config, self.job.seed)
      self._loaded = (hooks, hooks.model_fn(), clients)
    return self._loaded

  def client(self, partition_id: int):
    hooks, model, clients = self._load()
    if not 0 <= partition_id < len(clients):
      raise ValueError(f"partition-id {partition_id} outside 0..{len(clients) - 1}.")
    return FlowerClient(model, hooks.client_update, clients[partition_id],
                        seed=client_seed(self.job.seed, partition_id)).to_client()

  def __call__(self, context):
    return self.client(int(context.node_config["partition-id"]))


def build_server(job: FederatedJob, log=None):
  """(GlobalModelStrategy, flwr ServerConfig) of `job`; resumes from its checkpoint."""
  from flwr.server import ServerConfig  # pylint: disable=g-import-not-at-top
  from edgegnn import data  # pylint: disable=g-import-not-at-top
  dataset = data.load_source(job.dataset)
  hooks = resolve_hooks(job.hooks)(job.spec, dataset, job.config)
  tf.keras.utils.set_random_seed(job.seed)
  model = hooks.model_fn()
  config = job.config
  strategy = GlobalModelStrategy(
      layout=WeightLayout.from_model(model), initial_weights=model.get_weights(),
      server_optimizer_fn=server_optimizer(config), total_rounds=config.rounds,
      checkpoint=RoundCheckpoint(job.checkpoint_dir),
      evaluate_fn=make_evaluator(model, dataset, config.fold), eval_every=config.eval_every,
      log=log)
  return strategy, ServerConfig(num_rounds=strategy.remaining_rounds,
                                round_timeout=config.round_timeout)


def run_simulation_engine(job: FederatedJob, log=None) -> GlobalModelStrategy:
  """Runs `job` on Flower's simulation engine (one Ray worker per CPU)."""
  from flwr.client import ClientApp  # pylint: disable=g-import-not-at-top
  from flwr.server import ServerApp, ServerAppComponents  # pylint: disable=g-import-not-at-top
  from flwr.simulation import run_simulation  # pylint: disable=g-import-not-at-top
  strategy, server_config = build_server(job, log)
  if strategy.remaining_rounds:
    server_app = ServerApp(server_fn=lambda context: ServerAppComponents(
        strategy=strategy, config=server_config))
    client_app = ClientApp(client_fn=ClientFactory(job))
    run_simulation(server_app=server_app, client_app=client_app,
                   num_supernodes=job.config.num_clients,
                   backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0},
                                   "init_args": {"num_cpus": 2, "include_dashboard": False}})
  return strategy


def serve(job: FederatedJob, log=None) -> GlobalModelStrategy:
  """Runs the server of the processes engine until every round is done."""
  from flwr.server import start_server  # pylint: disable=g-import-not-at-top
  strategy, server_config = build_server(job, log)
  if strategy.remaining_rounds:
    start_server(server_address=job.config.address, config=server_config, strategy=strategy)
  return strategy


def _wait_for_port(address: str, deadline: float) -> bool:
  host, _, port = address.rpartition(":")
  while time.time() < deadline:
    try:
      with socket.create_connection((host.strip("[]"), int(port)), timeout=2):
        return True
    except OSError:
      time.sleep(0.5)
  return False


def join(job: FederatedJob, partition_id: int, patience: float = 300.0) -> None:
  """Runs one client of the processes engine until the server ends the run.

  The client waits for the server to listen, and when the connection breaks (a server
  killed and restarted) it reconnects, for up to `patience` seconds without a server.
  It returns when the server ends the run.
  """
  import grpc  # pylint: disable=g-import-not-at-top
  from flwr.client import start_client  # pylint: disable=g-import-not-at-top
  factory = ClientFactory(job)
  factory.client(partition_id)  # load data and model before connecting
  while _wait_for_port(job.config.address, time.time() + patience):
    try:
      start_client(server_address=job.config.address,
                   client_fn=lambda context: factory.client(partition_id), insecure=True)
      return
    except grpc.RpcError as e:  # the server went away: wait for it to come back
      print(f"connection lost ({e.code()}); reconnecting", flush=True)
      time.sleep(1.0)
  raise TimeoutError(f"No server at {job.config.address} for {patience} s.")


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(prog="python -m edgegnn.federated.flower_app")
  parser.add_argument("role", choices=["server", "client"])
  parser.add_argument("job", help="job.json written by run_federated")
  parser.add_argument("--partition-id", type=int, default=None)
  args = parser.parse_args(argv)
  job = FederatedJob.load(args.job)
  if args.role == "server":
    serve(job, log=lambda line: print(line, flush=True))
  else:
    if args.partition_id is None:
      parser.error("client needs --partition-id")
    join(job, args.partition_id)
  return 0


if __name__ == "__main__":
  sys.exit(main())
