"""Reads a `.tflite` flatbuffer without TensorFlow: ops, tensors, weights, signatures.

This is the runtime side of edgegnn: it imports only numpy and the flatbuffers schema
that ships with `ai_edge_litert` (falling back to the copy inside `tflite_micro`), so
it works on a Raspberry Pi that has a runtime but no TensorFlow.

`read_model` returns a `TfliteModelInfo`: the op histogram (builtin names such as
"FULLY_CONNECTED", custom names such as "LceBconv2d"), every tensor of every subgraph,
constant (weight) bytes by dtype, the model inputs/outputs with their quantization,
the SignatureDefs, and which runtimes can run the file (`RuntimeSupport`).

A file that is not a TFLite flatbuffer, or is truncated or corrupt, raises
`CorruptModelError` (a `ValueError`) naming the file and the problem.
"""
from __future__ import annotations

import collections
import dataclasses
import os
import struct
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

FILE_IDENTIFIER = b"TFL3"

# The ops of TFLM's op resolver, as builtin op name -> the `MicroMutableOpResolver`
# method that registers it. Documented constant: the tflite-micro Python package does
# not expose its resolver's op list. Source: tensorflow/tflite-micro,
# python/tflite_micro/python_ops_resolver.cc (the resolver the Python interpreter
# uses), builtin ops only; the test suite checks that each one has a `Register_<OP>`
# kernel in the installed package's `_runtime.so`.
TFLM_BUILTIN_OPS: Mapping[str, str] = {
    "ABS": "AddAbs",
    "ADD": "AddAdd",
    "ADD_N": "AddAddN",
    "ARG_MAX": "AddArgMax",
    "ARG_MIN": "AddArgMin",
    "ASSIGN_VARIABLE": "AddAssignVariable",
    "AVERAGE_POOL_2D": "AddAveragePool2D",
    "BATCH_MATMUL": "AddBatchMatMul",
    "BATCH_TO_SPACE_ND": "AddBatchToSpaceNd",
    "BROADCAST_ARGS": "AddBroadcastArgs",
    "BROADCAST_TO": "AddBroadcastTo",
    "CALL_ONCE": "AddCallOnce",
    "CAST": "AddCast",
    "CEIL": "AddCeil",
    "CONCATENATION": "AddConcatenation",
    "CONV_2D": "AddConv2D",
    "COS": "AddCos",
    "CUMSUM": "AddCumSum",
    "DEPTH_TO_SPACE": "AddDepthToSpace",
    "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D",
    "DEQUANTIZE": "AddDequantize",
    "DIV": "AddDiv",
    "ELU": "AddElu",
    "EMBEDDING_LOOKUP": "AddEmbeddingLookup",
    "EQUAL": "AddEqual",
    "EXP": "AddExp",
    "EXPAND_DIMS": "AddExpandDims",
    "FILL": "AddFill",
    "FLOOR": "AddFloor",
    "FLOOR_DIV": "AddFloorDiv",
    "FLOOR_MOD": "AddFloorMod",
    "FULLY_CONNECTED": "AddFullyConnected",
    "GATHER": "AddGather",
    "GATHER_ND": "AddGatherNd",
    "GREATER": "AddGreater",
    "GREATER_EQUAL": "AddGreaterEqual",
    "HARD_SWISH": "AddHardSwish",
    "IF": "AddIf",
    "L2_NORMALIZATION": "AddL2Normalization",
    "L2_POOL_2D": "AddL2Pool2D",
    "LEAKY_RELU": "AddLeakyRelu",
    "LESS": "AddLess",
    "LESS_EQUAL": "AddLessEqual",
    "LOG": "AddLog",
    "LOG_SOFTMAX": "AddLogSoftmax",
    "LOGICAL_AND": "AddLogicalAnd",
    "LOGICAL_NOT": "AddLogicalNot",
    "LOGICAL_OR": "AddLogicalOr",
    "LOGISTIC": "AddLogistic",
    "MAX_POOL_2D": "AddMaxPool2D",
    "MAXIMUM": "AddMaximum",
    "MEAN": "AddMean",
    "MINIMUM": "AddMinimum",
    "MIRROR_PAD": "AddMirrorPad",
    "MUL": "AddMul",
    "NEG": "AddNeg",
    "NOT_EQUAL": "AddNotEqual",
    "PACK": "AddPack",
    "PAD": "AddPad",
    "PADV2": "AddPadV2",
    "PRELU": "AddPrelu",
    "QUANTIZE": "AddQuantize",
    "READ_VARIABLE": "AddReadVariable",
    "REDUCE_MAX": "AddReduceMax",
    "RELU": "AddRelu",
    "RELU6": "AddRelu6",
    "RESHAPE": "AddReshape",
    "RESIZE_BILINEAR": "AddResizeBilinear",
    "RESIZE_NEAREST_NEIGHBOR": "AddResizeNearestNeighbor",
    "ROUND": "AddRound",
    "RSQRT": "AddRsqrt",
    "SELECT_V2": "AddSelectV2",
    "SHAPE": "AddShape",
    "SIN": "AddSin",
    "SLICE": "AddSlice",
    "SOFTMAX": "AddSoftmax",
    "SPACE_TO_BATCH_ND": "AddSpaceToBatchNd",
    "SPACE_TO_DEPTH": "AddSpaceToDepth",
    "SPLIT": "AddSplit",
    "SPLIT_V": "AddSplitV",
    "SQRT": "AddSqrt",
    "SQUARE": "AddSquare",
    "SQUARED_DIFFERENCE": "AddSquaredDifference",
    "SQUEEZE": "AddSqueeze",
    "STRIDED_SLICE": "AddStridedSlice",
    "SUB": "AddSub",
    "SUM": "AddSum",
    "SVDF": "AddSvdf",
    "TANH": "AddTanh",
    "TRANSPOSE": "AddTranspose",
    "TRANSPOSE_CONV": "AddTransposeConv",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "AddUnidirectionalSequenceLSTM",
    "UNPACK": "AddUnpack",
    "VAR_HANDLE": "AddVarHandle",
    "WHILE": "AddWhile",
    "ZEROS_LIKE": "AddZerosLike",
}

