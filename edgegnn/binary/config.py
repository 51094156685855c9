"""The `binarize` stage's configuration: `BinarizeConfig` (the `binarize:` section of a
pipeline file) and `BinarySpec` (its `model:` section).

Checked against option tables held here as plain data, so a pipeline file is validated
without TensorFlow or larq; the modules that implement the options (`edgegnn.binary.knn.
METRICS`, `quantizers.QUANTIZERS`, `edgegnn.distill.lsp.KERNELS`) hold the same names
(tests/test_stage_registry.py compares them).
"""
from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Mapping, Optional

from edgegnn.config_fields import MappingConfig
from edgegnn.distill.config import LSP_KERNELS
from edgegnn.models.spec import ACTIVATIONS

# k-NN distances of the point-cloud layers (`edgegnn.binary.knn`).
METRICS = ("euclidean", "hamming")
# Sign quantizers, straight-through estimators (`edgegnn.binary.quantizers`).
QUANTIZERS = ("ste_sign", "approx_sign", "swish_sign")


def _check_option(what: str, value, valid: tuple[str, ...], shown=None, where: str = "") -> None:
  if value not in valid:
    shown = value if shown is None else shown
    raise ValueError(f"{where}Unknown {what} {shown!r}; expected one of {', '.join(valid)}.")


ARCHITECTURES = ("gcn", "sage", "bin_edgeconv", "xor_edgeconv")
NODE_ARCHITECTURES = ("gcn", "sage")
CLASSIFIERS = ("binary", "float")
# Per-layer precision of node models: "binary" follows the stage's precision (a
# BinaryLinear: LceBconv2d); "int8" is a quantization-aware int8 layer in every stage (an
# int8 FULLY_CONNECTED in the same lce artifact).
LAYER_PRECISIONS = ("binary", "int8")


@dataclasses.dataclass(frozen=True)
class BinarySpec(MappingConfig):
  """A binary model (the `binarize` stage's `model:` section).

  Attributes:
    architecture: gcn, sage (node tasks) or bin_edgeconv, xor_edgeconv (graph tasks).
    hidden_units: channels of hidden layers.
    num_layers: graph layers (node task: including the output layer).
    dropout: dropout on hidden layer inputs (node) / before the classifier (graph).
    input_dropout: dropout on the input features of node models (0 by default: dropping
      words shifts the statistics of the normalisation after the first binary map).
    k: neighbours of the dynamic k-NN graphs.
    metric: k-NN distance of XorEdgeConv layers (hamming or euclidean); BinEdgeConv
      layers use euclidean on their real-valued states.
    activation: activation alias between layers (node) / on messages and the head
      (graph).
    embed_units: width of the DGCNN embedding before the readout.
    quantizer: sign quantizer alias.
    input_offset: node models: None binarises the input features as sign(BN(x)); a
      number c as sign(x - c) with no per-feature parameters (0.5 for 0/1 bag-of-words).
    classifier: precision cap of the point-cloud classifier (the last linear map):
      "binary" (capped by nothing: sign(BN(h)) (*) sign(W), an LceBconv2d) or "float"
      (logits = BN(h) W Gamma + b with real h and W in every precision: a float CONV_2D
      of hidden_units x classes weights). Bahri et al. keep this layer real-valued by
      default (their `bin_ll_quantize_*` flags): its input is the hidden_units-bit code
      of the whole cloud, and binarising it quantises every logit to a multiple of
      Gamma.
    layer_precisions: node models: one of LAYER_PRECISIONS per layer, e.g. [binary, int8]
      (a binary first layer, an int8 output layer: LceBconv2d and int8 FULLY_CONNECTED in
      one lce artifact); None: every layer binary.
  """
  SECTION: ClassVar[str] = "binarize.model"
  architecture: str = "gcn"
  hidden_units: int = 128
  num_layers: int = 2
  dropout: float = 0.5
  input_dropout: float = 0.0
  k: int = 8
  metric: str = "hamming"
  activation: str = "none"
  embed_units: int = 128
  quantizer: str = "ste_sign"
  input_offset: Optional[float] = 0.5
  classifier: str = "binary"
  layer_precisions: Optional[tuple[str, ...]] = None

  def __post_init__(self):
    if self.architecture not in ARCHITECTURES:
      raise ValueError(f"binarize.model.architecture: unknown {self.architecture!r}; "
                       f"expected one of {', '.join(ARCHITECTURES)}.")
    for name in ("hidden_units", "num_layers", "k", "embed_units"):
      if getattr(self, name) < 1:
        raise ValueError(f"binarize.model.{name} must be >= 1, got {getattr(self, name)}.")
    for name in ("dropout", "input_dropout"):
      if not 0.0 <= getattr(self, name) < 1.0:
        raise ValueError(f"binarize.model.{name} must be in [0, 1), got {getattr(self, name)}.")
    if self.classifier not in CLASSIFIERS:
      raise ValueError(f"binarize.model.classifier: unknown {self.classifier!r}; expected "
                       f"one of {', '.join(CLASSIFIERS)}.")
    if self.layer_precisions is not None:
      where = "binarize.model.layer_precisions"
      if self.task != "node":
        raise ValueError(f"{where} applies to node models (gcn, sage), not "
                         f"{self.architecture}.")
      if len(self.layer_precisions) != self.num_layers:
        raise ValueError(f"{where} needs one entry per layer ({self.num_layers}), got "
                         f"{list(self.layer_precisions)}.")
      unknown = [p for p in self.layer_precisions if p not in LAYER_PRECISIONS]
      if unknown:
        raise ValueError(f"{where}: unknown {unknown}; expected {', '.join(LAYER_PRECISIONS)} "
                         "(lce runs binary LceBconv2d and int8 ops; other bits per layer: "
                         "quantization.layers of a qat / degree_quant stage).")
      object.__setattr__(self, "layer_precisions", tuple(self.layer_precisions))
    _check_option("k-NN metric", self.metric, METRICS)
    _check_option("activation", str(self.activation).lower(), ACTIVATIONS, self.activation)
    _check_option("sign quantizer", self.quantizer, QUANTIZERS)

  @property
  def task(self) -> str:
    return "node" if self.architecture in NODE_ARCHITECTURES else "graph"


