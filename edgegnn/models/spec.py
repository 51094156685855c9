"""ModelSpec: what to build, as a pipeline file's `model:` section states it.

Checked against option tables held here as plain data, so a pipeline file is validated
without importing TensorFlow; the layers that implement the options (`edgegnn.layers.
activations`, `attention`, `readout`) hold the same names (tests/test_stage_registry.py
compares them).
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar

from edgegnn.config_fields import MappingConfig

ARCHITECTURES = ("gcn", "gat", "sage", "gin", "edgeconv", "mlp", "mp")
LAYOUTS = ("sparse", "dense", "neighbors")
# How node features are fed: dense rows, or their non-zeros (edgegnn.layers.sparse_features).
FEATURE_ENCODINGS = ("dense", "sparse", "binary")
# The aliases of `edgegnn.layers.activations.get` (case-insensitive).
ACTIVATIONS = ("none", "sigmoid", "tanh", "softplus", "relu", "leaky_relu", "relu6", "elu")
# The edge attention kinds of mp layers (`edgegnn.layers.attention.ATTENTIONS`).
ATTENTIONS = ("const", "gcn", "gat", "sym-gat", "cos", "linear", "gene-linear")
# The graph-level poolings (`edgegnn.layers.readout.REDUCTIONS`).
READOUTS = ("sum", "mean", "max", "mean+max")


@dataclasses.dataclass(frozen=True)
class ModelSpec(MappingConfig):
  """Architecture and hyper-parameters of a zoo model.

  Attributes:
    architecture: one of gcn, gat, sage, gin, edgeconv, mlp, mp (the LPGNAS layer).
    hidden_units: channels of hidden layers (per head for gat / mp).
    num_layers: message-passing layers (including the output layer for node tasks).
    dropout: dropout rate on layer inputs.
    num_heads: attention heads of hidden gat / mp layers.
    output_heads: attention heads of the output gat / mp layer (averaged).
    attention: attention alias of mp layers (const, gcn, gat, sym-gat, cos, linear,
      gene-linear).
    activation: activation alias between layers.
    attention_dropout: dropout on attention coefficients (gat / mp).
    k: neighbours of the dynamic k-NN graph (edgeconv).
    readout: graph-level pooling: sum, mean, max, mean+max.
    batch_norm: batch normalisation inside GIN's MLPs.
    learn_epsilon: GIN's trainable eps.
    input_normalization: "row" normalises feature rows inside the model; "none".
    weight_decay: L2 coefficient on kernels (added to the loss as wd/2 * ||W||^2).
  """
  SECTION: ClassVar[str] = "model"
  architecture: str = "gcn"
  hidden_units: int = 16
  num_layers: int = 2
  dropout: float = 0.5
  num_heads: int = 8
  output_heads: int = 1
  attention: str = "gat"
  activation: str = "relu"
  attention_dropout: float = 0.0
  k: int = 8
  readout: str = "sum"
  batch_norm: bool = True
  learn_epsilon: bool = False
  input_normalization: str = "none"
  weight_decay: float = 0.0

  def __post_init__(self):
    if self.architecture not in ARCHITECTURES:
      raise ValueError(f"model.architecture: unknown {self.architecture!r}; "
                       f"expected one of {', '.join(ARCHITECTURES)}.")
    for name in ("hidden_units", "num_layers", "num_heads", "output_heads", "k"):
      if getattr(self, name) < 1:
        raise ValueError(f"model.{name} must be >= 1, got {getattr(self, name)}.")
    for name in ("dropout", "attention_dropout"):
      if not 0.0 <= getattr(self, name) < 1.0:
        raise ValueError(f"model.{name} must be in [0, 1), got {getattr(self, name)}.")
    if self.input_normalization not in ("none", "row"):
      raise ValueError("model.input_normalization must be 'none' or 'row', "
                       f"got {self.input_normalization!r}.")
    for name, valid, value in (("activation", ACTIVATIONS, self.activation.lower()),
                               ("attention", ATTENTIONS, self.attention),
                               ("readout", READOUTS, self.readout)):
      if value not in valid:
        raise ValueError(f"model.{name}: unknown {getattr(self, name)!r}; expected one of "
                         f"{', '.join(valid)}.")