# Custom ops TFLM's resolver knows (custom code -> registering method).
TFLM_CUSTOM_OPS: Mapping[str, str] = {
    "TFLite_Detection_PostProcess": "AddDetectionPostprocess",
    "CIRCULAR_BUFFER": "AddCircularBuffer",
}

# Ops that may touch float tensors without computing in float: the boundary
# conversions and pure shape/layout changes.
_FLOAT_BOUNDARY_OPS = frozenset({"QUANTIZE", "DEQUANTIZE"})
_LAYOUT_OPS = frozenset({"RESHAPE", "SQUEEZE", "EXPAND_DIMS", "SHAPE"})
_FLOAT_DTYPES = frozenset({"float16", "float32", "float64", "bfloat16"})

# TensorType enum value -> (dtype name, bits per element).
_TENSOR_TYPES: Mapping[int, tuple[str, int]] = {
    0: ("float32", 32), 1: ("float16", 16), 2: ("int32", 32), 3: ("uint8", 8),
    4: ("int64", 64), 5: ("string", 8), 6: ("bool", 8), 7: ("int16", 16),
    8: ("complex64", 64), 9: ("int8", 8), 10: ("float64", 64),
    11: ("complex128", 128), 12: ("uint64", 64), 13: ("resource", 0),
    14: ("variant", 0), 15: ("uint32", 32), 16: ("uint16", 16), 17: ("int4", 4),
    18: ("bfloat16", 16), 19: ("int2", 2), 20: ("uint4", 4),
    21: ("float8_e4m3fn", 8), 22: ("float8_e5m2", 8),
}


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


