"""FederatedConfig: the `federated:` section of a pipeline stage."""
from __future__ import annotations

import dataclasses
from typing import ClassVar, Optional

from edgegnn.config_fields import MappingConfig

SETTINGS = ("graph", "subgraph", "node")
ENGINES = ("simulation", "processes", "inprocess")
STRATEGIES = ("fedavg", "fedavgm", "fedadam")
CLIENT_OPTIMIZERS = ("adam", "sgd")
WEIGHT_DECAY_MODES = ("decoupled", "l2")
SUBGRAPH_METHODS = ("louvain", "region_growing")


@dataclasses.dataclass(frozen=True)
class FederatedConfig(MappingConfig):
  """How a model is trained with federated averaging.

  Attributes:
    setting: "graph" (each client holds whole graphs of a TU dataset), "subgraph" (each
      client holds one community of a large graph; edges between clients are lost) or
      "node" (each client holds the ego-networks of its labelled nodes).
    num_clients: K, the number of clients.
    rounds: R, federated rounds.
    local_epochs: passes over its own data a client makes per round.
    batch_size: graphs per local step (graph setting).
    learning_rate: the client optimizer's learning rate.
    client_optimizer: "adam" or "sgd" (with `client_momentum`). The client optimizer is
      rebuilt every round (FedAvg clients are stateless), so Adam's moments restart at
      zero and its first steps are sign steps, Delta w ~ -lr * sign(g), of full size on
      every weight, including those whose gradient is only weight decay or dropout noise;
      SGD's step -lr * g is proportional to the client's gradient (see docs/federated.md).
    client_momentum: SGD momentum (heavy ball) within a round.
    weight_decay_mode: how the model spec's weight_decay lambda is applied by clients:
      "decoupled" (W <- W - lr * lambda * W after each step, AdamW) or "l2" (a loss term
      lambda/2 ||W||^2 through the optimizer; with stateless Adam clients it turns into
      sign steps that erase what other clients learnt: see `client.LocalTraining`).
    iid: graph setting: uniform random split of the training graphs (True) or
      Dirichlet label skew (False).
    alpha: Dirichlet concentration of the label skew (smaller = more skewed).
    min_client_examples: Dirichlet split: redraw until each client has this many graphs.
    subgraph_method: "louvain" (community detection, FedGraphNN / FedSage style) or
      "region_growing" (METIS-like balanced greedy graph growing).
    ego_hops: node setting: radius of each ego-network.
    strategy: server aggregation: "fedavg", "fedavgm" (server momentum) or "fedadam".
    server_learning_rate: fedavgm's server step (1.0 with momentum 0 is plain FedAvg).
    server_momentum: fedavgm's momentum.
    server_eta / server_tau: fedadam's server step size and adaptivity.
    fraction_fit: fraction of the available clients sampled each round.
    min_fit_clients: a round needs at least this many clients to train.
    min_available_clients: the server waits until this many clients are connected.
    accept_failures: aggregate a round whose some clients failed (the rest count).
    round_timeout: seconds the processes engine waits for a client's update (None: forever).
    eval_every: rounds between server-side evaluations of the global model.
    fold: TU fold whose training graphs are partitioned and whose test graphs evaluate.
    seeds: seeds to run (the report gives the mean and std over them).
    engine: "simulation" (Flower's simulation engine, Ray), "processes" (a server process
      and one process per client over loopback gRPC) or "inprocess" (the TFF-style
      `initialize()` / `next()` loop with the same client and strategy code).
    address: host:port of the processes engine's server.
    checkpoint_dir: where the global model is checkpointed every round (None: OUT/checkpoint).
    quantization: None (FP32) or a `QuantizationConfig` mapping (e.g. {"method": "dq",
      "weight_bits": 8, "activation_bits": 8}): clients then train the fake-quant model
      quantization-aware (Degree-Quant with method dq); weights and quantiser ranges are
      averaged by the server, and the saved global model exports to full int8.
  """
  SECTION: ClassVar[str] = "federated"
  setting: str = "subgraph"
  num_clients: int = 5
  rounds: int = 100
  local_epochs: int = 1
  batch_size: int = 32
  learning_rate: float = 0.01
  client_optimizer: str = "adam"
  client_momentum: float = 0.0
  weight_decay_mode: str = "decoupled"
  iid: bool = True
  alpha: float = 0.5
  min_client_examples: int = 10
  subgraph_method: str = "louvain"
  ego_hops: int = 2
  strategy: str = "fedavg"
  server_learning_rate: float = 1.0
  server_momentum: float = 0.0
  server_eta: float = 0.01
  server_tau: float = 1e-3
  fraction_fit: float = 1.0
  min_fit_clients: int = 1
  min_available_clients: int = 1
  accept_failures: bool = True
  round_timeout: Optional[float] = None
  eval_every: int = 1
  fold: int = 0
  seeds: tuple[int, ...] = (0,)
  engine: str = "simulation"
  address: str = "127.0.0.1:9092"
  checkpoint_dir: Optional[str] = None
  quantization: Optional[dict] = None

  def __post_init__(self):
    for name, valid in (("setting", SETTINGS), ("engine", ENGINES), ("strategy", STRATEGIES),
                        ("subgraph_method", SUBGRAPH_METHODS),
                        ("client_optimizer", CLIENT_OPTIMIZERS),
                        ("weight_decay_mode", WEIGHT_DECAY_MODES)):
      if getattr(self, name) not in valid:
        raise ValueError(f"federated.{name}: unknown {getattr(self, name)!r}; expected one "
                         f"of {', '.join(valid)}.")
    for name in ("num_clients", "rounds", "local_epochs", "batch_size", "ego_hops",
                 "min_fit_clients", "min_available_clients", "eval_every"):
      if getattr(self, name) < 1:
        raise ValueError(f"federated.{name} must be >= 1, got {getattr(self, name)}.")
    if self.min_client_examples < 0 or not 0 <= self.fold < 10:
      raise ValueError("federated.min_client_examples must be >= 0 and federated.fold in 0..9.")
    for name in ("learning_rate", "alpha", "server_learning_rate", "server_eta", "server_tau"):
      if getattr(self, name) <= 0:
        raise ValueError(f"federated.{name} must be > 0, got {getattr(self, name)}.")
    if not 0 <= self.client_momentum < 1:
      raise ValueError(f"federated.client_momentum must be in [0, 1), got {self.client_momentum}.")
    if not 0 <= self.server_momentum < 1:
      raise ValueError(f"federated.server_momentum must be in [0, 1), got {self.server_momentum}.")
    if not 0 < self.fraction_fit <= 1:
      raise ValueError(f"federated.fraction_fit must be in (0, 1], got {self.fraction_fit}.")
    if self.min_fit_clients > self.num_clients or self.min_available_clients > self.num_clients:
      raise ValueError(
          f"federated.min_fit_clients ({self.min_fit_clients}) and min_available_clients "
          f"({self.min_available_clients}) cannot exceed num_clients ({self.num_clients}); "
          "lower them (below num_clients to tolerate crashed clients).")
    if self.min_fit_clients > self.min_available_clients:
      raise ValueError("federated.min_fit_clients must be <= min_available_clients (Flower "
                       "samples fit clients among the available ones).")
    if self.round_timeout is not None and self.round_timeout <= 0:
      raise ValueError("federated.round_timeout must be > 0 seconds or null.")
    if not self.seeds:
      raise ValueError("federated.seeds must list at least one seed.")
    object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
    if self.quantization is not None:
      config = self.quantization_config
      if config.method == "ptq":
        raise ValueError("federated.quantization.method ptq is post-training: federate the "
                         "FP32 model and add a ptq stage; use dq or qat here.")
      object.__setattr__(self, "quantization", config.to_dict())

  @property
  def quantization_config(self):
    """The `QuantizationConfig` of `quantization` (None for FP32)."""
    if self.quantization is None:
      return None
    from edgegnn.quantization.config import QuantizationConfig  # pylint: disable=g-import-not-at-top
    return QuantizationConfig.from_dict(dict(self.quantization), "federated.quantization")

