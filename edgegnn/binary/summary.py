"""Size and compute figures of a binary model (`lq.models.summary`'s, as a dict for report.json).

    memory_bits        sum over weights of bits(w) * count(w)  (1 for binarised kernels,
                       32 otherwise; BN mean/beta pairs counted once, as larq does)
    float32_bytes      the same weights at 32 bits
    macs               sum over linear maps of rows * C_in * C_out
    binary_macs        those of maps with binary inputs and kernels (XNOR + popcount)
    binarized_mac_ratio = binary_macs / macs

Weights come from `larq.models.ModelProfile`. larq counts MACs only for top-level Keras
layers with a known output shape; the `BinaryLinear` maps here are nested inside graph
layers, so MACs are counted from each map's rows (recorded when the model is built with
static shapes: build the export form, e.g. `export_model`). Graph ops (k-NN distances,
gathers, aggregation) are not MACs of a linear map and are not counted, as in larq.
"""
from __future__ import annotations

from typing import Any

from edgegnn import _keras_env  # noqa: F401
import larq as lq
import tensorflow as tf

from edgegnn.binary.models import binary_layers


def binary_summary(model: tf.keras.Model) -> dict[str, Any]:
  """The figures of the module docstring, plus larq's printed summary table."""
  lines: list[str] = []
  lq.models.summary(model, print_fn=lines.append, include_macs=False)
  profile = lq.models.ModelProfile(model)
  macs = binary_macs = 0
  unknown_rows = []
  for layer in binary_layers(model):
    if layer.rows is None:
      unknown_rows.append(layer.name)
      continue
    count = layer.rows * layer.channels * layer.units
    macs += count
    if layer.binary_inputs:
      binary_macs += count
  memory_bits = int(profile.memory)
  float_bits = int(profile.fp_equivalent_memory)
  return {
      "params": int(profile.weight_count()),
      "binary_params": int(profile.weight_count(bitwidth=1)),
      "memory_bits": memory_bits,
      "memory_bytes": memory_bits // 8,
      "float32_bytes": float_bits // 8,
      "memory_compression": round(float_bits / max(memory_bits, 1), 2),
      "macs": int(macs) if not unknown_rows else None,
      "binary_macs": int(binary_macs) if not unknown_rows else None,
      "binarized_mac_ratio": round(binary_macs / macs, 4) if macs and not unknown_rows else None,
      "larq_summary": "\n".join(lines),
  }