class _StrictBytes(bytes):
  """Bytes whose slices fail instead of silently shortening past the end.

  The flatbuffers Python runtime reads strings by slicing; on a truncated file a
  slice would quietly return fewer bytes. Scalars (struct) and numpy vectors
  (np.frombuffer with a count) already fail out of range.
  """

  def __getitem__(self, key):
    if isinstance(key, slice) and key.stop is not None and key.stop > len(self):
      raise IndexError(f"read of bytes [{key.start}:{key.stop}] past the end of "
                       f"a {len(self)}-byte file")
    return bytes.__getitem__(self, key)


class _Corrupt(Exception):
  """Internal: a consistency check failed while parsing."""


def _schema():
  """The flatbuffers-generated TFLite schema module, without TensorFlow."""
  try:
    from ai_edge_litert import schema_py_generated  # pylint: disable=g-import-not-at-top
    return schema_py_generated
  except ImportError:
    pass
  try:
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated  # pylint: disable=g-import-not-at-top
    return schema_py_generated
  except ImportError as e:
    raise ImportError("reading .tflite files needs the TFLite flatbuffer schema: "
                      "install ai-edge-litert (or tflite-micro)") from e


def _builtin_names(schema) -> dict[int, str]:
  return {value: name for name, value in vars(schema.BuiltinOperator).items()
          if not name.startswith("_") and isinstance(value, int)}


def _load(path_or_bytes: str | os.PathLike | bytes | bytearray | memoryview
         ) -> tuple[str | None, bytes]:
  if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
    return None, bytes(path_or_bytes)
  path = os.fspath(path_or_bytes)
  with open(path, "rb") as f:
    return path, f.read()


def read_model(path_or_bytes: str | os.PathLike | bytes | bytearray | memoryview
              ) -> TfliteModelInfo:
  """Parses a `.tflite` file (path or bytes) without TensorFlow.

  Args:
    path_or_bytes: A file path or the model's bytes.

  Returns:
    The model's `TfliteModelInfo`.

  Raises:
    CorruptModelError: The data is not a TFLite flatbuffer, or is truncated or
      internally inconsistent. The message names the path and the problem.
    OSError: The file cannot be read.
  """
  path, data = _load(path_or_bytes)
  where = path if path is not None else "<bytes>"
  if len(data) < 8:
    raise CorruptModelError(f"{where}: truncated: {len(data)} bytes is too short "
                            "for a TFLite flatbuffer")
  if data[4:8] != FILE_IDENTIFIER:
    raise CorruptModelError(f"{where}: not a TFLite flatbuffer (missing TFL3 "
                            f"identifier; found {bytes(data[4:8])!r})")
  try:
    return _parse(path, data)
  except _Corrupt as e:
    raise CorruptModelError(f"{where}: corrupt TFLite flatbuffer: {e}") from None
  except (struct.error, IndexError, ValueError, TypeError, OverflowError,
          UnicodeDecodeError, MemoryError) as e:
    raise CorruptModelError(
        f"{where}: truncated or corrupt TFLite flatbuffer ({len(data)} bytes): "
        f"{type(e).__name__}: {e}") from None


def _check(condition: bool, message: str) -> None:
  if not condition:
    raise _Corrupt(message)


def _text(raw: bytes | None) -> str:
  return raw.decode("utf-8", errors="replace") if raw else ""


def _numpy_or_empty(value) -> np.ndarray:
  return value if isinstance(value, np.ndarray) else np.zeros((0,), np.int64)


