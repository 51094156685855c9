"""Post-training quantization in Keras: float weights into a fake-quant model, then ranges
calibrated by forward passes over training graphs (no gradient steps)."""
from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.quantization.fake_quant import ActivationQuantizer


def _quantizers(model: tf.keras.Model) -> list[ActivationQuantizer]:
  found = []

  def visit(layer):
    if isinstance(layer, ActivationQuantizer):
      found.append(layer)
    for child in getattr(layer, "_flatten_layers", lambda **_: [])(include_self=False,
                                                                     recursive=False):
      visit(child)
  for layer in model.layers:
    visit(layer)
  return found


def transfer_float_weights(float_model: tf.keras.Model, quantized: tf.keras.Model) -> None:
  """Copies every weight of `float_model` into the variable of the same name of `quantized`
  (the quantizers' range variables are left alone). Raises if a float weight has no twin."""
  targets = {v.name: v for v in quantized.weights}
  missing = [v.name for v in float_model.weights if v.name not in targets]
  if missing:
    raise ValueError(f"The quantized model has no variables for {missing[:5]}: it is not "
                     "a build of the float model's spec.")
  for variable in float_model.weights:
    targets[variable.name].assign(variable)


def calibrate(model: tf.keras.Model, feeds: Iterable[Mapping[str, np.ndarray]]) -> int:
  """Sets every activation range of `model` from forward passes over `feeds` (inference
  mode: no dropout, BatchNorm statistics untouched). Returns the number of quantizers."""
  quantizers = _quantizers(model)
  for quantizer in quantizers:
    quantizer.calibrating = True
  try:
    for feed in feeds:
      model(dict(feed), training=False)
  finally:
    for quantizer in quantizers:
      quantizer.calibrating = False
  return len(quantizers)
