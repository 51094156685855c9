"""The stage kinds of a pipeline file, each a frozen dataclass that checks its own options
in `__post_init__` (ValueError naming the key). The checks that need the dataset or an earlier
stage (`check_task`, `check_source`) are called by `edgegnn.pipeline.config.parse`.
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Union

from edgegnn.models.spec import LAYOUTS, ModelSpec
from edgegnn.training.config import TrainConfig


class _Stage:
  """What every stage kind shares: it produces the model called `name` and reads no earlier
  stage's model unless its `requires` says so."""

  @property
  def produces(self) -> str:
    return self.name

  def requires(self) -> list[str]:
    return []


# Bounds of the latency benchmark settings: checked when the file loads, so a bad one
# never fails after training with the artifact half-written.
MAX_BENCH_RUNS = 100_000
MAX_BENCH_THREADS = 256


def _check_bench(where: str, runs: int, warmup: int, threads: int) -> None:
  if not 1 <= runs <= MAX_BENCH_RUNS:
    raise ValueError(f"{where}.bench_runs must be in 1..{MAX_BENCH_RUNS}, got {runs}.")
  if not 0 <= warmup <= MAX_BENCH_RUNS:
    raise ValueError(f"{where}.bench_warmup must be in 0..{MAX_BENCH_RUNS}, got {warmup}.")
  if not 1 <= threads <= MAX_BENCH_THREADS:
    raise ValueError(f"{where}.bench_threads must be in 1..{MAX_BENCH_THREADS}, got {threads}.")


@dataclasses.dataclass(frozen=True)
class TrainStage(_Stage):
  """Trains a model on the pipeline's dataset, for every seed (and fold) of `train`."""
  name: str
  model: dict = dataclasses.field(default_factory=dict)
  train: dict = dataclasses.field(default_factory=dict)

  def __post_init__(self):
    object.__setattr__(self, "model_spec", ModelSpec.from_dict(self.model, f"{self.name}.model"))
    object.__setattr__(self, "train_config",
                       TrainConfig.from_dict(self.train, f"{self.name}.train"))

  def to_dict(self) -> dict:
    return {"train": {"name": self.name, "model": self.model_spec.to_dict(),
                      "train": self.train_config.to_dict()}}


@dataclasses.dataclass(frozen=True)
class QuantizedTrainStage(TrainStage):
  """Quantization-aware training of a model from scratch (stage kinds degree_quant, qat).

  Attributes:
    name: the model's name.
    model: the `ModelSpec` mapping.
    train: the `TrainConfig` mapping.
    quantization: the `QuantizationConfig` mapping (weight_bits, activation_bits, p_min,
      p_max, percentile, momentum); its method is the stage kind's.
  """
  quantization: dict = dataclasses.field(default_factory=dict)
  kind = "degree_quant"
  method = "dq"

  def __post_init__(self):
    from edgegnn.quantization import QuantizationConfig
    super().__post_init__()
    where = f"{self.kind}({self.name})"
    raw = dict(self.quantization)
    if raw.get("method", self.method) != self.method:
      raise ValueError(f"{where}.quantization.method is {raw['method']!r}, but a {self.kind} "
                       f"stage trains with method {self.method!r}; use that stage kind.")
    raw["method"] = self.method
    object.__setattr__(self, "quantization_config",
                       QuantizationConfig.from_dict(raw, f"{where}.quantization"))
    if self.model_spec.architecture == "edgeconv":
      raise ValueError(f"{where}.model: edgeconv has no quantized form; use gcn, gat, sage, "
                       "gin, mp or mlp.")

  def to_dict(self) -> dict:
    return {self.kind: {"name": self.name, "model": self.model_spec.to_dict(),
                        "train": self.train_config.to_dict(),
                        "quantization": self.quantization_config.to_dict()}}


@dataclasses.dataclass(frozen=True)
class QatStage(QuantizedTrainStage):
  """Plain quantization-aware training: min/max momentum ranges, no protective mask."""
  kind = "qat"
  method = "qat"