def _parse(path: str | None, data: bytes) -> TfliteModelInfo:
  schema = _schema()
  builtin_names = _builtin_names(schema)
  buf = _StrictBytes(data)
  size = len(buf)
  root = struct.unpack_from("<I", buf, 0)[0]
  _check(8 <= root < size, f"root table offset {root} is outside the file")
  model = schema.Model.GetRootAs(buf, 0)
  version = model.Version()
  _check(version == 3, f"schema version {version}, expected 3")

  # Buffers: data inline, or (models > 2 GB) at an offset/size in the file.
  num_buffers = model.BuffersLength()
  _check(num_buffers <= size, f"implausible buffer count {num_buffers}")
  buffer_sizes = []
  for b in range(num_buffers):
    buffer = model.Buffers(b)
    offset, length = buffer.Offset(), buffer.Size()
    if offset > 1:
      _check(offset + length <= size,
             f"buffer {b} ([{offset}, {offset + length})) runs past the end of "
             f"the {size}-byte file (truncated?)")
      buffer_sizes.append(length)
    else:
      n = buffer.DataLength()
      if n:
        buffer.DataAsNumpy()  # Raises if the vector runs past the end.
      buffer_sizes.append(n)

  num_opcodes = model.OperatorCodesLength()
  _check(num_opcodes <= size, f"implausible operator-code count {num_opcodes}")
  op_names, op_custom = [], []
  for c in range(num_opcodes):
    code = model.OperatorCodes(c)
    builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    name = builtin_names.get(builtin)
    _check(name is not None, f"operator code {c} has unknown builtin code {builtin}")
    if name == "CUSTOM":
      custom = _text(code.CustomCode())
      _check(bool(custom), f"custom operator code {c} has no name")
      op_names.append(custom)
      op_custom.append(True)
    else:
      op_names.append(name)
      op_custom.append(False)

  num_subgraphs = model.SubgraphsLength()
  _check(num_subgraphs >= 1, "the model has no subgraph")
  _check(num_subgraphs <= size, f"implausible subgraph count {num_subgraphs}")
  subgraphs = []
  for s in range(num_subgraphs):
    subgraphs.append(_parse_subgraph(schema, model.Subgraphs(s), s, size,
                                     buffer_sizes, op_names, op_custom))

  signatures = []
  for k in range(model.SignatureDefsLength()):
    sig = model.SignatureDefs(k)
    sub = sig.SubgraphIndex()
    _check(0 <= sub < num_subgraphs, f"signature {k} names subgraph {sub}")
    num_tensors = len(subgraphs[sub].tensors)
    maps = []
    for length, get in ((sig.InputsLength(), sig.Inputs),
                        (sig.OutputsLength(), sig.Outputs)):
      named = {}
      for i in range(length):
        entry = get(i)
        index = entry.TensorIndex()
        _check(0 <= index < num_tensors,
               f"signature {k} maps to tensor {index} of {num_tensors}")
        named[_text(entry.Name())] = index
      maps.append(named)
    signatures.append(SignatureInfo(_text(sig.SignatureKey()), sub, *maps))

  metadata = {}
  for m in range(model.MetadataLength()):
    entry = model.Metadata(m)
    b = entry.Buffer()
    _check(0 <= b < num_buffers, f"metadata {m} names buffer {b}")
    metadata[_text(entry.Name())] = buffer_sizes[b]

  weight_bytes: dict[str, int] = collections.defaultdict(int)
  seen_buffers = set()
  total = activations = 0
  for subgraph in subgraphs:
    for tensor in subgraph.tensors:
      total += tensor.nbytes
      if tensor.is_constant:
        if tensor.buffer not in seen_buffers:
          seen_buffers.add(tensor.buffer)
          weight_bytes[tensor.dtype] += buffer_sizes[tensor.buffer]
      else:
        activations += tensor.nbytes

  histogram = collections.Counter(op.name for sg in subgraphs for op in sg.operators)
  main = _main_signature(signatures)
  inputs, outputs = _io_tensors(subgraphs, main)
  info = TfliteModelInfo(
      path=path,
      data=data,
      file_bytes=size,
      version=version,
      description=_text(model.Description()),
      subgraphs=tuple(subgraphs),
      op_histogram=dict(sorted(histogram.items(), key=lambda kv: (-kv[1], kv[0]))),
      weight_bytes=dict(sorted(weight_bytes.items())),
      total_tensor_bytes=total,
      activation_bytes=activations,
      inputs=inputs,
      outputs=outputs,
      signatures=tuple(signatures),
      signature_key=main.key if main else None,
      runtimes=RuntimeSupport(False, False, False, ()),
      metadata=metadata,
  )
  return dataclasses.replace(info, runtimes=_runtime_support(info))


