"""The work one TFLite operator does: multiply-accumulates and bytes moved.

`op_work(op, tensors, shapes)` counts, for one operator of a parsed model
(`edgegnn.deploy.tflite_file`), at the tensor shapes it runs with:

  macs           multiply-accumulates of the matrix ops (FULLY_CONNECTED: rows x K x M;
                 BATCH_MATMUL: batch x n x k x m; CONV_2D / LceBconv2d: output elements x
                 kernel volume); one arithmetic op per element for elementwise ops, one add
                 per input element for reductions and segment sums (SUM, MEAN,
                 [UNSORTED_]SEGMENT_SUM); 0 for ops that only move data (GATHER, RESHAPE,
                 CONCATENATION, slicing, shape ops).
  bytes_read     every input tensor once (weights included: a GNN reads its weights on
                 every call), except GATHER, which reads only the rows it gathers (its
                 output's size) plus its indices, and SHAPE, which reads no data.
  bytes_written  every output tensor once.
  compute        the arithmetic the MACs run in, which picks the target's peak:
                 float32, int8 (int8/int16 activations), hybrid (float activations times
                 int8 weights: dynamic-range quantisation), binary (LceBconv2d: 1-bit
                 multiply-accumulates, XOR + popcount) or none (no MACs).

Numpy only; the shapes come from `edgegnn.deploy.cost.resolve_shapes`.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Sequence

from edgegnn.runtime.tflite_model import OperatorInfo, TensorInfo

COMPUTE_CLASSES = ("float32", "int8", "hybrid", "binary", "none")

_BITS = {"float32": 32, "float16": 16, "bfloat16": 16, "float64": 64, "int32": 32,
         "uint32": 32, "int64": 64, "uint64": 64, "int16": 16, "uint16": 16, "int8": 8,
         "uint8": 8, "bool": 8, "int4": 4, "uint4": 4, "int2": 2, "complex64": 64,
         "complex128": 128, "string": 8, "float8_e4m3fn": 8, "float8_e5m2": 8}

# Ops that copy or index data and do no arithmetic.
MOVE_OPS = frozenset({
    "GATHER", "GATHER_ND", "RESHAPE", "SQUEEZE", "EXPAND_DIMS", "CONCATENATION", "PACK",
    "UNPACK", "SLICE", "STRIDED_SLICE", "PAD", "PADV2", "TRANSPOSE", "TILE", "SHAPE",
    "FILL", "RANGE", "SPLIT", "SPLIT_V", "BROADCAST_TO", "ZEROS_LIKE", "ONES_LIKE",
    "SCATTER_ND", "CAST", "WHERE", "SELECT", "SELECT_V2"})
# Ops whose work is one add (or max) per input element.
REDUCE_OPS = frozenset({
    "SUM", "MEAN", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD", "SEGMENT_SUM",
    "UNSORTED_SEGMENT_SUM", "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_MIN",
    "UNSORTED_SEGMENT_PROD"})
# Ops that read only their input's shape, not its data.
SHAPE_ONLY_OPS = frozenset({"SHAPE", "RANK"})
MATRIX_OPS = frozenset({"FULLY_CONNECTED", "BATCH_MATMUL", "CONV_2D", "DEPTHWISE_CONV_2D",
                        "LceBconv2d"})


@dataclasses.dataclass(frozen=True)
class OpWork:
  """Multiply-accumulates and bytes of one operator (see the module doc).

  Attributes:
    macs: Multiply-accumulates (or elementwise arithmetic ops).
    bytes_read: Bytes of its inputs it reads.
    bytes_written: Bytes of its outputs.
    compute: One of COMPUTE_CLASSES.
  """
  macs: int
  bytes_read: int
  bytes_written: int
  compute: str

  @property
  def bytes(self) -> int:
    return self.bytes_read + self.bytes_written

  @property
  def intensity(self) -> float:
    """Arithmetic intensity: MACs per byte moved."""
    return self.macs / self.bytes if self.bytes else 0.0


def elements(shape: Sequence[int]) -> int:
  return int(math.prod(shape)) if shape else 1


def tensor_bytes(dtype: str, shape: Sequence[int]) -> int:
  """Bytes of a `dtype` tensor of `shape` (sub-byte types rounded up)."""
  return (elements(shape) * _BITS.get(dtype, 32) + 7) // 8


def _compute_class(op: OperatorInfo, tensors: Sequence[TensorInfo]) -> str:
  if op.name == "LceBconv2d":
    return "binary"
  activations = [tensors[i] for i in op.inputs if i >= 0 and not tensors[i].is_constant]
  weights = [tensors[i] for i in op.inputs if i >= 0 and tensors[i].is_constant]
  main = activations[0] if activations else (weights[0] if weights else tensors[op.outputs[0]])
  if main.dtype in ("int8", "uint8", "int16"):
    return "int8"
  if (op.name in MATRIX_OPS and main.dtype.startswith("float")
      and any(w.dtype in ("int8", "uint8") for w in weights)):
    return "hybrid"
  return "float32"


def _matrix_macs(op: OperatorInfo, tensors: Sequence[TensorInfo],
                 shapes: Sequence[Sequence[int]], adjoint: tuple[bool, bool]) -> int:
  out = shapes[op.outputs[0]]
  if op.name == "FULLY_CONNECTED":
    return elements(out) * shapes[op.inputs[1]][-1]
  if op.name == "BATCH_MATMUL":
    a = shapes[op.inputs[0]]
    return elements(out) * (a[-2] if adjoint[0] else a[-1])
  filt = shapes[op.inputs[1]]
  if op.name == "DEPTHWISE_CONV_2D":   # filter [1, kh, kw, C * multiplier]
    return elements(out) * filt[1] * filt[2]
  per_output = elements(filt[1:])      # CONV_2D, LceBconv2d: filter [Cout, kh, kw, Cin]
  if op.name == "LceBconv2d" and tensors[op.inputs[1]].dtype == "int32":
    per_output *= 32                   # filter bits packed 32 to an int32 word
  return elements(out) * per_output


def op_work(op: OperatorInfo, tensors: Sequence[TensorInfo],
            shapes: Sequence[Sequence[int]],
            adjoint: tuple[bool, bool] = (False, False)) -> OpWork:
  """The `OpWork` of `op` at `shapes` (one resolved shape per tensor of its subgraph).

  Args:
    op: The operator.
    tensors: Its subgraph's tensors (dtypes, which are constants).
    shapes: The shape each tensor has when the model runs.
    adjoint: BATCH_MATMUL's (adj_x, adj_y) options.
  """
  ins = [i for i in dict.fromkeys(op.inputs) if i >= 0]
  outs = list(dict.fromkeys(op.outputs))
  written = sum(tensor_bytes(tensors[i].dtype, shapes[i]) for i in outs)
  out_elements = sum(elements(shapes[i]) for i in outs)
  if op.name in SHAPE_ONLY_OPS:
    read = 0
  elif op.name in ("GATHER", "GATHER_ND") and len(ins) >= 2:
    params, indices = ins[0], ins[1]
    read = (min(tensor_bytes(tensors[params].dtype, shapes[params]), written)
            + tensor_bytes(tensors[indices].dtype, shapes[indices]))
  else:
    read = sum(tensor_bytes(tensors[i].dtype, shapes[i]) for i in ins)
  compute = _compute_class(op, tensors)
  if op.name in MATRIX_OPS:
    macs = _matrix_macs(op, tensors, shapes, adjoint)
  elif op.name in MOVE_OPS:
    macs, compute = 0, "none"
  elif op.name in REDUCE_OPS:
    macs = elements(shapes[ins[0]])
  else:  # elementwise arithmetic, activations, (de)quantisation, softmax ...
    macs = out_elements
  return OpWork(macs=int(macs), bytes_read=int(read), bytes_written=int(written),
                compute=compute if macs else "none")
