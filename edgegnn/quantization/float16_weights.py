"""Float16 storage for the float layers of a mixed-precision `.tflite` flatbuffer.

The converter turns the fake-quantized layers of a model into int8 ops and leaves the
others in float32; asked for float16 weights too (`supported_types=[tf.float16]`) it keeps
those float32 once any layer is quantized. This pass does for the remaining float layers
what the converter's float16 mode does for a whole model: each float32 constant weight of
a FULLY_CONNECTED / CONV_2D / DEPTHWISE_CONV_2D op is stored as float16 and a DEQUANTIZE op
(float16 -> float32, run once at load by ai-edge-litert) feeds the op:

    W (float32 constant)  ->  W16 (float16 constant) --DEQUANTIZE--> W (float32)

Runtime numerics: float32 compute on weights rounded to float16 (relative error <= 2^-11).
"""
from __future__ import annotations

import numpy as np

_WEIGHTED = ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D")
_DEQUANTIZE_FLOAT16_VERSION = 3   # TFLite's op version of DEQUANTIZE with a float16 input


def _builtin(code) -> int:
  return max(code.builtinCode, code.deprecatedBuiltinCode)


def _dequantize_code(model, schema) -> int:
  """Index of the DEQUANTIZE operator code (added if missing; version raised to float16's)."""
  for index, code in enumerate(model.operatorCodes):
    if _builtin(code) == schema.BuiltinOperator.DEQUANTIZE:
      code.version = max(code.version, _DEQUANTIZE_FLOAT16_VERSION)
      return index
  code = schema.OperatorCodeT()
  code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.DEQUANTIZE
  code.version = _DEQUANTIZE_FLOAT16_VERSION
  model.operatorCodes.append(code)
  return len(model.operatorCodes) - 1


def store_float_weights_as_float16(data: bytes) -> tuple[bytes, int]:
  """(the flatbuffer with every float32 weight of a weighted op stored as float16, how many
  weight tensors were rewritten). Integer layers are left as they are."""
  from tensorflow.lite.python import schema_py_generated as schema  # pylint: disable=g-import-not-at-top
  from tensorflow.lite.tools import flatbuffer_utils  # pylint: disable=g-import-not-at-top
  model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
  weighted = {getattr(schema.BuiltinOperator, name) for name in _WEIGHTED}
  dequantize = None
  rewritten = 0
  for subgraph in model.subgraphs:
    loads, done = [], set()
    for op in subgraph.operators:
      if _builtin(model.operatorCodes[op.opcodeIndex]) not in weighted or len(op.inputs) < 2:
        continue
      index = int(op.inputs[1])
      tensor = subgraph.tensors[index]
      buffer = model.buffers[tensor.buffer]
      if (index in done or tensor.type != schema.TensorType.FLOAT32 or buffer.data is None
          or len(buffer.data) == 0):
        continue
      if dequantize is None:
        dequantize = _dequantize_code(model, schema)
      values = np.frombuffer(bytes(bytearray(buffer.data)), dtype=np.float32)
      half = schema.BufferT()
      half.data = np.frombuffer(values.astype(np.float16).tobytes(), dtype=np.uint8)
      model.buffers.append(half)
      stored = schema.TensorT()
      stored.shape = tensor.shape
      stored.type = schema.TensorType.FLOAT16
      stored.buffer = len(model.buffers) - 1
      stored.name = (tensor.name or b"weights") + b"/float16"
      subgraph.tensors.append(stored)
      buffer.data = None                       # W becomes the DEQUANTIZE's runtime output
      load = schema.OperatorT()
      load.opcodeIndex = dequantize
      load.inputs = np.array([len(subgraph.tensors) - 1], dtype=np.int32)
      load.outputs = np.array([index], dtype=np.int32)
      loads.append(load)
      done.add(index)
    subgraph.operators = loads + list(subgraph.operators)
    rewritten += len(loads)
  return bytes(flatbuffer_utils.convert_object_to_bytearray(model)), rewritten
