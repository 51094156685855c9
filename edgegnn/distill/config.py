"""The `distill:` section of a pipeline file: the fields every method shares
(`DistillConfig`) plus one dataclass per method holding only that method's options.

    DistillConfig.from_dict({"method": "glnn", "alpha": 0.0})   # -> GLNNConfig
    DistillConfig(method="gfkd", gfkd_graphs=128)               # -> GFKDConfig
    METHOD_CONFIGS["lsp"]                                       # -> LSPConfig

An option of another method is an error naming both methods (`method: kd` with
`gfkd_graphs: 512` fails before anything is trained).
"""
from __future__ import annotations

import dataclasses
import difflib
from typing import Any, ClassVar, Mapping, Optional

from edgegnn.config_fields import MappingConfig, from_mapping
from edgegnn.distill import methods
from edgegnn.models.spec import ModelSpec

# The option tables the configs check against (the method modules, which need TensorFlow,
# import them from here, so a pipeline file is checked without it).
SOFT_NODES = ("all", "unlabelled", "train")
LSP_KERNELS = ("distance", "rbf", "linear", "hamming", "unit_distance")
LSP_DIRECTIONS = ("student_teacher", "teacher_student")
CPF_CONFIDENCES = ("inductive", "transductive")
SD_GATES = ("layer", "node")
# glnn's student when the stage names none (raw binary bag-of-words inputs: measured better
# than row-normalised ones for the MLP).
GLNN_STUDENT = ModelSpec("mlp", hidden_units=256, num_layers=2, dropout=0.5)
# What gfkd_feature_support asks of the teacher (the error of the pipeline's load-time check
# and of `fake_graphs.first_batch_norm_input` at run time).
FEATURE_SUPPORT_TEACHER = ("gfkd_feature_support reads the node-type mix from the teacher's "
                           "first batch-norm layer and needs a GIN teacher with "
                           "batch_norm: true")


def _at_least(config, minimum: float, *names: str) -> None:
  for name in names:
    if getattr(config, name) < minimum:
      raise ValueError(f"distill.{name} must be >= {minimum:g}, got {getattr(config, name)}.")


@dataclasses.dataclass(frozen=True)
class DistillConfig(MappingConfig):
  """How a student learns from a teacher (or from itself, gnn-sd): the fields of every
  method. `DistillConfig(method=..., ...)` and `DistillConfig.from_dict(mapping)` build the
  method's own config (`METHOD_CONFIGS`), which adds that method's options.

  Attributes:
    method: kd, lsp, glnn, cpf, gnn-sd, gfkd (or an alias; see `methods.get`).
    epochs: maximum student epochs.
    learning_rate: student Adam learning rate.
    weight_decay: L2 coefficient wd on the student's decayed variables (wd/2 * ||W||^2 over
      `edgegnn.engine.decayed_variables`: kernels and attention vectors).
  """
  SECTION: ClassVar[str] = "distill"
  METHOD: ClassVar[Optional[str]] = None
  # What code reading any distill config sees for the one gfkd option a pipeline checks
  # against its teacher: methods other than gfkd have no feature-support prior.
  gfkd_feature_support: ClassVar[float] = 0.0
  method: str = "kd"
  epochs: int = 300
  learning_rate: float = 0.01
  weight_decay: float = 5e-4

  def __new__(cls, *args, **kwargs):
    if cls is DistillConfig:
      cls = config_class(kwargs.get("method", args[0] if args else "kd"))
    check_options(cls, kwargs, "distill")
    return object.__new__(cls)

  def __post_init__(self):
    object.__setattr__(self, "method", methods.get(self.method).name)
    if self.METHOD is None:
      raise TypeError("DistillConfig is the common part; build a method's config with "
                      "DistillConfig(method=...) or DistillConfig.from_dict(...).")
    if self.method != self.METHOD:
      raise ValueError(f"distill.method {self.method!r} does not match {type(self).__name__} "
                       f"(method {self.METHOD}); build it with DistillConfig(method=...).")
    if self.epochs < 1:
      raise ValueError(f"distill.epochs must be >= 1, got {self.epochs}.")
    if self.learning_rate <= 0:
      raise ValueError(f"distill.learning_rate must be > 0, got {self.learning_rate}.")
    _at_least(self, 0, "weight_decay")

  @classmethod
  def from_dict(cls, values: Optional[Mapping[str, Any]] = None,
                where: Optional[str] = None) -> "DistillConfig":
    """The method's config from a mapping (unknown keys, wrong types and options of
    other methods rejected, naming `where`)."""
    values = dict(values or {})
    where = where or cls.SECTION
    target = cls
    if cls is DistillConfig:
      method = values.get("method", "kd")
      if not isinstance(method, str):
        raise TypeError(f"{where}.method must be a string, got {method!r}.")
      try:
        target = config_class(method)
      except ValueError as e:
        raise ValueError(f"{where}.method: {e}") from None
    check_options(target, values, where)
    return from_mapping(target, values, where)


