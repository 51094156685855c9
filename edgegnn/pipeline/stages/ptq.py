"""Stage kind ptq: post-training quantization of a trained float model, its ranges
calibrated on training graphs."""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Mapping, Optional

from edgegnn.pipeline import registry
from edgegnn.pipeline.context import StageContext, model_entry
from edgegnn.pipeline.stages.base import PipelineContext, Stage, with_quantization_method
from edgegnn.quantization.config import QuantizationConfig


@dataclasses.dataclass(frozen=True)
class PtqStage(Stage):
  """Post-training quantization of a trained float model, calibrated on training graphs.

  Attributes:
    name: the quantized model's name.
    model: the float model's stage name.
    quantization: the `QuantizationConfig` mapping (bits; method is ptq).
    calibration_graphs: training graphs used to set ranges (graph tasks).
  """
  kind: ClassVar[str] = "ptq"
  name: str
  model: str
  quantization: QuantizationConfig = dataclasses.field(
      default_factory=lambda: QuantizationConfig("ptq"))
  calibration_graphs: int = 100

  @classmethod
  def from_dict(cls, values: Optional[Mapping[str, Any]] = None, where: Optional[str] = None):
    """As `Stage.from_dict`, with `quantization.method` ptq."""
    return super().from_dict(with_quantization_method(values, "ptq", cls.kind, where), where)

  def __post_init__(self):
    if self.quantization.method != "ptq":
      raise ValueError(f"quantization.method must be ptq, got {self.quantization.method!r}.")
    if self.calibration_graphs < 1:
      raise ValueError(f"calibration_graphs must be >= 1, got {self.calibration_graphs}.")

  @property
  def model_quantization(self) -> QuantizationConfig:
    return self.quantization

  def check_context(self, context: PipelineContext) -> None:
    """Raises ValueError if the model it reads has no quantized form."""
    source = context.earlier[self.model]
    if source.builds_cpf_student:
      raise ValueError(f"model {self.model!r} is a CPF student, which has no quantized form; "
                       "export it as tflite-dynamic-int8 (int8 weights) instead.")

  def requires(self) -> list[str]:
    return [self.model]

  def describe(self) -> str:
    return (f"{self.quantization.label} of model {self.model}, ranges calibrated on "
            "training graphs")


def run(ctx: StageContext, stage: PtqStage) -> dict[str, Any]:
  """Quantizes every run of the source model and evaluates it on each split."""
  # pylint: disable=g-import-not-at-top
  from edgegnn.models import feeds
  from edgegnn.models.saving import ModelMeta, load_trained, save_trained
  from edgegnn.quantization import calibration
  from edgegnn.training import accuracy, make_task, predict
  dataset, quantization = ctx.dataset, stage.quantization
  source = ctx.model_entry_of(stage.model)
  graph = dataset.task == "graph"
  runs = []
  for source_run in source["runs"]:
    float_model, meta = load_trained(ctx.out / source_run["path"], batched=graph)
    meta = ModelMeta(meta.spec, meta.dataset, meta.task, meta.num_features, meta.num_classes,
                     extra=ctx.meta_extra({"quantization": quantization.to_dict()}))
    model = meta.build("sparse", batched=graph)
    calibration.transfer_float_weights(float_model, model)
    task = make_task(dataset, source_run["fold"])
    names = feeds.model_input_names(model)
    if not graph:
      calibration.calibrate(model, [feeds.select(task.full_feed(), names)])
    else:
      index = task.split("train")[: stage.calibration_graphs]
      calibration.calibrate(model, [feeds.select(f, names) for f, _ in task.batches(index, 32)])
    metrics = {"seed": source_run["seed"], "fold": source_run["fold"]}
    for split in ("train", "val", "test"):
      index = task.split(split)
      if index is None or not len(index):
        continue
      logits = predict(model, task, index) if graph else predict(model, task)[index]
      metrics[f"{split}_accuracy"] = accuracy(logits, task.labels[index])
    directory = ctx.model_dir(stage.name, source_run["seed"], source_run["fold"])
    save_trained(directory, model, meta)
    runs.append(dict(metrics, path=ctx.relative(directory)))
  return {"models": [model_entry(stage.name, meta.spec.architecture, quantization,
                                 int(model.count_params()), runs, source["seeds"],
                                 source["folds"])]}


registry.register(PtqStage, run)