@dataclasses.dataclass(frozen=True)
class PtqStage(_Stage):
  """Post-training quantization of a trained float model, calibrated on training graphs.

  Attributes:
    name: the quantized model's name.
    model: the float model's stage name.
    quantization: the `QuantizationConfig` mapping (bits; method is ptq).
    calibration_graphs: training graphs used to set ranges (graph tasks).
  """
  name: str
  model: str
  quantization: dict = dataclasses.field(default_factory=dict)
  calibration_graphs: int = 100

  def __post_init__(self):
    from edgegnn.quantization import QuantizationConfig
    raw = dict(self.quantization)
    if raw.get("method", "ptq") != "ptq":
      raise ValueError(f"ptq({self.name}).quantization.method must be ptq.")
    raw["method"] = "ptq"
    object.__setattr__(self, "quantization_config",
                       QuantizationConfig.from_dict(raw, f"ptq({self.name}).quantization"))
    if self.calibration_graphs < 1:
      raise ValueError(f"ptq({self.name}).calibration_graphs must be >= 1.")

  def check_source(self, source) -> None:
    """Raises ValueError if the model of stage `source` has no quantized form."""
    if getattr(source, "builds_cpf_student", False):
      raise ValueError(f"ptq({self.name}): model {self.model!r} is a CPF student, which has "
                       "no quantized form; export it as tflite-dynamic-int8 (int8 weights) "
                       "instead.")

  def requires(self) -> list[str]:
    return [self.model]

  def to_dict(self) -> dict:
    return {"ptq": {"name": self.name, "model": self.model,
                    "quantization": self.quantization_config.to_dict(),
                    "calibration_graphs": self.calibration_graphs}}


