"""Stage kind federated: a model trained by federated averaging across clients that keep
their graphs (`edgegnn.federated`)."""
from __future__ import annotations

import dataclasses
import pathlib
from typing import Any, ClassVar

from edgegnn.federated.config import FederatedConfig
from edgegnn.models.spec import ModelSpec
from edgegnn.pipeline import registry
from edgegnn.pipeline.context import StageContext, model_entry
from edgegnn.pipeline.stages.base import Stage


@dataclasses.dataclass(frozen=True)
class FederatedStage(Stage):
  """Trains a model by federated averaging across clients that keep their graphs.

  Attributes:
    name: the global model's name (an export stage can ship it, e.g. full int8 when
      `federated.quantization` trains the clients with Degree-Quant).
    model: the `ModelSpec` mapping.
    federated: the `edgegnn.federated.FederatedConfig` mapping (setting subgraph / graph /
      node, num_clients, rounds, local_epochs, strategy, engine, seeds, quantization, ...).
  """
  kind: ClassVar[str] = "federated"
  name: str
  model: ModelSpec = dataclasses.field(default_factory=ModelSpec)
  federated: FederatedConfig = dataclasses.field(default_factory=FederatedConfig)

  @property
  def model_spec(self) -> ModelSpec:
    return self.model

  @property
  def model_quantization(self):
    return self.federated.quantization_config

  def describe(self) -> str:
    c, m = self.federated, self.model
    return (f"{m.architecture} on {c.num_clients} {c.setting}-level clients, {c.strategy}, "
            f"{c.rounds} rounds x {c.local_epochs} local epochs, {c.engine} engine"
            + (" (Degree-Quant clients)" if c.quantization else "")
            + f", seeds {list(c.seeds)}")


def run(ctx: StageContext, stage: FederatedStage) -> dict[str, Any]:
  """Runs the federation once per seed and saves each global model."""
  from edgegnn.federated import run_federated  # pylint: disable=g-import-not-at-top
  from edgegnn.models.saving import load_trained  # pylint: disable=g-import-not-at-top
  dataset, config = ctx.dataset, stage.federated
  quantization = config.quantization_config
  runs, params = [], 0
  for seed in config.seeds:
    directory = ctx.model_dir(stage.name, seed, config.fold)
    result = run_federated(stage.model, dataset, config, seed, directory,
                           log=ctx.log if ctx.progress else (lambda _: None))
    model_path = pathlib.Path(result["model_path"])
    runs.append({"seed": seed, "fold": config.fold,
                 "test_accuracy": result["test_accuracy"],
                 "val_accuracy": result["val_accuracy"],
                 "client_subgraph_test_accuracy": result["client_subgraph_test_accuracy"],
                 "rounds_completed": result["rounds_completed"],
                 "failures": result["failures"], "seconds": result["seconds"],
                 "path": ctx.relative(model_path)})
    if not params:
      params = int(load_trained(model_path, batched=dataset.task == "graph")[0].count_params())
  entry = model_entry(stage.name, stage.model.architecture, quantization, params, runs,
                      list(config.seeds), [config.fold])
  entry.update(method=f"fedavg-{config.setting}" + (f"+{quantization.method}"
                                                    if quantization else ""),
               federated={"setting": config.setting, "clients": config.num_clients,
                          "rounds": config.rounds, "strategy": config.strategy,
                          "engine": config.engine})
  return {"models": [entry]}


registry.register(FederatedStage, run)
