"""The LPGNAS search space, genotypes, and the size each choice costs in an artifact.

Per message-passing layer the search chooses

| component | choices (default) |
|---|---|
| attention | const, gcn, gat, sym-gat, cos, linear, gene-linear (`edgegnn.layers.attention`) |
| activation (hidden layers) | none, sigmoid, tanh, softplus, relu, leaky_relu, relu6, elu |
| width (hidden layers) | 4, 8, 16, 32, 64 channels |
| precision of the layer's linear weights and activations | w4a8, w8a8, float16 |

The precisions are the per-layer formats a runtime executes
(`edgegnn.quantization.layer_precision`); the output layer's width is the number of
classes and its activation is none (logits). softplus and elu have no integer kernel in
TFLite, so they pair only with float16 (`executable`): the genotype takes the most probable
executable (activation, precision) pair of each layer.

Size: a layer stores (inputs x width + attention vectors) weights at its precision's
storage bits: 4 for w4a8 (the converter packs 4-bit fake-quantized weights as INT4, which
ai-edge-litert runs), 8 for w8a8, 16 for float16, plus float32 biases.
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar, Optional

from edgegnn.config_fields import MappingConfig

ATTENTIONS = ("const", "gcn", "gat", "sym-gat", "cos", "linear", "gene-linear")
ACTIVATIONS = ("none", "sigmoid", "tanh", "softplus", "relu", "leaky_relu", "relu6", "elu")
PRECISIONS = ("w4a8", "w8a8", "float16")
# Learned vectors per output channel of each attention kind (edgegnn.layers.attention).
ATTENTION_VECTORS = {"const": 0, "gcn": 0, "gat": 2, "sym-gat": 2, "cos": 2, "linear": 1,
                     "gene-linear": 3}
STORED_BITS = {"w4a8": 4, "w8a8": 8, "float16": 16}
# Activations TFLite has no integer kernel for (the converter leaves them in float, which a
# full-integer artifact refuses): an integer layer cannot use them.
FLOAT_ONLY_ACTIVATIONS = ("softplus", "elu")


def executable(activation: str, precision: str) -> bool:
  """Whether a layer with this activation and precision runs on TFLite's kernels."""
  return precision == "float16" or activation not in FLOAT_ONLY_ACTIVATIONS


@dataclasses.dataclass(frozen=True)
class SearchSpace(MappingConfig):
  """The choices of every layer (a `search` section's `space:`).

  Attributes:
    attentions, activations, widths, precisions: the candidate sets (see the module
      docstring); each a non-empty subset of the known choices.
    num_layers: message-passing layers (the last one outputs the class logits).
  """
  SECTION: ClassVar[str] = "search.space"
  attentions: tuple[str, ...] = ATTENTIONS
  activations: tuple[str, ...] = ACTIVATIONS
  widths: tuple[int, ...] = (4, 8, 16, 32, 64)
  precisions: tuple[str, ...] = PRECISIONS
  num_layers: int = 2

  def __post_init__(self):
    for name, known in (("attentions", ATTENTIONS), ("activations", ACTIVATIONS),
                        ("precisions", PRECISIONS)):
      values = tuple(getattr(self, name))
      unknown = [v for v in values if v not in known]
      if not values or unknown:
        raise ValueError(f"search.space.{name}: need a non-empty subset of "
                         f"{', '.join(known)}; got {list(values)}.")
      object.__setattr__(self, name, values)
    widths = tuple(self.widths)
    if not widths or any(not isinstance(w, int) or w < 1 for w in widths):
      raise ValueError(f"search.space.widths must be positive integers, got {list(widths)}.")
    object.__setattr__(self, "widths", tuple(sorted(set(widths))))
    if self.num_layers < 1:
      raise ValueError(f"search.space.num_layers must be >= 1, got {self.num_layers}.")

  @property
  def max_width(self) -> int:
    return max(self.widths)


@dataclasses.dataclass(frozen=True)
class LayerChoice:
  """One layer of a genotype."""
  attention: str
  activation: str
  units: int
  precision: str


@dataclasses.dataclass(frozen=True)
class Genotype:
  """The architecture the search chose: one LayerChoice per layer (conv0, conv1, ...)."""
  layers: tuple[LayerChoice, ...]

  def to_dict(self) -> dict:
    return {"layers": [dataclasses.asdict(layer) for layer in self.layers]}

  @classmethod
  def from_dict(cls, values: dict) -> "Genotype":
    return cls(tuple(LayerChoice(**layer) for layer in values["layers"]))

  @property
  def layer_precisions(self) -> dict[str, str]:
    """{conv i: precision}: the `quantization.layers` mapping of this genotype."""
    return {f"conv{i}": layer.precision for i, layer in enumerate(self.layers)}

  def describe(self) -> str:
    return " | ".join(f"{l.attention}/{l.activation}/{l.units}/{l.precision}"
                      for l in self.layers)


def layer_weights(inputs: float, units: float, attention_vectors: float) -> float:
  """Weights of one layer: the linear map and its attention vectors (biases apart)."""
  return inputs * units + attention_vectors * units


def genotype_bytes(genotype: Genotype, num_features: int) -> int:
  """Bytes of the genotype's weights as an artifact stores them (biases float32)."""
  total, inputs = 0.0, num_features
  for layer in genotype.layers:
    weights = layer_weights(inputs, layer.units, ATTENTION_VECTORS[layer.attention])
    total += weights * STORED_BITS[layer.precision] / 8 + 4 * layer.units
    inputs = layer.units
  return int(round(total))


def reference_bytes(num_features: int, num_classes: int, hidden: int = 16) -> int:
  """Weight bytes of the int8 two-layer GCN (hidden 16) the search is measured against."""
  return num_features * hidden + hidden * num_classes + 4 * (hidden + num_classes)


def describe_space(space: SearchSpace, num_classes: Optional[int] = None) -> dict:
  size = 1
  for i in range(space.num_layers):
    last = i == space.num_layers - 1
    size *= len(space.attentions) * len(space.precisions)
    if not last:
      size *= len(space.activations) * len(space.widths)
  return {"attentions": list(space.attentions), "activations": list(space.activations),
          "widths": list(space.widths), "precisions": list(space.precisions),
          "num_layers": space.num_layers, "architectures": size}
