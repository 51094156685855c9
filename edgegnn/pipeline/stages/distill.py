"""Stage kind distill: a student trained from a teacher stage's model with one method of
`edgegnn.distill` (kd, lsp, glnn, cpf, gnn-sd on node datasets; gfkd on graph datasets).

The `distill:` section is built as its method's own config dataclass
(`edgegnn.distill.config.METHOD_CONFIGS`), so an option of another method (`method: kd`
with `gfkd_graphs: 512`) fails when the file loads, naming both methods.
"""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Optional

from edgegnn.distill.config import DistillConfig
from edgegnn.models.spec import ModelSpec
from edgegnn.pipeline import registry
from edgegnn.pipeline.context import StageContext, model_entry
from edgegnn.pipeline.stages.base import PipelineContext, Stage, check_seeds
from edgegnn.quantization.config import QuantizationConfig


@dataclasses.dataclass(frozen=True)
class DistillStage(Stage):
  """Trains a student from a teacher stage's model (stage kind distill).

  Every seed's student distils from the teacher run of the same seed (the teacher's first
  run if it has none). On a graph dataset the stage runs seeds x the folds the teacher ran
  (its `train.folds`): each student distils from the teacher run of the same seed and fold
  and is tested on that fold's test graphs.

  Attributes:
    name: the student's name.
    distill: the `edgegnn.distill.DistillConfig` mapping: `method` (kd, lsp, glnn, cpf,
      gnn-sd, gfkd) and that method's options (its `METHOD_CONFIGS` dataclass).
    student: the student's `ModelSpec` mapping. Optional for the methods that build their
      own: glnn (default: the `GLNN_STUDENT` MLP; a given spec must be an mlp) and cpf
      (default: CPF's label propagation + feature transformation student, options
      distill.cpf_*; it is bound to the dataset's graph and exports in the sparse layout,
      in float formats only). gfkd needs one (e.g. a gin with batch_norm false).
    teacher: the teacher's stage name (omit for gnn-sd, which has no teacher).
    quantization: optional `QuantizationConfig` mapping: the student is then trained
      quantization-aware (e.g. a Degree-Quant INT8 student distilled from an FP32 teacher;
      not for cpf's own student).
    seeds: student seeds.
  """
  kind: ClassVar[str] = "distill"
  name: str
  distill: DistillConfig
  student: Optional[ModelSpec] = None
  teacher: Optional[str] = None
  quantization: Optional[QuantizationConfig] = None
  seeds: tuple[int, ...] = (0,)

  def __post_init__(self):
    from edgegnn.distill import methods  # pylint: disable=g-import-not-at-top
    method = methods.get(self.distill.method)
    builders = [m for m in methods.METHODS if methods.get(m).builds_student]
    if self.student is None and not method.builds_student:
      raise ValueError(f"method {method.name} needs `student: <model mapping>` (e.g. "
                       f"{{architecture: gin, batch_norm: false}}); only "
                       f"{', '.join(builders)} build their own student.")
    if method.name == "glnn" and self.model_spec.architecture != "mlp":
      raise ValueError(f"student: glnn distils into an MLP student; got architecture "
                       f"{self.model_spec.architecture!r}. Use architecture mlp, or method kd "
                       "for a GNN student.")
    if method.needs_teacher and not self.teacher:
      raise ValueError(f"method {method.name} needs `teacher: <stage name>`.")
    check_seeds(self.seeds)
    if self.quantization is not None and self.builds_cpf_student:
      raise ValueError("quantization: the CPF student (built by method cpf when `student:` is "
                       "omitted) has no quantization-aware form; remove `quantization:`, or "
                       "give a `student:` model to train quantized.")

  @property
  def model_spec(self) -> Optional[ModelSpec]:
    """The student's spec: `student`, glnn's default MLP, or None for CPF's own student."""
    if self.student is not None or self.distill.method != "glnn":
      return self.student
    from edgegnn.distill import GLNN_STUDENT  # pylint: disable=g-import-not-at-top
    return GLNN_STUDENT

  @property
  def model_quantization(self) -> Optional[QuantizationConfig]:
    return self.quantization

  @property
  def builds_cpf_student(self) -> bool:
    """The student is CPF's own (method cpf without `student:`), not a zoo model."""
    return self.student is None and self.distill.method == "cpf"

  def requires(self) -> list[str]:
    return [self.teacher] if self.teacher else []

  def check_context(self, context: PipelineContext) -> None:
    """Raises ValueError if the method is not for the dataset's task, or an option needs a
    kind of teacher the teacher stage does not train: gfkd_feature_support reads the
    node-type mix from a GIN teacher's first batch-norm layer."""
    from edgegnn.distill import methods  # pylint: disable=g-import-not-at-top
    method = methods.get(self.distill.method)
    if method.task != context.task:
      fitting = [m for m in methods.METHODS if methods.get(m).task == context.task]
      raise ValueError(
          f"method {method.name} is for {method.task} classification, but dataset "
          f"{context.dataset} is a {context.task}-classification dataset. Use method "
          f"{', '.join(fitting)} on {context.dataset}, or run {method.name} in a pipeline on "
          f"a {method.task}-classification dataset ({', '.join(_datasets_of(method.task))}).")
    if self.teacher and self.distill.gfkd_feature_support:
      from edgegnn.distill.config import FEATURE_SUPPORT_TEACHER  # pylint: disable=g-import-not-at-top
      spec = context.earlier[self.teacher].model_spec
      if spec is None or spec.architecture != "gin" or not spec.batch_norm:
        got = (f"architecture {spec.architecture!r}, batch_norm {spec.batch_norm}" if spec
               else "no model spec")
        raise ValueError(
            f"{FEATURE_SUPPORT_TEACHER}; teacher {self.teacher!r} has {got}. Set "
            "gfkd_feature_support to 0, or train the teacher as a GIN with batch norm.")

  def describe(self) -> str:
    from edgegnn.distill import methods  # pylint: disable=g-import-not-at-top
    c, s = self.distill, self.model_spec
    student = (f"a CPF student ({c.cpf_steps} propagation steps)" if s is None else
               f"{s.architecture} ({s.hidden_units} units"
               + (f", {self.quantization.label}" if self.quantization else "") + ")")
    folds = (f" x the folds of {self.teacher}"
             if methods.get(c.method).task == "graph" else "")
    return (f"{c.method} from {self.teacher or 'itself'} into {student}, {c.epochs} epochs "
            f"max, seeds {list(self.seeds)}{folds}")