def _parse_subgraph(schema, sg, s: int, size: int, buffer_sizes: list[int],
                    op_names: list[str], op_custom: list[bool]) -> SubgraphInfo:
  """Reads one subgraph, checking every index it holds."""
  num_tensors = sg.TensorsLength()
  _check(num_tensors <= size, f"subgraph {s}: implausible tensor count {num_tensors}")
  tensors = []
  for t in range(num_tensors):
    tensor = sg.Tensors(t)
    shape = tuple(int(d) for d in _numpy_or_empty(tensor.ShapeAsNumpy()))
    signature = tuple(int(d) for d in _numpy_or_empty(tensor.ShapeSignatureAsNumpy()))
    type_code = tensor.Type()
    _check(type_code in _TENSOR_TYPES,
           f"subgraph {s} tensor {t}: unknown tensor type {type_code}")
    _check(all(d >= 0 for d in shape), f"subgraph {s} tensor {t}: shape {shape}")
    dtype, bits = _TENSOR_TYPES[type_code]
    buffer = tensor.Buffer()
    _check(0 <= buffer < len(buffer_sizes),
           f"subgraph {s} tensor {t}: buffer {buffer} of {len(buffer_sizes)}")
    constant = buffer > 0 and buffer_sizes[buffer] > 0
    elements = int(np.prod(shape, dtype=np.int64)) if shape else 1
    nbytes = buffer_sizes[buffer] if constant and dtype == "string" else (
        elements * bits + 7) // 8
    quant = tensor.Quantization()
    quantization = None
    if quant is not None and quant.ScaleLength() > 0:
      scales = tuple(float(x) for x in quant.ScaleAsNumpy())
      zeros = _numpy_or_empty(quant.ZeroPointAsNumpy())
      zero_points = tuple(int(x) for x in zeros) if len(zeros) else (0,) * len(scales)
      quantization = Quantization(scales, zero_points, int(quant.QuantizedDimension()))
    tensors.append(TensorInfo(
        index=t, name=_text(tensor.Name()), shape=shape,
        shape_signature=signature if signature else shape, dtype=dtype,
        buffer=buffer, is_constant=constant, is_variable=bool(tensor.IsVariable()),
        nbytes=nbytes, quantization=quantization))

  def indices(values, what: str, allow_optional: bool = False) -> tuple[int, ...]:
    out = tuple(int(v) for v in _numpy_or_empty(values))
    low = -1 if allow_optional else 0
    for v in out:
      _check(low <= v < num_tensors,
             f"subgraph {s}: {what} names tensor {v} of {num_tensors}")
    return out

  operators = []
  num_ops = sg.OperatorsLength()
  _check(num_ops <= size, f"subgraph {s}: implausible operator count {num_ops}")
  for o in range(num_ops):
    op = sg.Operators(o)
    code = op.OpcodeIndex()
    _check(0 <= code < len(op_names),
           f"subgraph {s} operator {o}: opcode index {code} of {len(op_names)}")
    operators.append(OperatorInfo(
        subgraph=s, index=o, name=op_names[code], is_custom=op_custom[code],
        inputs=indices(op.InputsAsNumpy(), f"operator {o} input", True),
        outputs=indices(op.OutputsAsNumpy(), f"operator {o} output")))
  return SubgraphInfo(
      index=s, name=_text(sg.Name()), tensors=tuple(tensors),
      operators=tuple(operators), inputs=indices(sg.InputsAsNumpy(), "input"),
      outputs=indices(sg.OutputsAsNumpy(), "output"))


