"""Parses a `.tflite` flatbuffer without TensorFlow (`read_model`).

Imports only numpy and the standard library (the flatbuffer is read with `struct`). A
file that is not a TFLite flatbuffer, or is truncated or corrupt, raises
`CorruptModelError` naming the file and the problem.
"""
from __future__ import annotations

import collections
import dataclasses
import math
import os
import struct
from typing import Sequence

import numpy as np

from .tflite_model import (CorruptModelError, IOTensor, OperatorInfo,
                           Quantization, RuntimeSupport, SignatureInfo,
                           SubgraphInfo, TensorInfo, TfliteModelInfo,
                           runtime_support)
from .tflite_tables import FILE_IDENTIFIER, TENSOR_TYPES


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


def _name(raw: bytes | None, where: str) -> str:
  """A signature name: the interpreters read it as a C string, so one holding NUL or
  invalid UTF-8 would name a different input there than here."""
  try:
    name = raw.decode("utf-8") if raw else ""
  except UnicodeDecodeError:
    name = "\0"
  _check("\0" not in name, f"{where}: name {raw!r} is not valid text")
  return name


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
        named[_name(entry.Name(), f"signature {k} entry {i}")] = index
      _check(len(named) == length, f"signature {k} names an input or output twice")
      maps.append(named)
    signatures.append(SignatureInfo(_name(sig.SignatureKey(), f"signature {k}"), sub, *maps))

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
  return dataclasses.replace(info, runtimes=runtime_support(info))


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
    _check(type_code in TENSOR_TYPES,
           f"subgraph {s} tensor {t}: unknown tensor type {type_code}")
    _check(all(d >= 0 for d in shape), f"subgraph {s} tensor {t}: shape {shape}")
    dtype, bits = TENSOR_TYPES[type_code]
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
      _check_quantization(f"subgraph {s} tensor {t}", quantization, dtype, shape)
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
  info = SubgraphInfo(
      index=s, name=_text(sg.Name()), tensors=tuple(tensors),
      operators=tuple(operators), inputs=indices(sg.InputsAsNumpy(), "input"),
      outputs=indices(sg.OutputsAsNumpy(), "output"))
  _check_dataflow(info, buffer_sizes)
  return info


# The zero points a quantized tensor of each type can hold; kernels index lookup tables
# and clamp with them unchecked.
_ZERO_POINT_RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767),
                      "int4": (-8, 7), "uint4": (0, 15)}


def _check_quantization(where: str, q: Quantization, dtype: str, shape: tuple) -> None:
  _check(all(math.isfinite(x) and x > 0 for x in q.scale),
         f"{where}: quantization scales must be finite and > 0, got {q.scale[:4]}")
  _check(len(q.zero_point) == len(q.scale),
         f"{where}: {len(q.scale)} scales but {len(q.zero_point)} zero points")
  low, high = _ZERO_POINT_RANGES.get(dtype, (-(2 ** 31), 2 ** 31 - 1))
  _check(all(low <= z <= high for z in q.zero_point),
         f"{where}: zero points {q.zero_point[:4]} outside {dtype}'s [{low}, {high}]")
  if len(q.scale) > 1:  # per-channel: one per slice along the quantized dimension
    _check(0 <= q.quantized_dimension < len(shape)
           and shape[q.quantized_dimension] == len(q.scale),
           f"{where}: {len(q.scale)} per-channel scales for dimension "
           f"{q.quantized_dimension} of shape {shape}")


def _check_dataflow(sg: SubgraphInfo, buffer_sizes: list[int]) -> None:
  """The invariants every converter output keeps and the interpreters rely on without
  checking (a file that breaks them can crash LiteRT's kernels): constant data as long
  as its tensor's shape says, operators in dataflow order (each input a constant, a
  subgraph input, a variable or an earlier operator's output), each tensor written by
  one operator at most and never a constant or a subgraph input."""
  where = f"subgraph {sg.index}"
  for t in sg.tensors:
    if t.is_constant and t.dtype != "string" and t.dtype not in ("int4", "int2", "uint4"):
      _check(buffer_sizes[t.buffer] == t.nbytes,
             f"{where} tensor {t.index}: {buffer_sizes[t.buffer]} bytes of data for shape "
             f"{t.shape} {t.dtype} ({t.nbytes} bytes)")
  available = set(sg.inputs) | {t.index for t in sg.tensors
                                if t.is_constant or t.is_variable}
  inputs = set(sg.inputs)
  written: set[int] = set()
  for op in sg.operators:
    for i in op.inputs:
      _check(i < 0 or i in available,
             f"{where} operator {op.index} ({op.name}) reads tensor {i} before any "
             "operator writes it")
    for o in op.outputs:
      tensor = sg.tensors[o]
      _check(o not in written and o not in inputs and not tensor.is_constant,
             f"{where} operator {op.index} ({op.name}) writes tensor {o}, which is "
             + ("written twice" if o in written else "an input" if o in inputs
                else "a constant"))
      written.add(o)
      available.add(o)


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