def _datasets_of(task: str) -> list[str]:
  """The shipped datasets of `task`."""
  from edgegnn.data import registry as datasets  # pylint: disable=g-import-not-at-top
  return [name for name in datasets.available_datasets() if datasets.task_of(name) == task]


def run(ctx: StageContext, stage: DistillStage) -> dict[str, Any]:
  """Distils a student for every seed (x the teacher's folds on a graph dataset)."""
  # pylint: disable=g-import-not-at-top
  import tensorflow as tf
  from edgegnn.distill import distill
  from edgegnn.distill.distill import cpf_student_arguments
  from edgegnn.models import build_model
  from edgegnn.models.saving import ModelMeta, save_trained
  dataset, quantization = ctx.dataset, stage.quantization
  config, spec = stage.distill, stage.model_spec
  extra = {"quantization": quantization.to_dict()} if quantization else {}
  extra["distill"] = {"method": config.method, "teacher": stage.teacher}
  extra = ctx.meta_extra(extra)
  meta = (ModelMeta(None, dataset.name, dataset.task, dataset.num_features,
                    dataset.num_classes, extra=extra, kind="cpf",
                    arguments=cpf_student_arguments(dataset, config))
          if stage.builds_cpf_student else
          ModelMeta(spec, dataset.name, dataset.task, dataset.num_features,
                    dataset.num_classes, extra=extra))
  folds = [0]
  if dataset.task == "graph" and stage.teacher:
    folds = ctx.model_entry_of(stage.teacher)["folds"]
  runs = []
  for seed in stage.seeds:
    for fold in folds:
      teacher = ctx.teacher(stage.teacher, seed, fold)
      tf.keras.utils.set_random_seed(seed)
      student = None if spec is None else build_model(
          spec, num_features=dataset.num_features, num_classes=dataset.num_classes,
          task=dataset.task, batched=dataset.task == "graph", quantization=quantization)
      result = distill(teacher, student, dataset, config, seed=seed, fold=fold,
                       progress=ctx.progress)
      directory = ctx.model_dir(stage.name, seed, fold)
      save_trained(directory, result.model, meta)
      metrics = {k: v for k, v in result.metrics.items() if isinstance(v, (int, float, str))}
      runs.append(dict(metrics, seed=seed, fold=fold, path=ctx.relative(directory)))
  entry = model_entry(stage.name, spec.architecture if spec else "cpf", quantization,
                      int(result.model.count_params()), runs, list(stage.seeds), list(folds))
  entry.update(method=f"{config.method}" + (f"+{quantization.method}" if quantization else ""),
               teacher=stage.teacher)
  return {"models": [entry]}


registry.register(DistillStage, run)
