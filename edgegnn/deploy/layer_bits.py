"""Per-layer bit-widths of a `.tflite` artifact, read from its flatbuffer.

A "layer" is an op that applies learned weights (FULLY_CONNECTED, CONV_2D,
DEPTHWISE_CONV_2D, BATCH_MATMUL with a constant operand, LceBconv2d). For each one,
in execution order:

- `weight_bits`: bits per stored weight. The dtype of the constant weight tensor, or of
  the constant behind a DEQUANTIZE that feeds it (float16 artifacts store float16
  weights and dequantize them at load time). LceBconv2d weights are bit-packed: 1.
- `activation_bits`: bits of the op's (non-constant) input activation. LceBconv2d reads
  its input bit-packed (LceQuantize packs 32 signs into each int32 word): 1.
- `precision`: the two as a label: "w8a8", "w4a8" (the converter packs 4-bit
  fake-quantized weights as INT4), "w16a32" (float16 weights, float32 compute), "w1a1"
  (binary), "w8a16" (16x8 mode).

Runtime side: numpy and `tflite_file` only.
"""
from __future__ import annotations

import os
from typing import Union

from edgegnn.runtime import tflite_file
from edgegnn.runtime.tflite_file import OperatorInfo, SubgraphInfo, TfliteModelInfo

WEIGHTED_OPS = ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D", "BATCH_MATMUL",
                "TRANSPOSE_CONV", "LceBconv2d")
BINARY_OPS = ("LceBconv2d",)
_DTYPE_BITS = {"float64": 64, "float32": 32, "float16": 16, "int64": 64, "int32": 32,
               "int16": 16, "int8": 8, "uint8": 8, "int4": 4, "bool": 1}


def _weight_source(subgraph: SubgraphInfo, tensor_index: int):
  """The constant tensor holding a weight input, looking through one DEQUANTIZE."""
  tensor = subgraph.tensors[tensor_index]
  if tensor.is_constant:
    return tensor
  for op in subgraph.operators:
    if op.name == "DEQUANTIZE" and tensor_index in op.outputs:
      source = subgraph.tensors[op.inputs[0]]
      return source if source.is_constant else None
  return None


def _layer(subgraph: SubgraphInfo, op: OperatorInfo) -> dict | None:
  inputs = [i for i in op.inputs if i >= 0]
  if len(inputs) < 2:
    return None
  activation = subgraph.tensors[inputs[0]]
  weight = _weight_source(subgraph, inputs[1])
  if weight is None:  # e.g. a BATCH_MATMUL of two activations (adjacency x states)
    return None
  binary = op.name in BINARY_OPS
  bits = 1 if binary else _DTYPE_BITS.get(weight.dtype)
  # LceBconv2d's int32 input is bit-packed signs (LceQuantize's output), not 32-bit values.
  act = 1 if binary and activation.dtype == "int32" else _DTYPE_BITS.get(activation.dtype)
  return {"op": op.name, "index": op.index, "weights": weight.name,
          "weight_shape": list(weight.shape), "weight_bits": bits, "activation_bits": act,
          "precision": f"w{bits}a{act}"}


def layer_bit_widths(model: Union[str, os.PathLike, bytes, TfliteModelInfo]) -> list[dict]:
  """The weighted layers of a model with their weight and activation bit-widths.

  Args:
    model: A `.tflite` path, its bytes, or a parsed `TfliteModelInfo`.

  Returns:
    One dict per weighted op of the main subgraph, in execution order: op, index,
    weights (tensor name), weight_shape, weight_bits, activation_bits.
  """
  info = model if isinstance(model, TfliteModelInfo) else tflite_file.read_model(model)
  subgraph = info.subgraphs[0]
  layers = [_layer(subgraph, op) for op in subgraph.operators if op.name in WEIGHTED_OPS]
  return [layer for layer in layers if layer is not None]
