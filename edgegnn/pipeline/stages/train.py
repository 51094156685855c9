"""Stage kinds train, degree_quant and qat: a zoo model trained on the pipeline's dataset
for every seed (and fold), in float or quantization-aware."""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Mapping, Optional

from edgegnn.data.sampling import SamplingConfig
from edgegnn.models.spec import ModelSpec
from edgegnn.pipeline import registry
from edgegnn.pipeline.context import StageContext, model_entry
from edgegnn.pipeline.stages.base import PipelineContext, Stage, with_quantization_method
from edgegnn.quantization.config import QuantizationConfig
from edgegnn.training.config import TrainConfig


@dataclasses.dataclass(frozen=True)
class TrainStage(Stage):
  """Trains a model on the pipeline's dataset, for every seed (and fold) of `train`.

  Attributes:
    name: the model's name.
    model: the `ModelSpec` mapping.
    train: the `TrainConfig` mapping.
    sampling: the `SamplingConfig` mapping (fanouts, batch_size, inference_chunk): train on
      sampled subgraphs (`edgegnn.scale.train_sampled_model`) instead of full-batch;
      node datasets only. None: full-batch.
  """
  kind: ClassVar[str] = "train"
  name: str
  model: ModelSpec = dataclasses.field(default_factory=ModelSpec)
  train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
  sampling: Optional[SamplingConfig] = None

  def __post_init__(self):
    if self.sampling is not None and self.model.architecture != "mlp":
      self.sampling.check_model_depth(self.model.num_layers)

  @property
  def model_spec(self) -> ModelSpec:
    return self.model

  def check_context(self, context: PipelineContext) -> None:
    if self.sampling is not None and context.task == "graph":
      raise ValueError(f"sampling: {context.dataset} is a graph-classification dataset, "
                       "already trained in batches of whole graphs; remove the sampling "
                       "option (it samples neighbourhoods of nodes in one large graph).")

  def describe(self) -> str:
    s, t = self.model, self.train
    sampled = (f", sampled (fan-outs {list(self.sampling.fanouts)}, "
               f"{self.sampling.batch_size} seeds per batch)" if self.sampling else "")
    return (f"{s.architecture} ({s.num_layers} layers, {s.hidden_units} units), "
            f"{t.epochs} epochs max, seeds {list(t.seeds)}{sampled}")


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
    super().__post_init__()
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
      if quantization is not None and stage.sampling is None:
        import tensorflow as tf  # pylint: disable=g-import-not-at-top
        tf.keras.utils.set_random_seed(seed)
        model = build_model(spec, num_features=dataset.num_features,
                            num_classes=dataset.num_classes, task=dataset.task,
                            batched=dataset.task == "graph", quantization=quantization)
      if stage.sampling is not None:
        result = _train_sampled(ctx, stage, seed, directory)
      else:
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


def _train_sampled(ctx: StageContext, stage: TrainStage, seed: int, directory):
  """`train_sampled_model`'s result, its model rebuilt in the sparse layout (what
  `save_trained` stores and `load_trained` rebuilds every layout from)."""
  from edgegnn.models import build_model, transfer_weights  # pylint: disable=g-import-not-at-top
  from edgegnn.scale import train_sampled_model  # pylint: disable=g-import-not-at-top
  dataset, quantization = ctx.dataset, stage.model_quantization
  result = train_sampled_model(stage.model, dataset, stage.sampling, stage.train, seed=seed,
                               quantization=quantization,
                               checkpoint_dir=str(directory / "checkpoint"),
                               progress=ctx.progress)
  sparse = build_model(stage.model, num_features=dataset.num_features,
                       num_classes=dataset.num_classes, task=dataset.task,
                       quantization=quantization)
  return dataclasses.replace(result, model=transfer_weights(result.model, sparse))


registry.register(TrainStage, run)
registry.register(QuantizedTrainStage, run)
registry.register(QatStage, run)