def _clean_tensor_name(name: str) -> str:
  """'serving_default_node_features:0' -> 'node_features' (models without signature)."""
  if name.startswith("serving_default_"):
    name = name[len("serving_default_"):]
  if ":" in name:
    name = name.rsplit(":", 1)[0]
  return name


def _main_signature(signatures: Sequence[SignatureInfo]) -> SignatureInfo | None:
  for sig in signatures:
    if sig.key == "serving_default":
      return sig
  return signatures[0] if signatures else None


def _io_tensors(subgraphs: Sequence[SubgraphInfo], main: SignatureInfo | None
               ) -> tuple[tuple[IOTensor, ...], tuple[IOTensor, ...]]:
  """The main signature's inputs/outputs (or subgraph 0's, named after tensors)."""
  if main is not None:
    subgraph = subgraphs[main.subgraph_index]
    result = []
    for named, order in ((main.inputs, subgraph.inputs),
                         (main.outputs, subgraph.outputs)):
      items = []
      for name, index in named.items():
        _check(index in order, f"signature {main.key!r}: {name!r} (tensor {index}) "
               "is not a subgraph input/output")
        items.append(IOTensor(name, order.index(index), subgraph.tensors[index]))
      result.append(tuple(items))
    return result[0], result[1]
  subgraph = subgraphs[0]
  result = []
  for order in (subgraph.inputs, subgraph.outputs):
    items, used = [], set()
    for position, index in enumerate(order):
      name = _clean_tensor_name(subgraph.tensors[index].name) or f"tensor_{index}"
      if name in used:
        name = f"{name}_{position}"
      used.add(name)
      items.append(IOTensor(name, position, subgraph.tensors[index]))
    result.append(tuple(items))
  return result[0], result[1]


def _is_float(tensor: TensorInfo) -> bool:
  return tensor.dtype in _FLOAT_DTYPES


def _op_is_float_compute(op: OperatorInfo, tensors: Sequence[TensorInfo]) -> bool:
  if op.name in _FLOAT_BOUNDARY_OPS or op.name in _LAYOUT_OPS:
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


def _runtime_support(info: TfliteModelInfo) -> RuntimeSupport:
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
  return RuntimeSupport(builtins=not custom, needs_lce=needs_lce,
                        tflm_compatible=not blockers, tflm_blockers=tuple(blockers))


def _quant_json(q: Quantization | None) -> dict[str, Any] | None:
  if q is None:
    return None
  if not q.per_channel:
    return {"scale": q.scale[0], "zero_point": q.zero_point[0]}
  return {"scale": list(q.scale), "zero_point": list(q.zero_point),
          "quantized_dimension": q.quantized_dimension}


def _io_json(item: IOTensor) -> dict[str, Any]:
  t = item.tensor
  return {"name": item.name, "tensor": t.name, "tensor_index": t.index,
          "position": item.position, "shape": list(t.shape),
          "shape_signature": list(t.shape_signature), "dtype": t.dtype,
          "quantization": _quant_json(t.quantization)}


def to_json(info: TfliteModelInfo) -> dict[str, Any]:
  """A JSON-serializable summary of the model (everything but the raw bytes)."""
  return {
      "path": info.path,
      "file_bytes": info.file_bytes,
      "version": info.version,
      "description": info.description,
      "op_histogram": dict(info.op_histogram),
      "custom_ops": info.custom_ops,
      "weight_bytes": dict(info.weight_bytes),
      "total_weight_bytes": info.total_weight_bytes,
      "total_tensor_bytes": info.total_tensor_bytes,
      "activation_bytes": info.activation_bytes,
      "inputs": [_io_json(x) for x in info.inputs],
      "outputs": [_io_json(x) for x in info.outputs],
      "signature_key": info.signature_key,
      "signatures": [{"key": s.key, "subgraph_index": s.subgraph_index,
                      "inputs": dict(s.inputs), "outputs": dict(s.outputs)}
                     for s in info.signatures],
      "runtimes": dataclasses.asdict(info.runtimes) | {
          "tflm_blockers": list(info.runtimes.tflm_blockers)},
      "float_compute_ops": [{"subgraph": op.subgraph, "index": op.index,
                             "name": op.name} for op in float_compute_ops(info)],
      "metadata": dict(info.metadata),
      "subgraphs": [{
          "index": sg.index, "name": sg.name,
          "inputs": list(sg.inputs), "outputs": list(sg.outputs),
          "operators": [{"name": op.name, "inputs": list(op.inputs),
                         "outputs": list(op.outputs)} for op in sg.operators],
          "tensors": [{"index": t.index, "name": t.name, "shape": list(t.shape),
                       "dtype": t.dtype, "nbytes": t.nbytes,
                       "constant": t.is_constant,
                       "quantization": _quant_json(t.quantization)}
                      for t in sg.tensors],
      } for sg in info.subgraphs],
  }