def _fields(cls) -> list[str]:
  return [f.name for f in dataclasses.fields(cls) if f.init]


def check_options(cls, values: Mapping[str, Any], where: str) -> None:
  """Raises ValueError for a key of `values` that is not an option of `cls`'s method:
  naming the methods it belongs to, or the closest valid key."""
  own = _fields(cls)
  for key in values:
    if key in own:
      continue
    owners = [name for name, other in METHOD_CONFIGS.items() if key in _fields(other)]
    method = cls.METHOD or "?"
    if owners:
      raise ValueError(f"{where}.{key} is an option of method {', '.join(owners)}, not of "
                       f"method {method}; remove it, or set method: {owners[0]}. Options "
                       f"of method {method}: {', '.join(own)}.")
    close = difflib.get_close_matches(str(key), own, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"Unknown key {where}.{key} for method {method}.{hint} Valid keys: "
                     f"{', '.join(own)}.")


@dataclasses.dataclass(frozen=True)
class NodeDistillConfig(DistillConfig):
  """The fields of the node-level methods (full-graph student training).

  Attributes:
    patience: early stopping on validation accuracy (0 = off).
  """
  patience: int = 100

  def __post_init__(self):
    super().__post_init__()
    _at_least(self, 0, "patience")


@dataclasses.dataclass(frozen=True)
class SoftTargetConfig(NodeDistillConfig):
  """Soft-target KD on nodes.

  Attributes:
    temperature: T of the soft targets.
    alpha: weight of the label cross-entropy; 1 - alpha weighs the soft targets.
    soft_nodes: nodes with soft targets: all (GLNN's transductive setting), unlabelled
      (not in the training split), train.
  """
  temperature: float = 1.0
  alpha: float = 0.5
  soft_nodes: str = "all"

  def __post_init__(self):
    super().__post_init__()
    if not self.temperature > 0:
      raise ValueError(f"distill.temperature must be > 0, got {self.temperature}.")
    if not 0.0 <= self.alpha <= 1.0:
      raise ValueError(f"distill.alpha must be in [0, 1], got {self.alpha}.")
    if self.soft_nodes not in SOFT_NODES:
      raise ValueError(f"distill.soft_nodes must be one of {', '.join(SOFT_NODES)}, "
                       f"got {self.soft_nodes!r}.")


@dataclasses.dataclass(frozen=True)
class KDConfig(SoftTargetConfig):
  """kd: alpha * CE + (1 - alpha) * T^2 KL into any student (fields: `SoftTargetConfig`)."""
  METHOD: ClassVar[str] = "kd"
  method: str = "kd"


@dataclasses.dataclass(frozen=True)
class GLNNConfig(SoftTargetConfig):
  """glnn: soft-target KD into an MLP student (fields: `SoftTargetConfig`)."""
  METHOD: ClassVar[str] = "glnn"
  method: str = "glnn"