FINAL_TEACHERS = ("intermediate", "teacher")
LR_SCHEDULES = ("constant", "cosine")


@dataclasses.dataclass(frozen=True)
class BinarizeConfig(MappingConfig):
  """The `binarize:` section of a pipeline file.

  Attributes:
    model: the binary architecture (`BinarySpec` fields).
    epochs: epochs per stage.
    learning_rate: Adam learning rate.
    patience: early stopping (epochs without a better validation score; 0 = off).
    batch_size: graphs per batch (graph tasks).
    kd_weight: alpha, weight of the soft-target term.
    temperature: T of the soft targets.
    lsp_weight: lambda, weight of the LSP terms.
    lsp_kernel: LSP kernel of stage 1 (real-valued features): distance, rbf, linear.
    binary_lsp_kernel: LSP kernel of stage 2 (binary features): hamming by default.
    lsp_sigma: sigma of the rbf kernel.
    staged: runs the two distillation stages (false: only the scratch baseline).
    scratch: also trains the binary model from scratch, for comparison.
    final_teacher: the teacher of stage 2: "intermediate" (the stage-1 model, Bahri et
      al.'s cascade) or "teacher" (the FP32 teacher again; the intermediate is then only
      stage 2's initialisation). On citation graphs the intermediate is itself ~4 pt
      below the teacher, and its soft targets cap the student there.
    final_learning_rate: Adam learning rate of stage 2 (None: `learning_rate`); stage 2
      starts from trained weights, so it may fine-tune with a smaller step.
    lr_schedule: learning rate over a stage's optimisation steps t = 0..S-1 (S = its
      epochs x steps per epoch): "constant" (lr_t = lr) or "cosine"
      (lr_t = lr (1 + cos(pi t / S)) / 2, the decay of Bahri et al.'s DGCNN runs: the
      latent weights of sign(W) settle as the step shrinks, so fewer signs flip late).
    reestimate_batch_norm: after each stage's training (and after restoring its best
      validation weights), set every BatchNormalization's moving statistics to the mean
      over the training batches (`batch_size` graphs each; the whole graph for a node
      task) of its batch statistics, mu = mean_k mean_{B_k}(x), sigma^2 = mean_k
      var_{B_k}(x) (`edgegnn.engine.reestimate_batch_norm`), before the stage is
      evaluated, handed to the next stage (as its initialisation and, with
      `final_teacher: intermediate`, its teacher) and exported. In a binary model the
      moving statistics are the thresholds of h = sign(BN(x)) at evaluation; the moving
      averages (momentum 0.9) lag behind weights that change every step. The stage's
      metrics then also hold `{val,test}_accuracy_before_batch_norm`.
  """
  SECTION: ClassVar[str] = "binarize"
  model: Mapping[str, Any] = dataclasses.field(default_factory=dict)
  epochs: int = 200
  learning_rate: float = 0.01
  patience: int = 100
  batch_size: int = 32
  kd_weight: float = 1.0
  temperature: float = 2.0
  lsp_weight: float = 1.0
  lsp_kernel: str = "distance"
  binary_lsp_kernel: str = "hamming"
  lsp_sigma: float = 1.0
  staged: bool = True
  scratch: bool = False
  final_teacher: str = "intermediate"
  final_learning_rate: Optional[float] = None
  lr_schedule: str = "constant"
  reestimate_batch_norm: bool = False

  def __post_init__(self):
    object.__setattr__(self, "model", dict(self.model))
    self.spec  # Validates the model section.  pylint: disable=pointless-statement
    for name in ("epochs", "batch_size"):
      if getattr(self, name) < 1:
        raise ValueError(f"binarize.{name} must be >= 1, got {getattr(self, name)}.")
    if self.learning_rate <= 0 or self.temperature <= 0:
      raise ValueError("binarize.learning_rate and binarize.temperature must be > 0.")
    if self.final_learning_rate is not None and self.final_learning_rate <= 0:
      raise ValueError("binarize.final_learning_rate must be > 0 (or null: learning_rate), "
                       f"got {self.final_learning_rate}.")
    for name in ("patience", "kd_weight", "lsp_weight"):
      if getattr(self, name) < 0:
        raise ValueError(f"binarize.{name} must be >= 0, got {getattr(self, name)}.")
    for name in ("lsp_kernel", "binary_lsp_kernel"):
      _check_option("LSP kernel", getattr(self, name), LSP_KERNELS, where=f"binarize.{name}: ")
    if self.final_teacher not in FINAL_TEACHERS:
      raise ValueError(f"binarize.final_teacher: unknown {self.final_teacher!r}; expected "
                       f"one of {', '.join(FINAL_TEACHERS)}.")
    if self.lr_schedule not in LR_SCHEDULES:
      raise ValueError(f"binarize.lr_schedule: unknown {self.lr_schedule!r}; expected one "
                       f"of {', '.join(LR_SCHEDULES)}.")
    if not (self.staged or self.scratch):
      raise ValueError("binarize: nothing to do; set staged: true and/or scratch: true.")

  @property
  def spec(self) -> BinarySpec:
    return BinarySpec.from_dict(self.model, "binarize.model")