def _human(n: int) -> str:
  if n < 1024:
    return f"{n} B"
  if n < 1024 * 1024:
    return f"{n / 1024:.1f} KiB"
  return f"{n / (1024 * 1024):.2f} MiB"


def _io_line(item: IOTensor) -> str:
  t = item.tensor
  shape = "x".join(str(d) for d in t.shape_signature) or "scalar"
  line = f"  {item.name:<20} {t.dtype:<8} [{shape}]"
  if t.quantization is not None:
    if t.quantization.per_channel:
      line += f"  per-channel ({len(t.quantization.scale)} scales)"
    else:
      line += f"  scale={t.scale:.6g} zero_point={t.zero_point}"
  return line + f"  (tensor {t.index} {t.name!r})"


def format_text(info: TfliteModelInfo) -> str:
  """A readable report of the model, as printed by `edgegnn inspect`."""
  lines = [f"model: {info.path or '<bytes>'}",
           f"  size {_human(info.file_bytes)} ({info.file_bytes} bytes), "
           f"schema v{info.version}, {len(info.subgraphs)} subgraph(s)"]
  if info.description:
    lines.append(f"  description: {info.description}")
  lines.append("inputs:")
  lines.extend(_io_line(x) for x in info.inputs)
  lines.append("outputs:")
  lines.extend(_io_line(x) for x in info.outputs)
  if info.signatures:
    lines.append("signatures: " + ", ".join(
        f"{s.key}({', '.join(s.inputs)}) -> ({', '.join(s.outputs)})"
        for s in info.signatures))
  else:
    lines.append("signatures: none (names derived from tensor names)")
  total_ops = sum(info.op_histogram.values())
  lines.append(f"ops ({total_ops}):")
  for name, count in info.op_histogram.items():
    lines.append(f"  {name:<28} {count}")
  lines.append(f"weights: {_human(info.total_weight_bytes)}" + (
      " (" + ", ".join(f"{k} {_human(v)}" for k, v in info.weight_bytes.items()) + ")"
      if info.weight_bytes else ""))
  lines.append(f"tensors: {_human(info.total_tensor_bytes)} total, "
               f"{_human(info.activation_bytes)} activations")
  floats = float_compute_ops(info)
  lines.append("float compute ops: " + (
      "none (fully integer)" if not floats else
      ", ".join(f"{op.name}#{op.index}" for op in floats[:12]) +
      (f", ... ({len(floats)} in all)" if len(floats) > 12 else "")))
  rt = info.runtimes
  lines.append("runtimes:")
  lines.append(f"  litert (builtin ops only): {'yes' if rt.builtins else 'no'}")
  lines.append(f"  lce (Larq Compute Engine): "
               f"{'required' if rt.needs_lce else 'yes' if rt.builtins else 'no'}")
  lines.append(f"  tflm (microcontroller):    "
               f"{'yes' if rt.tflm_compatible else 'no: ' + '; '.join(rt.tflm_blockers)}")
  return "\n".join(lines)