@dataclasses.dataclass(frozen=True)
class LSPConfig(SoftTargetConfig):
  """lsp: CE + lambda * L_LSP at chosen layers (+ soft targets with alpha < 1).

  Attributes:
    lsp_weight: lambda of L = CE + lambda * L_LSP.
    lsp_kernel: distance, rbf, linear, hamming, unit_distance (`LSP_KERNELS`); the default
      unit_distance compares embedding directions, so a narrow student can match a wide
      teacher whose embeddings live at another scale (see `lsp`'s module doc).
    lsp_sigma: RBF width.
    lsp_temperature: tau dividing the kernel before the softmax over neighbours (1: the
      paper's; < 1 sharpens both local structures).
    lsp_direction: student_teacher (KL(LS^S || LS^T), the paper's equation) or
      teacher_student (KL(LS^T || LS^S), the authors' code); see `lsp`'s module doc.
    lsp_layers: distillation points: "layer" (same name in student and teacher) or
      "student_layer:teacher_layer", e.g. ["conv0"] or ["conv0:conv0", "logits:logits"].
  """
  METHOD: ClassVar[str] = "lsp"
  method: str = "lsp"
  lsp_weight: float = 1.0
  lsp_kernel: str = "unit_distance"
  lsp_sigma: float = 1.0
  lsp_temperature: float = 1.0
  lsp_direction: str = "student_teacher"
  lsp_layers: tuple[str, ...] = ("conv0",)

  def __post_init__(self):
    super().__post_init__()
    if self.lsp_kernel not in LSP_KERNELS:
      raise ValueError(f"distill.lsp_kernel must be one of {', '.join(LSP_KERNELS)}, "
                       f"got {self.lsp_kernel!r}.")
    if self.lsp_direction not in LSP_DIRECTIONS:
      raise ValueError(f"distill.lsp_direction must be one of {', '.join(LSP_DIRECTIONS)}, "
                       f"got {self.lsp_direction!r}.")
    if not self.lsp_temperature > 0:
      raise ValueError(f"distill.lsp_temperature must be > 0, got {self.lsp_temperature}.")
    _at_least(self, 0, "lsp_weight", "lsp_sigma")
    object.__setattr__(self, "lsp_layers", tuple(str(s) for s in self.lsp_layers))
    if not self.lsp_layers:
      raise ValueError("distill.lsp_layers must name at least one layer for method lsp.")

  def lsp_pairs(self) -> list[tuple[str, str]]:
    """(student layer, teacher layer) of every LSP distillation point."""
    pairs = []
    for entry in self.lsp_layers:
      student, _, teacher = entry.partition(":")
      pairs.append((student, teacher or student))
    return pairs


@dataclasses.dataclass(frozen=True)
class CPFConfig(NodeDistillConfig):
  """cpf: label propagation + feature transformation on the teacher's soft labels.

  Attributes:
    temperature: T of the teacher's soft labels.
    cpf_steps: K label-propagation steps.
    cpf_confidence: inductive or transductive edge confidences.
    cpf_hidden_units: hidden width of the feature-transformation MLP (0: linear).
    cpf_dropout / cpf_edge_dropout: feature and edge-confidence dropout.
  """
  METHOD: ClassVar[str] = "cpf"
  method: str = "cpf"
  temperature: float = 1.0
  cpf_steps: int = 10
  cpf_confidence: str = "inductive"
  cpf_hidden_units: int = 0
  cpf_dropout: float = 0.8
  cpf_edge_dropout: float = 0.5

  def __post_init__(self):
    super().__post_init__()
    if not self.temperature > 0:
      raise ValueError(f"distill.temperature must be > 0, got {self.temperature}.")
    if self.cpf_confidence not in CPF_CONFIDENCES:
      raise ValueError(f"distill.cpf_confidence must be one of {', '.join(CPF_CONFIDENCES)}, "
                       f"got {self.cpf_confidence!r}.")
    _at_least(self, 0, "cpf_hidden_units")
    _at_least(self, 1, "cpf_steps")
    for name in ("cpf_dropout", "cpf_edge_dropout"):
      if not 0.0 <= getattr(self, name) < 1.0:
        raise ValueError(f"distill.{name} must be in [0, 1), got {getattr(self, name)}.")