@dataclasses.dataclass(frozen=True)
class DistillStage(_Stage):
  """Trains a student from a teacher stage's model (stage kind distill), with any method of
  `edgegnn.distill`: kd, lsp, glnn, cpf, gnn-sd on node datasets; gfkd on graph datasets.

  Every seed's student distils from the teacher run of the same seed (the teacher's first
  run if it has none). On a graph dataset the stage runs seeds x the folds the teacher ran
  (its `train.folds`): each student distils from the teacher run of the same seed and fold
  and is tested on that fold's test graphs.

  Attributes:
    name: the student's name.
    teacher: the teacher's stage name (omit for gnn-sd, which has no teacher).
    student: the student's `ModelSpec` mapping. Optional for the methods that build their
      own: glnn (default: the `GLNN_STUDENT` MLP; a given spec must be an mlp) and cpf
      (default: CPF's label propagation + feature transformation student, options
      distill.cpf_*; it is bound to the dataset's graph and exports in the sparse layout,
      in float formats only). gfkd needs one (e.g. a gin with batch_norm false).
    distill: the `edgegnn.distill.DistillConfig` mapping (method kd, lsp, glnn, cpf, gnn-sd,
      gfkd).
    quantization: optional `QuantizationConfig` mapping: the student is then trained
      quantization-aware (e.g. a Degree-Quant INT8 student distilled from an FP32 teacher;
      not for cpf's own student).
    seeds: student seeds.
  """
  name: str
  distill: dict
  student: Optional[dict] = None
  teacher: Optional[str] = None
  quantization: Optional[dict] = None
  seeds: tuple[int, ...] = (0,)

  def __post_init__(self):
    from edgegnn.distill import GLNN_STUDENT, DistillConfig, methods
    where = f"distill({self.name})"
    config = DistillConfig.from_dict(self.distill, f"{where}.distill")
    object.__setattr__(self, "distill_config", config)
    method = methods.get(config.method)
    builders = [m for m in methods.METHODS if methods.get(m).builds_student]
    if self.student is None and not method.builds_student:
      raise ValueError(f"{where}: method {method.name} needs `student: <model mapping>` "
                       f"(e.g. {{architecture: gin, batch_norm: false}}); only "
                       f"{', '.join(builders)} build their own student.")
    spec = (ModelSpec.from_dict(self.student, f"{where}.student") if self.student is not None
            else GLNN_STUDENT if method.name == "glnn" else None)
    if method.name == "glnn" and spec.architecture != "mlp":
      raise ValueError(f"{where}.student: glnn distils into an MLP student; got architecture "
                       f"{spec.architecture!r}. Use architecture mlp, or method kd for a GNN "
                       "student.")
    object.__setattr__(self, "model_spec", spec)
    if method.needs_teacher and not self.teacher:
      raise ValueError(f"{where}: method {method.name} needs `teacher: <stage name>`.")
    if not self.seeds:
      raise ValueError(f"{where}.seeds must list at least one seed.")
    quantization = None
    if self.quantization is not None:
      if self.builds_cpf_student:
        raise ValueError(f"{where}.quantization: the CPF student (built by method cpf when "
                         "`student:` is omitted) has no quantization-aware form; remove "
                         "`quantization:`, or give a `student:` model to train quantized.")
      from edgegnn.quantization import QuantizationConfig
      quantization = QuantizationConfig.from_dict(self.quantization, f"{where}.quantization")
    object.__setattr__(self, "quantization_config", quantization)

  @property
  def builds_cpf_student(self) -> bool:
    """The student is CPF's own (method cpf without `student:`), not a zoo model."""
    return self.model_spec is None

  def check_task(self, dataset: str, task: str) -> None:
    """Raises ValueError if the method is not for `dataset`'s task ("node" or "graph")."""
    from edgegnn.distill import methods
    method = methods.get(self.distill_config.method)
    if method.task == task:
      return
    fitting = [m for m in methods.METHODS if methods.get(m).task == task]
    raise ValueError(
        f"distill({self.name}): method {method.name} is for {method.task} classification, "
        f"but dataset {dataset} is a {task}-classification dataset. Use method "
        f"{', '.join(fitting)} on {dataset}, or run {method.name} in a pipeline on a "
        f"{method.task}-classification dataset ({', '.join(_datasets_of(method.task))}).")

  def check_teacher(self, teacher: "Stage") -> None:
    """Raises ValueError if an option needs a kind of teacher that `teacher` does not
    train: gfkd_feature_support reads the node-type mix from a GIN teacher's first
    batch-norm layer (`fake_graphs.teacher_feature_mix`)."""
    if not self.distill_config.gfkd_feature_support:
      return
    from edgegnn.distill.fake_graphs import FEATURE_SUPPORT_TEACHER
    spec = getattr(teacher, "model_spec", None)
    if spec is None or spec.architecture != "gin" or not spec.batch_norm:
      got = (f"architecture {spec.architecture!r}, batch_norm {spec.batch_norm}" if spec
             else "no model spec")
      raise ValueError(
          f"distill({self.name}): {FEATURE_SUPPORT_TEACHER}; teacher {self.teacher!r} has "
          f"{got}. Set gfkd_feature_support to 0, or train the teacher as a GIN with batch "
          "norm.")

  def requires(self) -> list[str]:
    return [self.teacher] if self.teacher else []

  def to_dict(self) -> dict:
    return {"distill": {"name": self.name, "teacher": self.teacher,
                        "student": self.model_spec.to_dict() if self.model_spec else None,
                        "distill": dataclasses.asdict(self.distill_config),
                        "quantization": self.quantization_config.to_dict()
                        if self.quantization_config else None, "seeds": list(self.seeds)}}


def _datasets_of(task: str) -> list[str]:
  """The shipped datasets of `task`."""
  from edgegnn.data import registry
  return [name for name in registry.available_datasets() if registry.task_of(name) == task]


