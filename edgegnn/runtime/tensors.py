"""Array values for a `.tflite` tensor: quantize, dequantize, check and cast an input.

Float arrays given for an int8/uint8/int16 input are quantized with the tensor's scale
and zero point (per channel where the tensor is); quantized outputs are dequantized to
float32. Every interpreter (`interpreters`), the arena search (`arena`) and a device
bundle's runner convert values with these functions.

Imports numpy and `tflite_file` only.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import tflite_file
from .input_checks import check_integer_cast
from .tflite_file import IOTensor

QUANTIZED_DTYPES = ("int8", "uint8", "int16")


def quantize(values: np.ndarray, io: IOTensor) -> np.ndarray:
  """Quantizes real values for a quantized (int8/uint8/int16) tensor.

  q = clip(round(x / scale) + zero_point), per channel if the tensor is.

  Args:
    values: Real values, shaped like the tensor.
    io: The tensor's description.

  Returns:
    The quantized array with the tensor's dtype.
  """
  q = io.quantization
  dtype = np.dtype(io.dtype)
  if q is None:
    raise ValueError(f"input {io.name!r} is {io.dtype} without quantization "
                     f"parameters; pass {io.dtype} values")
  scale, zero = _broadcast_params(q, np.ndim(values))
  info = np.iinfo(dtype)
  scaled = np.round(np.asarray(values, np.float64) / scale) + zero
  return np.clip(scaled, info.min, info.max).astype(dtype)


def dequantize(values: np.ndarray, io: IOTensor) -> np.ndarray:
  """Real values (float32) of a quantized tensor: scale * (q - zero_point)."""
  q = io.quantization
  if q is None or io.dtype not in QUANTIZED_DTYPES:
    return values
  scale, zero = _broadcast_params(q, np.ndim(values))
  return ((np.asarray(values, np.float64) - zero) * scale).astype(np.float32)


def _broadcast_params(q: tflite_file.Quantization, ndim: int
                     ) -> tuple[np.ndarray, np.ndarray]:
  scale = np.asarray(q.scale, np.float64)
  zero = np.asarray(q.zero_point, np.float64)
  if len(scale) > 1:
    shape = [1] * ndim
    shape[q.quantized_dimension] = len(scale)
    scale, zero = scale.reshape(shape), zero.reshape(shape)
  else:
    scale, zero = scale[0], zero[0]
  return scale, zero


def prepare_input(value: Any, io: IOTensor, allow_dynamic: bool = False
                 ) -> np.ndarray:
  """Checks one input's shape and converts it to the tensor's dtype.

  Args:
    value: An array-like. Floats for a quantized tensor are quantized; arrays of
      exactly the tensor's dtype are used as they are (already quantized).
      Integer/bool arrays for a quantized tensor are treated as real values.
    io: The input's description.
    allow_dynamic: Accept any size in dimensions the model declares dynamic (-1).

  Returns:
    A C-contiguous array with the tensor's dtype and shape.

  Raises:
    ValueError: The shape does not match, or an integer input is out of range.
  """
  array = np.asarray(value)
  expected = io.tensor.shape
  signature = io.tensor.shape_signature
  ok = array.ndim == len(expected) and all(
      given == want or (allow_dynamic and sig == -1)
      for given, want, sig in zip(array.shape, expected, signature))
  if not ok:
    shown = tuple(d if d >= 0 else None for d in signature) if allow_dynamic else expected
    raise ValueError(
        f"input {io.name!r}: expected shape {shown}, got {tuple(array.shape)}"
        + (" (the artifact has a fixed capacity: pad the graph to it, or export "
           "an artifact with a larger capacity)"
           if array.ndim == len(expected) else ""))
  dtype = np.dtype(io.dtype) if io.dtype not in ("string", "resource", "variant",
                                                   "int4", "int2", "uint4") else None
  if dtype is None:
    raise ValueError(f"input {io.name!r}: tensor type {io.dtype} is not supported")
  if array.dtype == dtype:
    return np.ascontiguousarray(array)
  if io.dtype in QUANTIZED_DTYPES and io.quantization is not None:
    return np.ascontiguousarray(quantize(array, io))
  if np.issubdtype(dtype, np.integer):
    return np.ascontiguousarray(check_integer_cast(io.name, array, dtype))
  return np.ascontiguousarray(array.astype(dtype))