@dataclasses.dataclass(frozen=True)
class SelfDistillationConfig(NodeDistillConfig):
  """gnn-sd: CE + beta * L_ADR over the neighbourhood discrepancy rates (no teacher).

  Attributes:
    sd_weight: beta of L = CE + beta * L_ADR.
    sd_layers: layers whose NDR is retained, shallow to deep (empty: every hidden conv{i},
      i.e. all but the output layer).
    sd_self_loops: NDR compares h_v with the mean over its in-neighbours (False) or over its
      in-neighbours and itself (True, a GCN's aggregation).
    sd_gate: ADR's adaptive weight: "layer" (the paper's: a layer is pulled toward the
      shallower one where the shallower NDR vector is larger in norm) or "node" (each node
      only where its shallower NDR is larger, so discrepancy is never pulled down).
  """
  METHOD: ClassVar[str] = "gnn-sd"
  method: str = "gnn-sd"
  sd_weight: float = 1.0
  sd_layers: tuple[str, ...] = ()
  sd_self_loops: bool = False
  sd_gate: str = "layer"

  def __post_init__(self):
    super().__post_init__()
    if self.sd_gate not in SD_GATES:
      raise ValueError(f"distill.sd_gate must be one of {', '.join(SD_GATES)}, "
                       f"got {self.sd_gate!r}.")
    _at_least(self, 0, "sd_weight")
    object.__setattr__(self, "sd_layers", tuple(str(s) for s in self.sd_layers))


