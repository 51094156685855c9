"""Keras model -> `.tflite` artifact, in every format, checked against a target.

    result = convert(model, "tflite-int8", "out/gcn.int8.tflite", target="mcu",
                     representative_feeds=[...])

Formats:
  tflite-float32       plain float.
  tflite-float16       float16 weights (dequantised to float32 at load).
  tflite-dynamic-int8  int8 weights, float activations (dynamic-range quantisation).
  tflite-int8          full integer: int8 weights and activations, calibrated on
                       representative feeds (drawn from the training graphs). Inputs and
                       outputs stay float32 (QUANTIZE / DEQUANTIZE at the boundary) unless
                       `integer_io`; for the mcu target they are int8.
  tflite-int8-float16  mixed precision per layer: the fake-quantized layers of a
                       quantization-aware model (`quantization.layers`) become int8 ops,
                       the float ones keep float32 compute on float16 weights
                       (`edgegnn.quantization.float16_weights`). No calibration feeds.
  tflite-int16x8       TFLite's 16x8 mode: int16 activations, int8 weights, calibrated on
                       representative feeds like tflite-int8; every op integer.
  lce                  Larq Compute Engine converter: binary layers become LceBconv2d.

Targets (checked on the written flatbuffer before it is moved into place):
  mobile     ai-edge-litert builtin ops only.
  arm-linux  builtin ops plus Larq Compute Engine ops.
  mcu        tflite-micro: full integer, only ops TFLM has.

A conversion that fails, or whose artifact a target cannot run, raises with the offending
ops and what to do, and leaves no file behind. An artifact called int8 never contains a
float compute op between its input and output quantisation.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
from typing import Iterable, Mapping, Optional, Sequence

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.atomic import atomic_write_bytes
from edgegnn.deploy.formats import (FORMATS, INTEGER_FORMATS, TARGETS,  # noqa: F401
                                     TargetError, check_format_target)
from edgegnn.runtime import tflite_file
from edgegnn.models import feeds

SIGNATURE_KEY = "serving_default"

_FIXES = {
    "UNSORTED_SEGMENT_SUM": "export the dense layout (layout: dense, with a capacity) or an "
                            "MLP student (distill: glnn), which need no segment ops",
    "UNSORTED_SEGMENT_MAX": "export the dense layout or an MLP student",
    "GATHER": "export the dense layout (adjacency matmul instead of gathers)",
}


_NO_INT8_FIX = ("Replace those ops in the model (e.g. an elu/softplus activation by relu or "
                "leaky_relu; a division by edgegnn.layers.structure.reciprocal), or use "
                "tflite-dynamic-int8.")


class ConversionError(RuntimeError):
  """The TFLite converter could not produce the requested format."""


@dataclasses.dataclass(frozen=True)
class ConversionResult:
  path: str
  format: str
  target: Optional[str]
  bytes: int
  ops: dict[str, int]
  runtime: str


def _serving_function(model: tf.keras.Model):
  names = feeds.model_input_names(model)
  specs = [tf.TensorSpec(model.input[n].shape, model.input[n].dtype, name=n) for n in names]

  def serve(*args):
    return {"logits": model(dict(zip(names, args)), training=False)["logits"]}
  return tf.function(serve, input_signature=specs), names


def _representative(feeds_list: Sequence[Mapping[str, np.ndarray]], names: Sequence[str]):
  def generator():
    for feed in feeds_list:
      # Keyed by signature input name: the flatbuffer's input order is not `names`.
      yield {n: np.asarray(feed[n]) for n in names}
  return generator


def _tflite_bytes(model: tf.keras.Model, fmt: str,
                  representative_feeds: Optional[Sequence[Mapping[str, np.ndarray]]],
                  integer_io: bool) -> bytes:
  if fmt == "lce":
    import larq_compute_engine as lce  # pylint: disable=g-import-not-at-top
    return lce.convert_keras_model(model)
  serve, names = _serving_function(model)
  converter = tf.lite.TFLiteConverter.from_concrete_functions(
      [serve.get_concrete_function()], model)
  if fmt == "tflite-float16":
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
  elif fmt == "tflite-dynamic-int8":
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
  elif fmt == "tflite-int8-float16":
    converter.optimizations = [tf.lite.Optimize.DEFAULT]  # fake-quant layers -> int8
  elif fmt in INTEGER_FORMATS:
    if not representative_feeds:
      raise ValueError(f"{fmt} needs representative feeds (graphs from the training "
                       "split) to calibrate activation ranges.")
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = _representative(representative_feeds, names)
    converter.target_spec.supported_ops = [
        tf.lite.OpsSet.TFLITE_BUILTINS_INT8 if fmt == "tflite-int8" else
        tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    if integer_io:
      converter.inference_input_type = tf.int8
      converter.inference_output_type = tf.int8
  try:
    data = converter.convert()
  except Exception as e:  # the converter raises several unrelated types
    message = str(e)
    hint = ""
    for op, fix in _FIXES.items():
      if op.lower() in message.lower().replace("_", "") or op in message:
        hint = f" The op {op} has no int8 kernel: {fix}."
        break
    raise ConversionError(f"TFLite conversion to {fmt} failed.{hint}\n{message[-2000:]}") from None
  if fmt == "tflite-int8-float16":
    data = _mixed_int8_float16(data)
  return data


def _mixed_int8_float16(data: bytes) -> bytes:
  """The float layers' weights stored as float16; raises unless the artifact really mixes
  int8 layers with float16 ones."""
  from edgegnn.quantization.float16_weights import store_float_weights_as_float16  # pylint: disable=g-import-not-at-top
  from edgegnn.deploy.layer_bits import layer_bit_widths  # pylint: disable=g-import-not-at-top
  data, _ = store_float_weights_as_float16(data)
  bits = {layer["weight_bits"] for layer in layer_bit_widths(data)}
  if not any(b and b <= 8 for b in bits) or 16 not in bits:
    raise ConversionError(
        "tflite-int8-float16 mixes int8 and float16 layers, but this model's layers came out "
        f"with weight bits {sorted(b for b in bits if b)}: train it quantization-aware "
        "(a qat / degree_quant stage) with some layers float16 (quantization.layers: "
        "{conv1: float16}); for one precision throughout use tflite-int8 or tflite-float16.")
  return data


def strip_internal_names(data: bytes) -> bytes:
  """Drops the names of tensors that are neither a subgraph input nor output.

  The converter names every intermediate tensor after its TensorFlow op
  ("gcn_node_neighbors/conv0/strided_slice_8"); runtimes never read those names, and in a
  small model they are several kB (Cora GCN int8, neighbours layout: 2.9 kB of 37.5 kB,
  `tools/bench_int8.py`). Input and output tensor names, the SignatureDef and metadata are
  kept, so callers still find inputs by name. TFLite's `flatbuffer_utils.strip_strings` does the same but also drops
  the SignatureDef, which mobile apps call the model by.
  """
  from tensorflow.lite.tools import flatbuffer_utils  # pylint: disable=g-import-not-at-top
  model = flatbuffer_utils.convert_bytearray_to_object(bytearray(data))
  for subgraph in model.subgraphs:
    keep = set(subgraph.inputs) | set(subgraph.outputs)
    for index, tensor in enumerate(subgraph.tensors):
      if index not in keep:
        tensor.name = None
  return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def check_target(info: tflite_file.TfliteModelInfo, fmt: str, target: Optional[str]) -> None:
  """Raises TargetError if `info` breaks the format's or the target's promises."""
  if fmt in INTEGER_FORMATS:
    floats = tflite_file.float_compute_ops(info)
    if floats:
      names = sorted({op.name for op in floats})
      fixes = "; ".join(f"{n}: {_FIXES[n]}" for n in names if n in _FIXES)
      raise TargetError(
          f"The {fmt} artifact would compute in float in {len(floats)} op(s) "
          f"({', '.join(names)}): the converter kept them in float because they have no "
          f"integer kernel. {fixes or _NO_INT8_FIX}")
  if target is None:
    return
  custom = info.custom_ops
  if target == "mobile" and custom:
    raise TargetError(f"Target mobile runs builtin ops only; this artifact has custom ops "
                      f"{custom}. Use target arm-linux with the LCE runtime.")
  if target == "arm-linux":
    other = [c for c in custom if not c.startswith("Lce")]
    if other:
      raise TargetError(f"Target arm-linux runs builtins and Lce* ops; unknown custom ops {other}.")
  if target == "mcu" and not info.runtimes.tflm_compatible:
    blockers = "; ".join(info.runtimes.tflm_blockers)
    ops = [op for op in _FIXES if op in blockers]
    if "EXP" in info.op_histogram and "float32-only" in blockers:
      fix = (" Fix: TFLM has no int8 EXP, which attention softmaxes (gat, mp with a "
             "softmax attention kind) need: use gcn, sage, gin, or mp with attention "
             "const or gcn, for the mcu target.")
    elif ops:
      fix = f" Fix: {_FIXES[ops[0]]}."
    else:
      fix = " Fix: export the dense layout (layout: dense)."
    raise TargetError(f"Target mcu (tflite-micro) cannot run this artifact: {blockers}.{fix}")


def runtime_for(info: tflite_file.TfliteModelInfo, target: Optional[str]) -> str:
  if target == "mcu":
    return "tflm"
  return "lce" if info.runtimes.needs_lce else "litert"


def convert(model: tf.keras.Model, fmt: str, path: str | os.PathLike, *,
            target: Optional[str] = None,
            representative_feeds: Optional[Sequence[Mapping[str, np.ndarray]]] = None,
            integer_io: Optional[bool] = None,
            keep_tensor_names: bool = False) -> ConversionResult:
  """Converts `model` to `fmt`, checks it against `target`, writes it atomically to `path`.

  Args:
    model: a functional model of the input contract (see `edgegnn.models.zoo`), built
      for export (one graph per call; static shapes for lce).
    fmt: one of FORMATS.
    path: destination `.tflite` file; nothing is written if any step fails.
    target: one of TARGETS, or None for no device check.
    representative_feeds: feeds (dicts by input name) for tflite-int8 calibration.
    integer_io: int8 inputs/outputs for tflite-int8 (default: True for the mcu target).
    keep_tensor_names: keep every internal tensor's TensorFlow name (for diagnostics that
      match tensors across artifacts, e.g. tools/int8_tensor_errors.py); by default only
      input/output names are kept (`strip_internal_names`).
  """
  check_format_target(fmt, target)
  if integer_io and fmt != "tflite-int8":
    raise ValueError(f"integer_io (int8 inputs/outputs) applies to tflite-int8 only, not "
                     f"{fmt}: drop it or convert to tflite-int8.")
  if integer_io is None:
    integer_io = target == "mcu"
  data = _tflite_bytes(model, fmt, representative_feeds, integer_io)
  if not keep_tensor_names:
    data = strip_internal_names(data)
  info = tflite_file.read_model(data)
  check_target(info, fmt, target)
  atomic_write_bytes(path, data)
  return ConversionResult(path=str(path), format=fmt, target=target, bytes=len(data),
                          ops=dict(info.op_histogram), runtime=runtime_for(info, target))
