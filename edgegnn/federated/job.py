"""A federated job: everything a server or client process needs, as one JSON file.

The processes engine writes `OUT/job.json`; the server process and each client process
read it, so all of them build the same model and the same (deterministic) partition.
`hooks` names a function `(spec, dataset, config) -> Hooks` that supplies the model
function and the client update: the FP32 default is `edgegnn.federated.job:fp32_hooks`;
a quantization-aware federation names its own.
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import pathlib
from typing import Any, Callable

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.atomic import atomic_write_text
from edgegnn.federated.client import ClientUpdate, LocalTraining
from edgegnn.federated.config import FederatedConfig
from edgegnn.models import ModelSpec, build_model

DEFAULT_HOOKS = "edgegnn.federated.job:fp32_hooks"


@dataclasses.dataclass(frozen=True)
class Hooks:
  """The injectable client side: how to build the model and how a client trains it."""
  model_fn: Callable[[], tf.keras.Model]
  client_update: ClientUpdate


def client_optimizer_fn(config: FederatedConfig) -> Callable[[], tf.keras.optimizers.Optimizer]:
  """Builds the client optimizer named by `config.client_optimizer` (fresh every round)."""
  lr, momentum = config.learning_rate, config.client_momentum
  if config.client_optimizer == "sgd":
    return lambda: tf.keras.optimizers.SGD(lr, momentum=momentum)
  return lambda: tf.keras.optimizers.Adam(lr)


def fp32_hooks(spec: ModelSpec, dataset, config: FederatedConfig) -> Hooks:
  """The zoo's training model (sparse layout) and `LocalTraining` with the config's client
  optimizer; with `config.quantization`, the fake-quant model of that method (Degree-Quant:
  protective mask + percentile ranges), trained quantization-aware by the same update."""
  quantization = config.quantization_config

  def model_fn():
    return build_model(spec, num_features=dataset.num_features, num_classes=dataset.num_classes,
                       task=dataset.task, layout="sparse", batched=dataset.task == "graph",
                       quantization=quantization)
  return Hooks(model_fn=model_fn, client_update=LocalTraining(
      client_optimizer_fn(config), local_epochs=config.local_epochs,
      batch_size=config.batch_size, weight_decay=spec.weight_decay,
      decoupled_weight_decay=config.weight_decay_mode == "decoupled"))


def resolve_hooks(name: str) -> Callable[..., Hooks]:
  module, _, attr = name.partition(":")
  if not attr:
    raise ValueError(f"hooks must be 'module:function', got {name!r}.")
  return getattr(importlib.import_module(module), attr)


@dataclasses.dataclass(frozen=True)
class FederatedJob:
  """One federated run (one seed).

  Attributes:
    spec: the model.
    dataset: dataset name, or your own graph's source mapping (`edgegnn.data.load_source`).
    config: the federation.
    seed: seed of the initial model, the partition and the clients.
    out_dir: where the checkpoint, history and final model go.
    hooks: 'module:function' returning `Hooks` (model_fn, client_update).
  """
  spec: ModelSpec
  dataset: str | dict
  config: FederatedConfig
  seed: int
  out_dir: str
  hooks: str = DEFAULT_HOOKS

  @property
  def checkpoint_dir(self) -> pathlib.Path:
    return pathlib.Path(self.config.checkpoint_dir or pathlib.Path(self.out_dir) / "checkpoint")

  def to_dict(self) -> dict[str, Any]:
    return {"spec": self.spec.to_dict(), "dataset": self.dataset,
            "config": self.config.to_dict(), "seed": self.seed, "out_dir": self.out_dir,
            "hooks": self.hooks}

  @classmethod
  def from_dict(cls, raw: dict[str, Any]) -> "FederatedJob":
    return cls(spec=ModelSpec.from_dict(raw["spec"]), dataset=raw["dataset"],
               config=FederatedConfig.from_dict(raw["config"]), seed=int(raw["seed"]),
               out_dir=raw["out_dir"], hooks=raw.get("hooks", DEFAULT_HOOKS))

  def save(self, path: str | pathlib.Path) -> None:
    atomic_write_text(path, json.dumps(self.to_dict(), indent=1))

  @classmethod
  def load(cls, path: str | pathlib.Path) -> "FederatedJob":
    return cls.from_dict(json.loads(pathlib.Path(path).read_text()))
