"""Stage kinds train, degree_quant and qat: a zoo model trained on the pipeline's dataset
for every seed (and fold), in float or quantization-aware."""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Mapping, Optional

from edgegnn.models.spec import ModelSpec
from edgegnn.pipeline import registry
from edgegnn.pipeline.context import StageContext, model_entry
from edgegnn.pipeline.stages.base import Stage, with_quantization_method
from edgegnn.quantization.config import QuantizationConfig
from edgegnn.training.config import TrainConfig


@dataclasses.dataclass(frozen=True)
class TrainStage(Stage):
  """Trains a model on the pipeline's dataset, for every seed (and fold) of `train`.

  Attributes:
    name: the model's name.
    model: the `ModelSpec` mapping.
    train: the `TrainConfig` mapping.
  """
  kind: ClassVar[str] = "train"
  name: str
  model: ModelSpec = dataclasses.field(default_factory=ModelSpec)
  train: TrainConfig = dataclasses.field(default_factory=TrainConfig)

  @property
  def model_spec(self) -> ModelSpec:
    return self.model

  def describe(self) -> str:
    s, t = self.model, self.train
    return (f"{s.architecture} ({s.num_layers} layers, {s.hidden_units} units), "
            f"{t.epochs} epochs max, seeds {list(t.seeds)}")


@dataclasses.dataclass(frozen=True)
class QuantizedTrainStage(TrainStage):
  """Quantization-aware training of a model from scratch with Degree-Quant (stage kind
  degree_quant: protective mask, percentile ranges).

  Attributes:
    name, model, train: as for train.
    quantization: the `QuantizationConfig` mapping (weight_bits, activation_bits, p_min,
      p_max, percentile, momentum); its method is the stage kind's.
  """
  kind: ClassVar[str] = "degree_quant"
  method: ClassVar[str] = "dq"
  quantization: QuantizationConfig = dataclasses.field(
      default_factory=lambda: QuantizationConfig("dq"))

  @classmethod
  def from_dict(cls, values: Optional[Mapping[str, Any]] = None, where: Optional[str] = None):
    """As `Stage.from_dict`, with `quantization.method` set to the stage kind's."""
    return super().from_dict(with_quantization_method(values, cls.method, cls.kind, where),
                             where)

  def __post_init__(self):
    if self.quantization.method != self.method:
      raise ValueError(f"quantization.method is {self.quantization.method!r}, but a "
                       f"{self.kind} stage trains with method {self.method!r}.")
    if self.model.architecture == "edgeconv":
      raise ValueError("model: edgeconv has no quantized form; use gcn, gat, sage, gin, mp "
                       "or mlp.")

  @property
  def model_quantization(self) -> QuantizationConfig:
    return self.quantization

  def describe(self) -> str:
    return f"{self.quantization.label} " + super().describe()


@dataclasses.dataclass(frozen=True)
class QatStage(QuantizedTrainStage):
  """Plain quantization-aware training (stage kind qat): min/max momentum ranges, no
  protective mask."""
  kind: ClassVar[str] = "qat"
  method: ClassVar[str] = "qat"
  quantization: QuantizationConfig = dataclasses.field(
      default_factory=lambda: QuantizationConfig("qat"))


def run(ctx: StageContext, stage: TrainStage) -> dict[str, Any]:
  """Trains every seed (x fold on a graph dataset) and saves each run's model."""
  from edgegnn.models import build_model  # pylint: disable=g-import-not-at-top
  from edgegnn.models.saving import ModelMeta, save_trained  # pylint: disable=g-import-not-at-top
  from edgegnn.training import train  # pylint: disable=g-import-not-at-top
  dataset, config, spec = ctx.dataset, stage.train, stage.model
  quantization = stage.model_quantization
  extra = {"quantization": quantization.to_dict()} if quantization else {}
  folds = config.folds if dataset.task == "graph" and dataset.num_folds > 1 else (0,)
  runs = []
  for seed in config.seeds:
    for fold in folds:
      directory = ctx.model_dir(stage.name, seed, fold)
      model = None
      if quantization is not None:
        import tensorflow as tf  # pylint: disable=g-import-not-at-top
        tf.keras.utils.set_random_seed(seed)
        model = build_model(spec, num_features=dataset.num_features,
                            num_classes=dataset.num_classes, task=dataset.task,
                            batched=dataset.task == "graph", quantization=quantization)
      result = train(spec, dataset, config, seed=seed, fold=fold,
                     checkpoint_dir=str(directory / "checkpoint"), progress=ctx.progress,
                     description=f"{stage.name} seed {seed} fold {fold}", model=model)
      meta = ModelMeta(spec, dataset.name, dataset.task, dataset.num_features,
                       dataset.num_classes, extra=ctx.meta_extra(extra))
      save_trained(directory, result.model, meta)
      runs.append(dict(result.metrics, path=ctx.relative(directory)))
      params = int(result.model.count_params())
  return {"models": [model_entry(stage.name, spec.architecture, quantization, params, runs,
                                 list(config.seeds), list(folds))]}


registry.register(TrainStage, run)
registry.register(QuantizedTrainStage, run)
registry.register(QatStage, run)
