"""Latency and memory benchmark of a `.tflite` artifact on one runtime.

`benchmark(path)` times the artifact as `timing` does (on litert the invoke of an
interpreter whose inputs were set once; elsewhere set inputs, invoke, read outputs;
inputs are quantized once beforehand) and measures the peak memory of a fresh
subprocess (`memory_child`) that loads the model and runs it. The inputs are real ones or refused
(`bench_inputs.resolve_inputs`): a dynamic-shape artifact is never timed on its
placeholder shape (a 1-node graph). The result lists the shapes it timed.

Memory, measured by the subprocess about itself (the parent's `RUSAGE_CHILDREN` is
not used: it is the maximum over every child the parent ever waited for). After
importing the runtime and loading the inputs it records its resident set
(`baseline_memory_bytes`: Python, numpy, the runtime library, the inputs) and resets
the kernel's high-water mark (`echo 5 > /proc/self/clear_refs`, Linux >= 4.0); after
loading the model and running it (warm-up plus a few timed runs) the high-water mark
VmHWM is `peak_memory_bytes`, and `model_memory_bytes` = peak - baseline is what the
model added. Without the reset, `ru_maxrss` is the peak over the process's whole life,
including transient peaks of the imports, which a small model never exceeds (so
model_memory_bytes read 0); that fallback is used only where /proc cannot be written
(`memory_method` says which).

Imports numpy only (and the runtime package the artifact runs on).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from . import bench_inputs, interpreters, tflite_file
from .bench_inputs import synthesize_inputs
from .memory_child import PEAK_PREFIX
from .timing import TIMED_CALL, TIMED_INVOKE, interpreter_with_inputs_set, latency_ms, timed_call

_MEMORY_METHODS = {
    "VmHWM": "VmHWM of a fresh subprocess, reset after imports and inputs (= baseline), "
             "after it loads and runs the model",
    "ru_maxrss": "ru_maxrss (RUSAGE_SELF) of a fresh subprocess that loads and runs the "
                 "model (peak over its life, imports included)",
}

__all__ = ["TIMED_CALL", "TIMED_INVOKE", "benchmark", "interpreter_with_inputs_set",
           "measure_peak_memory", "synthesize_inputs"]


def _child_environment() -> dict[str, str]:
  """The environment of the memory child: this package's root first on PYTHONPATH, so
  that `python -m PACKAGE.memory_child` finds this copy of the package."""
  root = str(Path(__file__).resolve().parents[len(__package__.split("."))])
  paths = [root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
  return dict(os.environ, PYTHONPATH=os.pathsep.join(paths))


def measure_peak_memory(model: str | os.PathLike | bytes,
                        inputs: Mapping[str, np.ndarray],
                        runtime: str, num_threads: int = 1,
                        arena_size: int | None = None, runs: int = 3,
                        timeout: float = 300.0) -> dict[str, int]:
  """Peak RSS of a fresh subprocess that loads the model and runs it `runs` times.

  Args:
    model: The `.tflite` file or its bytes.
    inputs: Input name -> array (as `Runtime.prepare` returns them).
    runtime: "litert", "lce" or "tflm".
    num_threads: Interpreter threads.
    arena_size: TFLM arena (None measures it, in a further subprocess).
    runs: Invocations in the subprocess.
    timeout: Seconds.

  Returns:
    {"peak_memory_bytes", "baseline_memory_bytes", "model_memory_bytes",
    "memory_method"}.

  Raises:
    RuntimeError: The subprocess failed.
  """
  data = bytes(model) if isinstance(model, (bytes, bytearray, memoryview)) else None
  with tempfile.TemporaryDirectory(prefix="edgegnn-bench-") as folder:
    path = os.fspath(model) if data is None else os.path.join(folder, "model.tflite")
    if data is not None:
      Path(path).write_bytes(data)
    npz = os.path.join(folder, "inputs.npz")
    np.savez(npz, **{k: np.asarray(v) for k, v in inputs.items()})
    proc = subprocess.run(
        [sys.executable, "-m", f"{__package__}.memory_child", os.path.abspath(path), npz,
         runtime, str(num_threads), "" if arena_size is None else str(arena_size),
         str(max(1, runs))],
        capture_output=True, text=True, timeout=timeout, check=False,
        env=_child_environment())
  for line in proc.stdout.splitlines():
    if line.startswith(PEAK_PREFIX):
      kb = json.loads(line[len(PEAK_PREFIX):])
      peak, base = kb["peak_kb"] * 1024, kb["baseline_kb"] * 1024
      return {"peak_memory_bytes": peak, "baseline_memory_bytes": base,
              "model_memory_bytes": max(0, peak - base),
              "memory_method": _MEMORY_METHODS[kb.get("method", "ru_maxrss")]}
  raise RuntimeError(f"memory measurement subprocess failed (exit {proc.returncode}):"
                     f" {proc.stderr.strip()[-1000:]}")


def benchmark(path: str | os.PathLike | bytes, inputs: Mapping[str, Any] | None = None,
              runs: int = 100, warmup: int = 10, num_threads: int = 1,
              runtime: str = "auto", *, arena_size: int | None = None,
              measure_memory: bool = True, inputs_dir: str | os.PathLike | None = None,
              input_shapes: Mapping[str, tuple[int, ...]] | None = None,
              inputs_once: bool = True) -> dict[str, Any]:
  """Benchmarks a `.tflite` artifact.

  Args:
    path: The `.tflite` file (or its bytes).
    inputs: Signature input name -> array; None: `inputs_dir`, `input_shapes`, the
      artifact's sample inputs or sidecar dataset, or random values for static shapes,
      else ValueError (`bench_inputs.resolve_inputs`).
    runs: Timed runs.
    warmup: Untimed runs first.
    num_threads: Interpreter threads (litert, lce).
    runtime: "auto", "litert", "lce" or "tflm".
    arena_size: TFLM arena (None measures it).
    measure_memory: Also measure peak memory in a subprocess.
    inputs_dir: A directory of NAME.npy, one per input (when `inputs` is None).
    input_shapes: Input name -> shape for random inputs (when `inputs` is None).
    inputs_once: On litert, set the inputs once and time the interpreter's invoke alone
      (`TIMED_INVOKE`), as a device that holds its inputs would run it; False (and on
      lce, tflm) times the runtime call: set inputs, invoke, read outputs (`TIMED_CALL`).

  Returns:
    {"inputs": {name: {"shape", "dtype"}} (what was timed, after quantization),
    "inputs_source", "timed" (what one timed run does),
    "latency_ms": {"p50", "p90", "mean", "min", "max"}, "runs", "warmup",
    "threads", "runtime" (the runtime used), "model_bytes", "arena_bytes" (the TFLM
    tensor arena the model ran in; None on other runtimes), "peak_memory_bytes",
    "baseline_memory_bytes", "model_memory_bytes", "memory_method", "path"}.
    Memory values are None when `measure_memory` is False.
  """
  if runs < 1 or warmup < 0:
    raise ValueError(f"need runs >= 1 and warmup >= 0, got {runs}, {warmup}")
  info = tflite_file.read_model(path)
  chosen = interpreters.resolve_runtime(info, runtime)
  source = "given by the caller"
  if inputs is None:
    inputs, source = bench_inputs.resolve_inputs(info, inputs_dir, input_shapes)
  rt = interpreters.open_runtime(info, chosen, num_threads=num_threads,
                                 arena_size=arena_size)
  prepared = rt.prepare(inputs)
  call, timed = timed_call(rt, prepared, inputs_once)
  latency = latency_ms(call, runs, warmup)
  result: dict[str, Any] = {
      "path": info.path,
      "runtime": chosen,
      "threads": num_threads,
      "runs": runs,
      "warmup": warmup,
      "inputs": {name: {"shape": list(value.shape), "dtype": str(value.dtype)}
                 for name, value in prepared.items()},
      "inputs_source": source,
      "timed": timed,
      "latency_ms": latency,
      "model_bytes": info.file_bytes,
      "arena_bytes": rt.arena_size if chosen == "tflm" else None,
      "peak_memory_bytes": None,
      "baseline_memory_bytes": None,
      "model_memory_bytes": None,
      "memory_method": "ru_maxrss (RUSAGE_SELF) of a fresh subprocess that loads "
                       "and runs the model",
  }
  if measure_memory:
    arena = getattr(rt, "arena_size", arena_size)
    result.update(measure_peak_memory(info.path or info.data, prepared, chosen, num_threads, arena,
                                      runs=min(runs, 3) + min(warmup, 1)))
  return result
