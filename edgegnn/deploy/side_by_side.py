"""Latency of several artifacts measured side by side, in one process, interleaved.

On a shared or thermally throttling machine absolute times drift between runs; the ratio
of two artifacts timed in the same process, in alternating rounds, is what holds. So
every artifact is loaded once, its inputs are set once, and then each round invokes
every artifact `invokes` times in turn (after one untimed warm-up invoke), for `rounds`
rounds. Only `invoke` is timed: no input copies, no output reads. p50 and p90 are over
all timed invokes of an artifact.

Runtime side: numpy and the interpreters only, no TensorFlow.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable, Mapping, Optional

import numpy as np

from edgegnn.deploy import runtimes


@dataclasses.dataclass
class Contender:
  """One artifact of a side-by-side run: `invoke` runs it on inputs already set."""
  name: str
  bytes: int
  invoke: Callable[[], None]
  outputs: Callable[[], dict]
  shapes: dict


def contender(name: str, model: bytes | str, inputs: Mapping[str, np.ndarray],
              runtime: str = "auto", num_threads: int = 1) -> Contender:
  """Loads `model`, sets `inputs` (by input name) once, and returns its invoke handle.

  ai-edge-litert artifacts are invoked directly, on the plain interpreter `edgegnn bench`
  times (`bench.interpreter_with_inputs_set`: inputs set once, its outputs checked against
  the runtime's); other runtimes (LCE, tflite-micro) have no set-once API in Python, so
  their timing also copies the inputs.
  """
  from edgegnn.deploy import bench  # pylint: disable=g-import-not-at-top
  rt = runtimes.open_runtime(model, runtime=runtime, num_threads=num_threads)
  prepared = rt.prepare(inputs)
  last = rt.invoke(prepared)
  data = rt.info.data
  interpreter = bench.interpreter_with_inputs_set(rt.info, rt.name, num_threads, prepared, rt)
  if interpreter is not None:
    invoke = interpreter.invoke

    def outputs():
      details = interpreter.get_output_details()
      return {io.name: interpreter.get_tensor(details[io.position]["index"])
              for io in rt.info.outputs}
  else:
    def invoke():
      last.update(rt.invoke(prepared))

    def outputs():
      return dict(last)
  shapes = {name: list(np.shape(value)) for name, value in prepared.items()}
  return Contender(name=name, bytes=len(data), invoke=invoke, outputs=outputs, shapes=shapes)


def interleaved_latency(contenders: list[Contender], rounds: int = 7, invokes: int = 15,
                        baseline: Optional[str] = None) -> dict[str, dict]:
  """{name: {p50_ms, p90_ms, bytes, shapes[, x_baseline_p50, x_baseline_bytes]}}.

  Args:
    contenders: the artifacts, each loaded with its inputs set (`contender`).
    rounds / invokes: rounds of `invokes` timed calls per artifact, interleaved.
    baseline: a contender's name; every entry then also gets its p50 and byte ratios to it.
  """
  if rounds < 1 or invokes < 1:
    raise ValueError(f"rounds and invokes must be >= 1, got {rounds}, {invokes}.")
  times: dict[str, list[float]] = {c.name: [] for c in contenders}
  for _ in range(rounds):
    for c in contenders:
      c.invoke()   # untimed: the previous artifact's run evicted this one's caches
      for _ in range(invokes):
        start = time.perf_counter()
        c.invoke()
        times[c.name].append(time.perf_counter() - start)
  results = {}
  for c in contenders:
    ms = np.asarray(times[c.name]) * 1e3
    results[c.name] = {"p50_ms": float(np.percentile(ms, 50)),
                       "p90_ms": float(np.percentile(ms, 90)), "bytes": c.bytes,
                       "timed_invokes": len(ms), "shapes": c.shapes}
  if baseline is not None:
    if baseline not in results:
      raise ValueError(f"baseline {baseline!r} is not among {sorted(results)}.")
    base = results[baseline]
    for entry in results.values():
      entry["x_baseline_p50"] = entry["p50_ms"] / base["p50_ms"]
      entry["x_baseline_bytes"] = entry["bytes"] / base["bytes"]
  return results