@dataclasses.dataclass(frozen=True)
class ExportStage(_Stage):
  """Converts a trained model to artifacts, verifies and benchmarks each one.

  Attributes:
    model: name of the stage whose model is exported.
    name: prefix of the artifact names (default: the model's name).
    layout: sparse, dense or neighbors.
    capacity: node capacity of dense artifacts (default: the largest graph of the dataset).
    max_neighbors: in-neighbour slots per node of neighbors artifacts (default: the
      dataset's largest in-degree).
    formats: tflite-float32, tflite-float16, tflite-dynamic-int8, tflite-int8, lce.
    target: mobile, arm-linux or mcu (None: no device check).
    agreement_floor_float / agreement_floor_int8: verification floors.
    bench_runs / bench_warmup / bench_threads: latency benchmark settings.
    representative_graphs: training graphs used to calibrate tflite-int8.
    integer_io: tflite-int8 with int8 inputs/outputs (the app passes quantized features;
      None: int8 for target mcu, float otherwise).
    features: how the artifact takes node features: dense (`node_features` [N, F]), sparse
      (their non-zeros: `feature_node`, `feature_index`, `feature_value`) or binary (the
      same without values, for 0/1 features such as bag-of-words); see
      `edgegnn.layers.sparse_features`. sparse and binary: node-level gcn, sage, gat, mp
      and mlp models, float formats (their segment sums have no int8 kernel).
  """
  model: str
  name: Optional[str] = None
  layout: str = "sparse"
  capacity: Optional[int] = None
  max_neighbors: Optional[int] = None
  formats: tuple[str, ...] = ("tflite-float32",)
  target: Optional[str] = None
  agreement_floor_float: float = 0.99
  agreement_floor_int8: float = 0.97
  bench_runs: int = 50
  bench_warmup: int = 5
  bench_threads: int = 1
  representative_graphs: int = 100
  integer_io: Optional[bool] = None
  features: str = "dense"

  def __post_init__(self):
    from edgegnn.deploy.convert import FORMATS, TARGETS, _check_format_target
    where = f"export({self.model})"
    from edgegnn.models.feeds import check_feature_encoding
    check_feature_encoding(where, self.features, self.layout, self.formats, self.target)
    if self.layout not in LAYOUTS:
      raise ValueError(f"{where}.layout must be one of {LAYOUTS}, got {self.layout!r}.")
    for fmt in self.formats:
      if fmt not in FORMATS:
        raise ValueError(f"{where}.formats: unknown {fmt!r}; expected {', '.join(FORMATS)}.")
      _check_format_target(fmt, self.target)
    if self.target is not None and self.target not in TARGETS:
      raise ValueError(f"{where}.target: unknown {self.target!r}; expected {', '.join(TARGETS)}.")
    if self.target == "mcu" and self.layout == "sparse":
      raise ValueError(f"{where}: target mcu needs layout dense or neighbors (tflite-micro "
                       "has no segment-sum kernel for the sparse layout).")
    if self.integer_io and any(fmt != "tflite-int8" for fmt in self.formats):
      raise ValueError(f"{where}.integer_io applies to tflite-int8 only; formats "
                       f"{list(self.formats)} has others: export them in a separate stage.")
    if self.bench_runs < 1 or self.bench_threads < 1 or self.representative_graphs < 1:
      raise ValueError(f"{where}: bench_runs, bench_threads, representative_graphs must be >= 1.")
    _check_bench(where, self.bench_runs, self.bench_warmup, self.bench_threads)
    for key in ("capacity", "max_neighbors"):
      if getattr(self, key) is not None and getattr(self, key) < 1:
        raise ValueError(f"{where}.{key} must be >= 1 (or omitted), got {getattr(self, key)}.")
    for key in ("agreement_floor_float", "agreement_floor_int8"):
      if not 0.0 <= getattr(self, key) <= 1.0:
        raise ValueError(f"{where}.{key} must be in [0, 1], got {getattr(self, key)}.")

  def check_source(self, source) -> None:
    """Raises ValueError if the model of stage `source` cannot be exported as configured: a
    CPF student (bound to its graph's N nodes) exports in the sparse layout, float formats;
    a model with activations under 8 bits has no integer artifact."""
    from edgegnn.quantization.config import check_integer_export
    check_integer_export(getattr(source, "quantization_config", None), self.formats,
                         f"export({self.model})")
    if not getattr(source, "builds_cpf_student", False):
      return
    if self.features != "dense":
      raise ValueError(f"export({self.model}): {self.model!r} is a CPF student, bound to its "
                       "graph's dense features; use features: dense.")
    from edgegnn.distill import cpf  # pylint: disable=g-import-not-at-top
    cpf.check_export(layout=self.layout, formats=self.formats,
                     where=f"export({self.model}): {self.model!r}, a CPF student,")

  @property
  def produces(self) -> str:
    return self.name or f"{self.model}_{self.layout}"

  def requires(self) -> list[str]:
    return [self.model]

  def to_dict(self) -> dict:
    return {"export": dataclasses.asdict(self)}


