"""QuantizationConfig: how a model is quantized, as a pipeline stage's `quantization:` says."""
from __future__ import annotations

import dataclasses
from typing import ClassVar, Mapping, Optional

from edgegnn.config_fields import MappingConfig
from edgegnn.quantization import layer_precision

METHODS = ("ptq", "qat", "dq")

# The reference settings of Degree-Quant (paper and camlsys/degree-quant).
_DQ_DEFAULTS = {8: dict(p_min=0.0, p_max=0.1, percentile=0.1),
                4: dict(p_min=0.1, p_max=0.2, percentile=1.0)}


@dataclasses.dataclass(frozen=True)
class QuantizationConfig(MappingConfig):
  """Attributes:
    method: "dq" (Degree-Quant: protective mask + percentile ranges), "qat" (the same
      quantizers, min/max momentum ranges, no mask) or "ptq" (min/max ranges calibrated
      on the training graph after float training, no quantization-aware training).
    weight_bits / activation_bits: 2..8 each (e.g. W4A8); weights are always quantized.
    p_min / p_max: protection probabilities of dq (default by activation bits: INT8 0.0 /
      0.1, INT4 0.1 / 0.2).
    percentile: lower clipping percentile of dq ranges (INT8 0.1, INT4 1.0).
    momentum: range-tracking momentum.
    quant_noise: Quant-Noise (Fan et al., 2020), qat only: the probability p that a
      block of weights (one input row of a kernel) is quantized in a training step; the
      other blocks stay float and pass gradients unchanged. 0 (default) quantizes every
      weight in every step, as plain QAT; at inference every weight is quantized.
    layers: per-layer precision overriding the bits above for the named layers, e.g.
      {conv0: w4a8, conv1: float16} (`edgegnn.quantization.layer_precision`: wNa8 or
      float16; combinations no runtime executes are refused here, naming the
      alternatives). A model with float16 layers exports as tflite-int8-float16.
  """
  SECTION: ClassVar[str] = "quantization"
  method: str = "dq"
  weight_bits: int = 8
  activation_bits: int = 8
  p_min: Optional[float] = None
  p_max: Optional[float] = None
  percentile: Optional[float] = None
  momentum: float = 0.9
  quant_noise: float = 0.0
  layers: Optional[Mapping[str, str]] = None

  def __post_init__(self):
    if self.method not in METHODS:
      raise ValueError(f"quantization.method: unknown {self.method!r}; expected one of "
                       f"{', '.join(METHODS)}.")
    for name in ("weight_bits", "activation_bits"):
      bits = getattr(self, name)
      if not isinstance(bits, int) or not 2 <= bits <= 8:
        raise ValueError(f"quantization.{name} must be an integer in [2, 8], got {bits!r}.")
    defaults = _DQ_DEFAULTS[8 if self.activation_bits > 4 else 4]
    for name, value in defaults.items():
      if getattr(self, name) is None:
        object.__setattr__(self, name, value)
    if not 0.0 <= self.quant_noise < 1.0:
      raise ValueError(f"quantization.quant_noise must be in [0, 1), got {self.quant_noise!r} "
                       "(0: every weight quantized every step, plain QAT).")
    if self.quant_noise and self.method != "qat":
      raise ValueError(f"quantization.quant_noise is a qat option (Quant-Noise); method "
                       f"{self.method} quantizes every weight in every step.")
    if not 0.0 <= self.p_min <= self.p_max <= 1.0:
      raise ValueError(f"quantization: need 0 <= p_min <= p_max <= 1, got {self.p_min}, "
                       f"{self.p_max}.")
    layer_precision.check_layers(self.layers, "quantization.layers")
    if self.layers is not None:
      object.__setattr__(self, "layers", dict(self.layers))

  @property
  def layer_precisions(self) -> dict[str, layer_precision.LayerPrecision]:
    """{layer name: LayerPrecision} of the `layers` overrides (empty without any)."""
    return layer_precision.check_layers(self.layers, "quantization.layers")

  @property
  def float_layers(self) -> list[str]:
    return [name for name, p in self.layer_precisions.items() if p.is_float]

  @property
  def masked(self) -> bool:
    return self.method == "dq"

  @property
  def range_tracking(self) -> str:
    return "percentile" if self.method == "dq" else "minmax"

  @property
  def label(self) -> str:
    """e.g. "dq-w8a8", "qat-qn0.5-w4a4"."""
    noise = f"-qn{self.quant_noise:g}" if self.quant_noise else ""
    layers = "".join(f"+{name}:{label}" for name, label in sorted((self.layers or {}).items()))
    return f"{self.method}{noise}-w{self.weight_bits}a{self.activation_bits}{layers}"


def check_integer_export(config: Optional[QuantizationConfig], formats, where: str) -> None:
  """Raises ValueError if `formats` ask for an integer artifact of a model whose activations
  are quantized to fewer than 8 bits: TFLite's integer kernels take int8 (or int16)
  activations, and the converter fails on int4 ones (W4A4 GCN: 'tfl.fully_connected' op
  operand must be QI8). 4-bit weights with 8-bit activations (W4A8) export. A model with
  float16 layers (`layers:`) exports as tflite-int8-float16, not tflite-int8 (integer only)."""
  if config is None:
    return
  if config.float_layers and "tflite-int8" in formats:
    raise ValueError(
        f"{where}: tflite-int8 is integer only, and layers {config.float_layers} are "
        "float16 (quantization.layers): export tflite-int8-float16 (int8 layers and "
        "float16 layers in one artifact), or make those layers w8a8.")
  integer = [f for f in formats if f in ("tflite-int8", "tflite-int8-float16")]
  if config.activation_bits >= 8 or not integer:
    return
  raise ValueError(
      f"{where}: {integer[0]} needs activations of 8 bits; this model is "
      f"W{config.weight_bits}A{config.activation_bits}, and TFLite has no kernels for "
      f"{config.activation_bits}-bit activations. Train it with activation_bits: 8 "
      f"(W{config.weight_bits}A8 exports with {config.weight_bits}-bit weights), or export "
      "a float format (tflite-float32, tflite-float16).")
