"""The parsed form of a `.tflite` file and the queries over it.

Data classes filled by `tflite_parse.read_model` (`TfliteModelInfo` and its subgraphs,
operators, tensors, signatures), `CorruptModelError`, and what a model needs to run:
`float_compute_ops` (the ops that compute in float) and `runtime_support`.
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, Sequence

from .tflite_tables import (FLOAT_BOUNDARY_OPS, FLOAT_DTYPES, LAYOUT_OPS,
                            TFLM_BUILTIN_OPS, TFLM_CUSTOM_OPS,
                            TFLM_FLOAT_ONLY_OPS)


class CorruptModelError(ValueError):
  """The bytes are not a readable TFLite flatbuffer (wrong format, truncated, corrupt)."""


@dataclasses.dataclass(frozen=True)
class Quantization:
  """Affine quantization of a tensor: real = scale * (q - zero_point).

  Attributes:
    scale: One scale per tensor, or one per channel along `quantized_dimension`.
    zero_point: Zero points, same length as `scale`.
    quantized_dimension: The channel axis for per-channel quantization.
  """
  scale: tuple[float, ...]
  zero_point: tuple[int, ...]
  quantized_dimension: int = 0

  @property
  def per_channel(self) -> bool:
    return len(self.scale) > 1


@dataclasses.dataclass(frozen=True)
class TensorInfo:
  """One tensor of a subgraph.

  Attributes:
    index: Index in its subgraph's tensor list.
    name: Tensor name as stored in the file.
    shape: Static shape (dynamic dimensions are stored as 1).
    shape_signature: Shape with -1 for dynamic dimensions (equals `shape` if static).
    dtype: Numpy-style dtype name ("float32", "int8", ...).
    buffer: Index into the model's buffer table (0 means no data).
    is_constant: True if the tensor has constant data in the file (a weight).
    is_variable: True for variable (state) tensors.
    nbytes: Size of the tensor's data, from its static shape.
    quantization: Affine quantization parameters, or None.
  """
  index: int
  name: str
  shape: tuple[int, ...]
  shape_signature: tuple[int, ...]
  dtype: str
  buffer: int
  is_constant: bool
  is_variable: bool
  nbytes: int
  quantization: Quantization | None

  @property
  def scale(self) -> float | None:
    """The per-tensor scale (first channel's if per-channel), or None."""
    return self.quantization.scale[0] if self.quantization else None

  @property
  def zero_point(self) -> int | None:
    """The per-tensor zero point (first channel's if per-channel), or None."""
    return self.quantization.zero_point[0] if self.quantization else None


@dataclasses.dataclass(frozen=True)
class OperatorInfo:
  """One operator of a subgraph.

  Attributes:
    subgraph: Index of its subgraph.
    index: Position in the subgraph's execution order.
    name: Builtin op name ("FULLY_CONNECTED") or the custom code ("LceBconv2d").
    is_custom: True for custom ops.
    inputs: Tensor indices of the inputs (-1 marks an omitted optional input).
    outputs: Tensor indices of the outputs.
  """
  subgraph: int
  index: int
  name: str
  is_custom: bool
  inputs: tuple[int, ...]
  outputs: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class SubgraphInfo:
  """One subgraph: its tensors, its operators in execution order, inputs, outputs."""
  index: int
  name: str
  tensors: tuple[TensorInfo, ...]
  operators: tuple[OperatorInfo, ...]
  inputs: tuple[int, ...]
  outputs: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class SignatureInfo:
  """A SignatureDef: names the inputs/outputs of one subgraph.

  Attributes:
    key: Signature key, e.g. "serving_default".
    subgraph_index: The subgraph the signature runs.
    inputs: Signature input name -> tensor index, in the file's order.
    outputs: Signature output name -> tensor index, in the file's order.
  """
  key: str
  subgraph_index: int
  inputs: dict[str, int]
  outputs: dict[str, int]


@dataclasses.dataclass(frozen=True)
class IOTensor:
  """A model input or output as a caller sees it.

  Attributes:
    name: The signature name ("node_features", "logits") if the model has a
      SignatureDef, else a name derived from the tensor name.
    position: Position in the subgraph's input (or output) list: the index the
      TFLM and LCE interpreters use.
    tensor: The underlying tensor.
  """
  name: str
  position: int
  tensor: TensorInfo

  @property
  def shape(self) -> tuple[int, ...]:
    return self.tensor.shape

  @property
  def dtype(self) -> str:
    return self.tensor.dtype

  @property
  def quantization(self) -> Quantization | None:
    return self.tensor.quantization


@dataclasses.dataclass(frozen=True)
class RuntimeSupport:
  """Which runtimes can run the model.

  Attributes:
    builtins: No custom ops: any stock TFLite runtime (ai-edge-litert) runs it.
    needs_lce: Has Larq Compute Engine custom ops (Lce*): needs the LCE runtime.
    tflm_compatible: Every op is in TFLM's op resolver and the model is fully
      integer (no float compute op between input QUANTIZE and output DEQUANTIZE).
    tflm_blockers: Why `tflm_compatible` is False (empty if it is True).
  """
  builtins: bool
  needs_lce: bool
  tflm_compatible: bool
  tflm_blockers: tuple[str, ...]
  only_lce_custom_ops: bool = True

  @property
  def runnable_by(self) -> tuple[str, ...]:
    """The runtime names (as `edgegnn.runtime.open_runtime` takes them) that can
    run the model: litert (builtin ops only), lce (builtins plus Lce* ops), tflm."""
    names = []
    if self.builtins:
      names.append("litert")
    if self.only_lce_custom_ops:
      names.append("lce")
    if self.tflm_compatible:
      names.append("tflm")
    return tuple(names)


@dataclasses.dataclass(frozen=True)
class TfliteModelInfo:
  """Everything `read_model` learns about a `.tflite` file.

  Attributes:
    path: The file path, or None if read from bytes.
    data: The raw file bytes.
    file_bytes: Size of the file in bytes.
    version: Schema version (3).
    description: The model's description string.
    subgraphs: All subgraphs; subgraph 0 is the main one.
    op_histogram: Op name -> count over all subgraphs, most frequent first.
    weight_bytes: Constant (weight) buffer bytes by dtype, each buffer counted once.
    total_tensor_bytes: Sum of every tensor's size (weights and activations).
    activation_bytes: Sum of the non-constant tensors' sizes.
    inputs: The main signature's (or subgraph 0's) inputs, in signature order.
    outputs: Its outputs, in signature order.
    signatures: All SignatureDefs.
    signature_key: The signature `inputs`/`outputs` follow ("serving_default" if
      present, else the first), or None if the model has none (then they are
      subgraph 0's, named after their tensors).
    runtimes: Runtime compatibility.
    metadata: Metadata entry names -> size in bytes.
  """
  path: str | None
  data: bytes = dataclasses.field(repr=False)
  file_bytes: int
  version: int
  description: str
  subgraphs: tuple[SubgraphInfo, ...] = dataclasses.field(repr=False)
  op_histogram: dict[str, int]
  weight_bytes: dict[str, int]
  total_tensor_bytes: int
  activation_bytes: int
  inputs: tuple[IOTensor, ...]
  outputs: tuple[IOTensor, ...]
  signatures: tuple[SignatureInfo, ...]
  signature_key: str | None
  runtimes: RuntimeSupport
  metadata: dict[str, int]

  @property
  def total_weight_bytes(self) -> int:
    return sum(self.weight_bytes.values())

  @property
  def custom_ops(self) -> list[str]:
    return sorted({op.name for op in self.operators() if op.is_custom})

  def operators(self) -> Iterable[OperatorInfo]:
    """All operators of all subgraphs, in order."""
    for subgraph in self.subgraphs:
      yield from subgraph.operators

  def input(self, name: str) -> IOTensor:
    """The input called `name`; raises KeyError listing the valid names."""
    return _by_name(self.inputs, name, "input")

  def output(self, name: str) -> IOTensor:
    """The output called `name`; raises KeyError listing the valid names."""
    return _by_name(self.outputs, name, "output")


def _by_name(items: Sequence[IOTensor], name: str, kind: str) -> IOTensor:
  for item in items:
    if item.name == name:
      return item
  raise KeyError(f"no {kind} named {name!r}; the model's {kind}s are "
                 f"{[item.name for item in items]}")



def _is_float(tensor: TensorInfo) -> bool:
  return tensor.dtype in FLOAT_DTYPES


def _op_is_float_compute(op: OperatorInfo, tensors: Sequence[TensorInfo]) -> bool:
  if op.name in FLOAT_BOUNDARY_OPS or op.name in LAYOUT_OPS:
    return False
  activations_in = [tensors[i] for i in op.inputs if i >= 0 and not tensors[i].is_constant]
  outs = [tensors[i] for i in op.outputs]
  return any(_is_float(t) for t in activations_in) or any(_is_float(t) for t in outs)


def float_compute_ops(model: TfliteModelInfo) -> list[OperatorInfo]:
  """The operators that compute in floating point.

  An op computes in float if one of its non-constant inputs or one of its outputs is
  a float tensor (float16/32/64, bfloat16). Excluded: QUANTIZE and DEQUANTIZE (the
  float/integer boundary) and pure layout ops (RESHAPE, SQUEEZE, EXPAND_DIMS, SHAPE).
  A fully integer model (an artifact called "int8") returns an empty list;
  dynamic-range quantization (float activations, int8 weights) does not.

  Args:
    model: A parsed model.

  Returns:
    The float-computing operators, in subgraph and execution order.
  """
  found = []
  for subgraph in model.subgraphs:
    for op in subgraph.operators:
      if _op_is_float_compute(op, subgraph.tensors):
        found.append(op)
  return found


def runtime_support(info: TfliteModelInfo) -> RuntimeSupport:
  """Which runtimes can run `info`: custom (LCE) ops, TFLM's op list, float compute."""
  custom = info.custom_ops
  needs_lce = any(name.startswith("Lce") for name in custom)
  blockers = []
  unsupported = sorted({op.name for op in info.operators()
                        if (op.is_custom and op.name not in TFLM_CUSTOM_OPS) or
                        (not op.is_custom and op.name not in TFLM_BUILTIN_OPS)})
  if unsupported:
    blockers.append("ops not in TFLM's op resolver: " + ", ".join(unsupported))
  floats = float_compute_ops(info)
  if floats:
    names = sorted({op.name for op in floats})
    blockers.append(f"{len(floats)} float compute op(s): " + ", ".join(names))
  integer_only_in_float = sorted({op.name for op in info.operators()
                                  if op.name in TFLM_FLOAT_ONLY_OPS and op not in floats})
  if integer_only_in_float:
    blockers.append("integer ops whose TFLM kernel is float32-only: "
                    + ", ".join(integer_only_in_float))
  return RuntimeSupport(builtins=not custom, needs_lce=needs_lce,
                        tflm_compatible=not blockers, tflm_blockers=tuple(blockers),
                        only_lce_custom_ops=all(name.startswith("Lce") for name in custom))

