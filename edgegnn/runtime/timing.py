"""How edgegnn times an artifact: the same loop on the host (`bench`) and on a device
(a bundle's runner), so their latencies mean the same thing.

`timed_call(runtime, prepared, inputs_once)` returns the call to time and what it
does: on litert with `inputs_once`, the invoke of a plain interpreter whose inputs were
set once (`TIMED_INVOKE`, as a device that holds its inputs runs the model); otherwise
the runtime's call: set inputs, invoke, read outputs (`TIMED_CALL`). `latency_ms(call,
runs, warmup)` runs it and returns the percentiles.

Imports numpy only (ai-edge-litert when a litert interpreter is made).
"""
from __future__ import annotations

import time
from typing import Any, Callable, Mapping

import numpy as np

from .tflite_file import TfliteModelInfo

TIMED_INVOKE = "invoke only (inputs set once)"
TIMED_CALL = "set inputs + invoke + read outputs"


def set_inputs(interpreter, info: TfliteModelInfo, prepared: Mapping[str, np.ndarray]) -> None:
  """Resizes a plain ai-edge-litert `interpreter`'s inputs to `prepared` (by name, in the
  artifact's input order), allocates its tensors and sets the inputs."""
  details = interpreter.get_input_details()
  for io in info.inputs:
    interpreter.resize_tensor_input(details[io.position]["index"], prepared[io.name].shape)
  interpreter.allocate_tensors()
  for io in info.inputs:
    interpreter.set_tensor(details[io.position]["index"], prepared[io.name])


def interpreter_with_inputs_set(info: TfliteModelInfo, runtime: str, num_threads: int,
                                prepared: Mapping[str, np.ndarray], reference) -> Any:
  """litert: a plain interpreter with the inputs set (resized, allocated) once, so that
  its `invoke` alone can be timed; None on other runtimes.

  The runtime's signature runner resizes, re-allocates and copies every input on each
  call (15.5 MB for Cora's dense features), which is not model time. A plain
  `Interpreter` is used because litert refuses `Interpreter.invoke` while a signature
  runner holds the interpreter. Inputs map by position, as in `LiteRtRuntime`; the
  outputs of one invoke are checked against `reference` (the runtime) to prove it.

  Raises:
    RuntimeError: the two disagree (the mapping would time the wrong inputs).
  """
  if runtime != "litert":
    return None
  from ai_edge_litert.interpreter import Interpreter  # pylint: disable=g-import-not-at-top
  interpreter = Interpreter(model_content=info.data, num_threads=num_threads)
  set_inputs(interpreter, info, prepared)
  interpreter.invoke()
  expected = reference.invoke(prepared)
  out = interpreter.get_output_details()
  for io in info.outputs:
    if not np.array_equal(interpreter.get_tensor(out[io.position]["index"]), expected[io.name]):
      raise RuntimeError(f"{info.path or '<bytes>'}: output {io.name!r} of the plain "
                         "interpreter differs from the runtime's; time with "
                         "inputs_once=False (--set-inputs-each-run).")
  return interpreter


def timed_call(runtime, prepared: Mapping[str, np.ndarray], inputs_once: bool = True
              ) -> tuple[Callable[[], Any], str]:
  """(the call to time, what one call does) for a runtime and its prepared inputs.

  Args:
    runtime: An `interpreters.Runtime`.
    prepared: Its inputs, as `Runtime.prepare` returns them.
    inputs_once: On litert, time the invoke of an interpreter whose inputs are set once.
  """
  if inputs_once:
    interpreter = interpreter_with_inputs_set(runtime.info, runtime.name,
                                              getattr(runtime, "num_threads", 1),
                                              prepared, runtime)
    if interpreter is not None:
      return interpreter.invoke, TIMED_INVOKE
  return (lambda: runtime.invoke(prepared)), TIMED_CALL


def latency_ms(call: Callable[[], Any], runs: int, warmup: int) -> dict[str, float]:
  """{"p50", "p90", "mean", "min", "max"} in milliseconds of `runs` timed calls after
  `warmup` untimed ones (`time.perf_counter_ns` around each call)."""
  if runs < 1 or warmup < 0:
    raise ValueError(f"need runs >= 1 and warmup >= 0, got {runs}, {warmup}")
  for _ in range(warmup):
    call()
  times = np.empty(runs, np.float64)
  for i in range(runs):
    start = time.perf_counter_ns()
    call()
    times[i] = (time.perf_counter_ns() - start) / 1e6
  return {"p50": float(np.percentile(times, 50)), "p90": float(np.percentile(times, 90)),
          "mean": float(times.mean()), "min": float(times.min()), "max": float(times.max())}
