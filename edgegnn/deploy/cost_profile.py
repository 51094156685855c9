"""Per-op latencies of a `.tflite` artifact, measured by running it one op at a time.

ai-edge-litert's Python `Interpreter` has no op profiler (per-op profiling is a flag of
TFLite's C++ `benchmark_model` binary, `--enable_op_profiling`, which the wheel does not
ship). `profile_ops` therefore cuts every operator of the main subgraph out into a
single-op model (its constant inputs kept, the others made model inputs) and runs these
in execution order, each fed the real outputs of the ops before it, starting from the
artifact's real inputs. Each op is timed on its own interpreter with its inputs set once
(invoke only, the fastest of `runs`: on a shared machine the least disturbed), like
`edgegnn bench`; builtin ops run on ai-edge-litert,
Lce* ops on the LCE interpreter (an op XNNPACK refuses on its own, such as a DEQUANTIZE
of float16 weights that it folds away inside the artifact, runs on the builtin kernel).
The chain also gives every tensor's real shape, which a
dynamic-shape artifact with custom ops needs for its cost estimate.

The sum of the single-op times exceeds the artifact's latency by about one interpreter
invoke per op; `edgegnn.deploy.cost` fits that overhead (`Calibration`).
"""
from __future__ import annotations

import copy
import dataclasses
import time
from typing import Mapping, Sequence

import numpy as np

from edgegnn.runtime import interpreters
from edgegnn.runtime.tensors import prepare_input
from edgegnn.runtime.tflite_file import TfliteModelInfo


@dataclasses.dataclass(frozen=True)
class OpRun:
  """One operator run on its own.

  Attributes:
    index: Its position in the main subgraph.
    name: Op name.
    latency_ms: Fastest invoke of its single-op model (None if not timed).
    output_shapes: The shapes of its outputs.
  """
  index: int
  name: str
  latency_ms: float | None
  output_shapes: tuple[tuple[int, ...], ...]


def _model_object(info: TfliteModelInfo):
  from ai_edge_litert.tools import flatbuffer_utils  # pylint: disable=g-import-not-at-top
  return flatbuffer_utils.convert_bytearray_to_object(bytearray(info.data))


def single_op_model(model, op_index: int) -> tuple[bytes, list[int]]:
  """The single-op model of operator `op_index` of subgraph 0 of `model` (a flatbuffer
  object, `ModelT`) and its inputs as tensor indices of the original subgraph."""
  from ai_edge_litert import schema_py_generated as schema  # pylint: disable=g-import-not-at-top
  from ai_edge_litert.tools import flatbuffer_utils  # pylint: disable=g-import-not-at-top
  sub = model.subgraphs[0]
  op = sub.operators[op_index]
  used = list(dict.fromkeys([int(t) for t in op.inputs if t >= 0]
                            + [int(t) for t in op.outputs]))
  buffers = [schema.BufferT()]
  tensors, position, inputs = [], {}, []
  for t in used:
    tensor = copy.copy(sub.tensors[t])
    data = model.buffers[tensor.buffer].data if tensor.buffer else None
    if data is not None and len(data):
      buffers.append(model.buffers[tensor.buffer])
      tensor.buffer = len(buffers) - 1
    else:
      tensor.buffer = 0
      if t not in op.outputs:
        inputs.append(t)
    position[t] = len(tensors)
    tensors.append(tensor)
  single = copy.copy(op)
  single.inputs = [position[int(t)] if t >= 0 else -1 for t in op.inputs]
  single.outputs = [position[int(t)] for t in op.outputs]
  single.intermediates = None
  subgraph = schema.SubGraphT()
  subgraph.tensors = tensors
  subgraph.inputs = [position[t] for t in inputs]
  subgraph.outputs = [position[int(t)] for t in op.outputs]
  subgraph.operators = [single]
  subgraph.name = b"single_op"
  out = schema.ModelT()
  out.version = 3
  out.operatorCodes = model.operatorCodes
  out.subgraphs = [subgraph]
  out.buffers = buffers
  out.description = b"edgegnn single-op model"
  return bytes(flatbuffer_utils.convert_object_to_bytearray(out)), inputs


