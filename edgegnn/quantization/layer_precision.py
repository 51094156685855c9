"""Per-layer precision of a quantized model, among the formats a runtime executes.

A pipeline's `quantization:` section names the precision of single layers beside the
model-wide `weight_bits` / `activation_bits`:

    quantization: {method: dq, weight_bits: 8, activation_bits: 8,
                   layers: {conv0: w4a8, conv1: float16}}

| label | weights | activations | runs on |
|---|---|---|---|
| w8a8 | int8 | int8 | every TFLite runtime (tflite-int8, tflite-int8-float16) |
| w4a8 | int4, packed two per byte by the converter | int8 | ai-edge-litert (tflite-int8, tflite-int8-float16) |
| wNa8 (N = 2, 3, 5..7) | N-bit values, stored as the converter emits them (`layer_bit_widths` reads it) | int8 | the same |
| float16 | float16, dequantized at load | float32 | ai-edge-litert (tflite-int8-float16) |

Refused, with the alternatives named: activations under 8 bits (no TFLite kernel takes
them: w4a4, w8a4), int16 activations per layer (TFLite's 16x8 mode is a whole-model format:
export `tflite-int16x8`), and binary layers here (a binary layer is a `BinaryLinear`, built by
the binarize stage: `binarize.model.layer_precisions`, exported as `lce`).

A float layer after an int8 one is fine; an int8 layer after a float one is refused: the
zoo quantizes a layer's input only in the first layer (later inputs are the previous
layer's quantized output), so its input would have no range.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Mapping, Optional

FLOAT16 = "float16"
_INTEGER = re.compile(r"^w(\d+)a(\d+)$")
ALTERNATIVES = ("w8a8, w4a8 (4-bit weights packed as int4, int8 activations), other wNa8 "
                "with N in 2..8, or float16")


@dataclasses.dataclass(frozen=True)
class LayerPrecision:
  """One layer's precision: bits of its weights and activations (None: float)."""
  label: str
  weight_bits: Optional[int]
  activation_bits: Optional[int]

  @property
  def is_float(self) -> bool:
    return self.weight_bits is None


def parse(label: str, where: str) -> LayerPrecision:
  """The precision a label names; a ValueError naming the executable alternatives for any
  combination no runtime executes."""
  if label == FLOAT16:
    return LayerPrecision(label, None, None)
  match = _INTEGER.match(str(label))
  if label == "binary":
    raise ValueError(f"{where}: binary layers are BinaryLinear maps of a binarize stage "
                     "(binarize.model.layer_precisions: [binary, int8], exported as lce); "
                     f"here use {ALTERNATIVES}.")
  if not match:
    raise ValueError(f"{where}: unknown precision {label!r}; expected {ALTERNATIVES}.")
  weight_bits, activation_bits = int(match.group(1)), int(match.group(2))
  if not 2 <= weight_bits <= 8:
    raise ValueError(f"{where}: {label} has {weight_bits}-bit weights; integer layers take "
                     f"2..8-bit weights. Use {ALTERNATIVES}.")
  if activation_bits == 16:
    raise ValueError(f"{where}: {label}: int16 activations are TFLite's 16x8 mode, a "
                     "whole-model format: train the model float (or w8a8) and export "
                     f"tflite-int16x8. Per layer use {ALTERNATIVES}.")
  if activation_bits != 8:
    raise ValueError(f"{where}: {label}: no TFLite runtime executes {activation_bits}-bit "
                     f"activations (integer kernels take int8 or int16). Use {ALTERNATIVES}.")
  return LayerPrecision(label, weight_bits, activation_bits)


def check_layers(layers: Optional[Mapping[str, str]], where: str) -> dict[str, LayerPrecision]:
  """{layer name: LayerPrecision} of a `layers:` mapping, every label checked."""
  if not layers:
    return {}
  if not isinstance(layers, Mapping):
    raise TypeError(f"{where} must map layer names to precisions, got {layers!r}.")
  return {str(name): parse(label, f"{where}.{name}") for name, label in layers.items()}


def _quantized_layers(model):
  """(layer, its QuantDense kernels, its LayerQuantization or None) of every top-level
  layer of `model` that holds a quantizer, in model order."""
  from edgegnn.quantization.fake_quant import QuantDense  # pylint: disable=g-import-not-at-top
  from edgegnn.quantization.points import LayerQuantization  # pylint: disable=g-import-not-at-top
  found = []
  for layer in model.layers:
    modules = [layer] + list(layer.submodules)
    dense = [m for m in modules if isinstance(m, QuantDense)]
    points = [m for m in modules if isinstance(m, LayerQuantization)]
    if dense or points:
      found.append((layer, dense, points[0] if points else None))
  return found


def apply_layer_precision(model, layers: Mapping[str, LayerPrecision]) -> dict[str, str]:
  """Sets the precision of the named layers of a fake-quant `model` (built with a
  QuantizationConfig) in place; the other layers keep theirs. Variables are unchanged, so
  weights move between builds of one spec as before. Apply it to every build (training
  and export) of the model.

  Returns {layer name: label} of every quantized layer ("float16" or "wNaM").
  """
  quantized = _quantized_layers(model)
  by_name = {layer.name: (layer, dense, points) for layer, dense, points in quantized}
  unknown = sorted(set(layers) - set(by_name))
  if unknown:
    raise ValueError(f"quantization.layers names {unknown}, which the model does not have "
                     f"as quantized layers; its quantized layers are {sorted(by_name)}.")
  result, previous = {}, None
  for layer, dense, points in quantized:
    precision = layers.get(layer.name)
    if precision is not None:
      for kernel in dense:
        kernel.weight_bits = precision.weight_bits
      if points is not None:
        points.set_bits(precision.activation_bits)
    bits = dense[0].weight_bits if dense else None
    act = points.options["bits"] if points is not None else bits and 8
    label = FLOAT16 if bits is None and act is None else f"w{bits or 32}a{act or 32}"
    takes_input = points is not None and "input" in points.points
    if label != FLOAT16 and previous == FLOAT16 and not takes_input:
      raise ValueError(f"quantization.layers: {layer.name} is {label} after the float16 "
                       f"layer {previous_name}; its input has no quantizer (only the first "
                       "layer quantizes its input). Make the float16 layers the last ones "
                       f"(e.g. {previous_name}: w8a8, {layer.name}: float16).")
    result[layer.name] = label
    previous, previous_name = label, layer.name
  return result