@dataclasses.dataclass(frozen=True)
class GFKDConfig(DistillConfig):
  """gfkd: graph-free KD on learned fake graphs (graph classification; `gfkd`'s module doc).

  Attributes:
    temperature: T of the soft targets.
    batch_size: fake graphs per student step.
    gfkd_graphs: number of fake graphs learned.
    gfkd_nodes: nodes per fake graph (the largest size when gfkd_min_nodes > 0).
    gfkd_min_nodes: 0: every fake graph has gfkd_nodes nodes; else graph sizes are drawn
      uniformly from [gfkd_min_nodes, gfkd_nodes] (the authors' code: 10-29).
    gfkd_steps: generator optimisation steps.
    gfkd_learning_rate: generator Adam learning rate.
    gfkd_samples: structure samples per step (REINFORCE, leave-one-out baseline).
    gfkd_bn_weight: weight of the teacher batch-norm statistics prior.
    gfkd_bn_layers: the prior sums over the first gfkd_bn_layers batch-norm layers of the
      teacher's forward pass (0: all).
    gfkd_entropy_weight: w_H of the feature-entropy (one-hot) regulariser on the generator.
    gfkd_edge_prior: initial edge probability of the Bernoulli structure.
    gfkd_one_hot: the student sees one-hot feature samples of the learned categorical
      features (False: the softmax rows themselves).
    gfkd_snapshot_every: 0: the student trains on the generator's final graphs only; k > 0:
      on a pool of the fake graphs as they were at generator steps 0, k, 2k, ... and at the
      end (each epoch visits every snapshot), so it also sees the graphs the teacher is
      unsure about, not only the prototypes it is confident on.
    gfkd_target_concentration: 0: each fake graph targets a one-hot class; beta > 0: a soft
      target drawn from Dirichlet(beta 1_C) (Zero-Shot KD's data impressions; see
      `fake_graphs.FakeGraphGenerator`).
    gfkd_adversarial_rounds: R adversarial rounds after the first distillation: each fits a
      new generator that also seeks the student's disagreement with the teacher (the
      competition term of adaptive DeepInversion), adds its graphs to the pool and trains
      the student gfkd_adversarial_epochs more epochs on the pool (0: off).
    gfkd_adversarial_weight: w_adv of - w_adv * JS(teacher || student) in those generators'
      per-graph loss.
    gfkd_adversarial_epochs: student epochs after each adversarial round.
    gfkd_hint_weight: w of the hint term (FitNets) on the fake graphs: the mean squared
      difference of the student's and teacher's node states at gfkd_hint_layers (0: off;
      see `gfkd`'s module doc).
    gfkd_hint_layers: layers of the hint term, present with equal widths in both models
      (empty: every conv{i} of the student).
    gfkd_max_degree: k > 0 caps every fake graph node's degree at k (a valence limit:
      edges of each Bernoulli sample are kept in random order while both ends have fewer
      than k; see `fake_graphs`'s module doc); 0: no cap.
    gfkd_feature_support: tau > 0: node types whose share of the teacher's training data
      (recovered from its first batch-norm layer, `fake_graphs.teacher_feature_mix`; GIN
      teachers with batch norm) is below tau never appear in the fake graphs; 0: every
      type may.
  """
  METHOD: ClassVar[str] = "gfkd"
  method: str = "gfkd"
  temperature: float = 1.0
  batch_size: int = 32
  gfkd_graphs: int = 256
  gfkd_nodes: int = 18
  gfkd_min_nodes: int = 0
  gfkd_steps: int = 200
  gfkd_learning_rate: float = 0.05
  gfkd_samples: int = 4
  gfkd_bn_weight: float = 0.0
  gfkd_entropy_weight: float = 0.0
  gfkd_bn_layers: int = 0
  gfkd_edge_prior: float = 0.1
  gfkd_one_hot: bool = True
  gfkd_snapshot_every: int = 0
  gfkd_target_concentration: float = 0.0
  gfkd_adversarial_rounds: int = 0
  gfkd_adversarial_weight: float = 1.0
  gfkd_adversarial_epochs: int = 30
  gfkd_hint_weight: float = 0.0
  gfkd_hint_layers: tuple[str, ...] = ()
  gfkd_max_degree: int = 0
  gfkd_feature_support: float = 0.0

  def __post_init__(self):
    super().__post_init__()
    if not self.temperature > 0:
      raise ValueError(f"distill.temperature must be > 0, got {self.temperature}.")
    _at_least(self, 0, "gfkd_bn_weight", "gfkd_entropy_weight", "gfkd_bn_layers",
              "gfkd_snapshot_every", "gfkd_adversarial_rounds", "gfkd_adversarial_weight",
              "gfkd_target_concentration", "gfkd_hint_weight", "gfkd_max_degree")
    _at_least(self, 1, "gfkd_graphs", "gfkd_nodes", "gfkd_steps", "gfkd_samples",
              "gfkd_adversarial_epochs", "batch_size")
    if self.gfkd_min_nodes and not 1 <= self.gfkd_min_nodes <= self.gfkd_nodes:
      raise ValueError(f"distill.gfkd_min_nodes must be 0 (fixed size) or in [1, gfkd_nodes="
                       f"{self.gfkd_nodes}], got {self.gfkd_min_nodes}.")
    if self.gfkd_samples < 2:
      raise ValueError("distill.gfkd_samples must be >= 2 (the REINFORCE baseline is the "
                       "mean over samples).")
    if not 0.0 <= self.gfkd_feature_support < 1.0:
      raise ValueError(f"distill.gfkd_feature_support must be in [0, 1) (a share of the "
                       f"teacher's node types; 0: off), got {self.gfkd_feature_support}.")
    if not 0.0 < self.gfkd_edge_prior < 1.0:
      raise ValueError(f"distill.gfkd_edge_prior must be in (0, 1), got {self.gfkd_edge_prior}.")
    if self.gfkd_learning_rate <= 0:
      raise ValueError(f"distill.gfkd_learning_rate must be > 0, got {self.gfkd_learning_rate}.")
    object.__setattr__(self, "gfkd_hint_layers", tuple(str(s) for s in self.gfkd_hint_layers))


# The per-method dataclass of each method (what a pipeline's stage registry looks up).
METHOD_CONFIGS: dict[str, type[DistillConfig]] = {}


def config_class(method: str) -> type[DistillConfig]:
  """The config dataclass of `method` (or an alias of it); unknown names list the valid
  ones."""
  return METHOD_CONFIGS[methods.get(method).name]


METHOD_CONFIGS.update({"kd": KDConfig, "lsp": LSPConfig, "glnn": GLNNConfig,
                       "cpf": CPFConfig, "gnn-sd": SelfDistillationConfig,
                       "gfkd": GFKDConfig})
assert set(METHOD_CONFIGS) == set(methods.METHODS)