@dataclasses.dataclass(frozen=True)
class BinarizeStage(_Stage):
  """Distils a teacher stage's model into a binary (Larq) model and ships it as `lce`
  (stage kind binarize).

  The staged distillation of `edgegnn.binary.binarize` (FP32 teacher -> binary weights
  -> fully binary) runs for every seed; the first seed's model is converted with the LCE
  converter for target arm-linux, verified on the LCE interpreter over the test split
  and benchmarked, like an export stage's artifact.

  Attributes:
    name: the binary model's name.
    teacher: the FP32 teacher's stage name (a train stage; omit with `staged: false`).
    binarize: the `edgegnn.binary.BinarizeConfig` mapping (binary architecture in `model`,
      epochs per stage, loss weights, staged / scratch).
    seeds: student seeds (each distils from the teacher run of the same seed, if any).
    agreement_floor: verification floor of the lce artifact against the Keras model.
    bench_runs / bench_warmup / bench_threads: latency benchmark settings.
  """
  name: str
  binarize: dict = dataclasses.field(default_factory=dict)
  teacher: Optional[str] = None
  seeds: tuple[int, ...] = (0,)
  agreement_floor: float = 0.99
  bench_runs: int = 20
  bench_warmup: int = 3
  bench_threads: int = 1

  def __post_init__(self):
    from edgegnn.binary.staged import BinarizeConfig
    where = f"binarize({self.name})"
    config = BinarizeConfig.from_dict(self.binarize, f"{where}.binarize")
    object.__setattr__(self, "binarize_config", config)
    config.spec  # validates binarize.model  # pylint: disable=pointless-statement
    if config.staged and not self.teacher:
      raise ValueError(f"{where}: the staged distillation needs `teacher: <stage name>` "
                       "(or set binarize.staged: false to train from scratch).")
    if not self.seeds:
      raise ValueError(f"{where}.seeds must list at least one seed.")
    if not 0.0 <= self.agreement_floor <= 1.0:
      raise ValueError(f"{where}.agreement_floor must be in [0, 1], got {self.agreement_floor}.")
    if self.bench_runs < 1 or self.bench_threads < 1:
      raise ValueError(f"{where}: bench_runs and bench_threads must be >= 1.")
    _check_bench(where, self.bench_runs, self.bench_warmup, self.bench_threads)

  def requires(self) -> list[str]:
    return [self.teacher] if self.teacher else []

  def to_dict(self) -> dict:
    return {"binarize": dict(dataclasses.asdict(self),
                             binarize=self.binarize_config.to_dict(), seeds=list(self.seeds))}


@dataclasses.dataclass(frozen=True)
class FederatedStage(_Stage):
  """Trains a model by federated averaging across clients that keep their graphs (stage
  kind federated).

  Attributes:
    name: the global model's name (an export stage can ship it, e.g. full int8 when
      `federated.quantization` trains the clients with Degree-Quant).
    model: the `ModelSpec` mapping.
    federated: the `edgegnn.federated.FederatedConfig` mapping (setting subgraph / graph /
      node, num_clients, rounds, local_epochs, strategy, engine, seeds, quantization, ...).
  """
  name: str
  model: dict = dataclasses.field(default_factory=dict)
  federated: dict = dataclasses.field(default_factory=dict)

  def __post_init__(self):
    from edgegnn.federated import FederatedConfig
    where = f"federated({self.name})"
    object.__setattr__(self, "model_spec", ModelSpec.from_dict(self.model, f"{where}.model"))
    object.__setattr__(self, "federated_config",
                       FederatedConfig.from_dict(self.federated, f"{where}.federated"))

  def to_dict(self) -> dict:
    return {"federated": {"name": self.name, "model": self.model_spec.to_dict(),
                          "federated": self.federated_config.to_dict()}}


STAGES = {"train": TrainStage, "degree_quant": QuantizedTrainStage, "qat": QatStage,
          "ptq": PtqStage, "distill": DistillStage, "binarize": BinarizeStage,
          "federated": FederatedStage, "export": ExportStage}
Stage = Union[TrainStage, QuantizedTrainStage, PtqStage, DistillStage, BinarizeStage,
              FederatedStage, ExportStage]