def _litert_interpreter(data: bytes, values: Sequence[np.ndarray], delegates: bool):
  from ai_edge_litert.interpreter import Interpreter, OpResolverType  # pylint: disable=g-import-not-at-top
  resolver = (OpResolverType.AUTO if delegates
              else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
  interpreter = Interpreter(model_content=data, num_threads=1,
                            experimental_op_resolver_type=resolver)
  details = interpreter.get_input_details()
  for detail, value in zip(details, values):
    interpreter.resize_tensor_input(detail["index"], value.shape)
  interpreter.allocate_tensors()
  for detail, value in zip(details, values):
    interpreter.set_tensor(detail["index"], value)
  interpreter.invoke()
  return interpreter


def _run_litert(data: bytes, values: Sequence[np.ndarray], runs: int, warmup: int):
  try:
    interpreter = _litert_interpreter(data, values, delegates=True)
  except RuntimeError:
    # XNNPACK refuses some ops alone that it folds away inside the artifact (a
    # DEQUANTIZE of float16 weights): the builtin kernel runs them instead.
    interpreter = _litert_interpreter(data, values, delegates=False)
  times = []
  for i in range(warmup + runs):
    start = time.perf_counter_ns()
    interpreter.invoke()
    if i >= warmup:
      times.append((time.perf_counter_ns() - start) / 1e6)
  outputs = [np.array(interpreter.get_tensor(d["index"]))
             for d in interpreter.get_output_details()]
  return outputs, times


def _run_lce(data: bytes, values: Sequence[np.ndarray], runs: int, warmup: int):
  wrapper = interpreters.load_lce_wrapper()
  interpreter = wrapper.LiteInterpreter(data, 1, False, False, False)
  outputs = interpreter.predict(list(values))
  times = []
  for i in range(warmup + runs):
    start = time.perf_counter_ns()
    interpreter.predict(list(values))
    if i >= warmup:
      times.append((time.perf_counter_ns() - start) / 1e6)
  return [np.asarray(o) for o in outputs], times


def profile_ops(info: TfliteModelInfo, inputs: Mapping[str, np.ndarray], runs: int = 20,
                warmup: int = 2) -> tuple[list[OpRun], dict[int, np.ndarray]]:
  """Runs the main subgraph one op at a time (see the module doc).

  Args:
    info: The parsed artifact.
    inputs: Its inputs by signature name, real-valued or already quantized (quantized
      here as `Runtime.prepare` does).
    runs: Timed invokes per op (0: run once, untimed: shapes and values only).
    warmup: Untimed invokes per op before them.

  Returns:
    (one `OpRun` per op in execution order, tensor index -> value of every non-constant
    tensor of the main subgraph).

  Raises:
    ValueError: missing inputs, or an op neither runtime can run.
  """
  prepared = {}
  for io in info.inputs:
    if io.name not in inputs:
      raise ValueError(f"profile_ops: no value for input {io.name!r}; the artifact takes "
                       f"{[x.name for x in info.inputs]}.")
    prepared[io.name] = prepare_input(inputs[io.name], io, allow_dynamic=True)
  values = {io.tensor.index: prepared[io.name] for io in info.inputs}
  model = _model_object(info)
  sub = info.subgraphs[0]
  found = []
  for op in sub.operators:
    data, input_indices = single_op_model(model, op.index)
    args = [values[t] for t in input_indices]
    run = _run_lce if op.is_custom else _run_litert
    outputs, times = run(data, args, max(runs, 0), warmup if runs else 0)
    for t, value in zip(op.outputs, outputs):
      values[t] = value
    found.append(OpRun(op.index, op.name, float(np.min(times)) if times else None,
                       tuple(tuple(int(d) for d in v.shape) for v in outputs)))
  return found, values
