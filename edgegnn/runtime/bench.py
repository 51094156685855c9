"""Latency and memory benchmark of a `.tflite` artifact on one runtime.

`benchmark(path)` times `Runtime.invoke` (set inputs, invoke, read outputs; inputs
are quantized once beforehand) and measures the peak memory of a fresh
subprocess that loads the model and runs it. The inputs are real ones or refused
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

Runtime side: no TensorFlow.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from edgegnn.deploy import runtimes, tflite_file
from edgegnn.deploy.tflite_file import IOTensor, TfliteModelInfo

_PEAK_PREFIX = "EDGEGNN_PEAK "
_MEMORY_METHODS = {
    "VmHWM": "VmHWM of a fresh subprocess, reset after imports and inputs (= baseline), "
             "after it loads and runs the model",
    "ru_maxrss": "ru_maxrss (RUSAGE_SELF) of a fresh subprocess that loads and runs the "
                 "model (peak over its life, imports included)",
}

# argv: package root, model path, inputs .npz (keys are input names), runtime,
# threads, arena size or "", runs.
_MEMORY_CHILD = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from edgegnn.deploy import runtimes
runtime = sys.argv[4]
if runtime == "lce":
  runtimes._load_lce_wrapper()
elif runtime == "litert":
  import ai_edge_litert.interpreter
else:
  from tflite_micro.python.tflite_micro import runtime as _tflm
arrays = dict(np.load(sys.argv[3]))
def status_kb(field):
  with open("/proc/self/status") as f:
    for line in f:
      if line.startswith(field + ":"):
        return int(line.split()[1])
try:
  baseline = status_kb("VmRSS")
  with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets VmHWM to the current resident set
  method = "VmHWM"
except (OSError, TypeError, ValueError):
  baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
  method = "ru_maxrss"
arena = int(sys.argv[6]) if sys.argv[6] else None
rt = runtimes.open_runtime(sys.argv[2], runtime, num_threads=int(sys.argv[5]),
                           arena_size=arena)
prepared = rt.prepare(arrays)
for _ in range(int(sys.argv[7])):
  rt.invoke(prepared)
peak = (status_kb("VmHWM") if method == "VmHWM"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
print("EDGEGNN_PEAK " + json.dumps({"baseline_kb": baseline, "peak_kb": peak,
                                    "method": method}), flush=True)
"""


TIMED_INVOKE = "invoke only (inputs set once)"
TIMED_CALL = "set inputs + invoke + read outputs"


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
  details = interpreter.get_input_details()
  for io in info.inputs:
    interpreter.resize_tensor_input(details[io.position]["index"], prepared[io.name].shape)
  interpreter.allocate_tensors()
  for io in info.inputs:
    interpreter.set_tensor(details[io.position]["index"], prepared[io.name])
  interpreter.invoke()
  expected = reference.invoke(prepared)
  out = interpreter.get_output_details()
  for io in info.outputs:
    if not np.array_equal(interpreter.get_tensor(out[io.position]["index"]), expected[io.name]):
      raise RuntimeError(f"{info.path or '<bytes>'}: output {io.name!r} of the plain "
                         "interpreter differs from the runtime's; time with "
                         "inputs_once=False (--set-inputs-each-run).")
  return interpreter


def _node_count(info: TfliteModelInfo, shapes: Mapping[str, tuple[int, ...]]) -> int:
  """Number of node slots: from `node_features` ([N, F] or [1, N, F]), else a guess.
  `shapes`: each input's shape as it will be fed."""
  for io in info.inputs:
    if "node" in io.name and "feature" in io.name and len(shapes[io.name]) >= 2:
      return max(1, shapes[io.name][-2])
  for io in info.inputs:
    if io.name in ("adjacency", "node_mask", "in_degree") and shapes[io.name]:
      return max(1, shapes[io.name][-1])
  for io in info.inputs:
    if io.dtype.startswith("float") and len(shapes[io.name]) >= 2:
      return max(1, shapes[io.name][-2])
  return 1


def _real_range(io: IOTensor) -> tuple[float, float]:
  """The real values a quantized tensor can represent."""
  info = np.iinfo(np.dtype(io.dtype))
  scale, zero = io.tensor.scale, io.tensor.zero_point
  return (info.min - zero) * scale, (info.max - zero) * scale


def synthesize_inputs(model: TfliteModelInfo | str | os.PathLike | bytes,
                      seed: int = 0, shapes: Mapping[str, tuple[int, ...]] | None = None
                      ) -> dict[str, np.ndarray]:
  """Plausible random inputs for a graph model, keyed by signature input name.

  Float features are standard normal (clipped to a quantized input's range);
  int32/int64 index inputs are within the bounds `input_checks` enforces: node
  indices (`edge_source`, `edge_target`, `neighbors`, `row_node`, ...) below the node
  count N (rows of `node_features`, else the length of `in_degree` or `node_mask`),
  `feature_node` sorted, `feature_index` below the rows of the weight table its GATHER
  reads (else below F, else 0), `overflow_rows` below the rows of `neighbors`,
  `overflow_index` at most the rows of `overflow_rows`, `in_degree` the in-degrees of
  the synthesized `edge_target` when there is one; `adjacency` is a random sparse 0/1
  matrix with self-loops; masks (`*mask*`) are ones.

  Args:
    model: A parsed model, a path or bytes.
    seed: Random seed.
    shapes: Input name -> shape to use instead of the tensor's (static) shape, e.g.
      sizes for the dynamic (-1) dimensions (see `bench_inputs.check_input_shapes`).

  Returns:
    Input name -> array, in the input's shape; floats for quantized inputs.
  """
  info = model if isinstance(model, TfliteModelInfo) else tflite_file.read_model(model)
  rng = np.random.default_rng(seed)
  shapes = {io.name: tuple((shapes or {}).get(io.name, io.shape)) for io in info.inputs}
  num_nodes = _node_count(info, shapes)
  out = {}
  for io in info.inputs:
    shape = shapes[io.name]
    quantized = io.dtype in ("int8", "uint8", "int16") and io.quantization is not None
    real_dtype = np.float32 if quantized else np.dtype(io.dtype)
    name = io.name.lower()
    if "mask" in name:
      value = np.ones(shape, real_dtype)
    elif "adjacency" in name:
      n = shape[-1] if shape else 1
      density = min(1.0, 4.0 / max(n, 1))
      value = (rng.random(shape) < density).astype(real_dtype)
      if len(shape) >= 2 and shape[-1] == shape[-2]:
        value = np.maximum(value, np.eye(shape[-1], dtype=real_dtype))
    elif np.issubdtype(real_dtype, np.integer):
      high = _index_bound(info, io, shapes, num_nodes)
      value = rng.integers(0, high, size=shape).astype(real_dtype)
      if name == "feature_node":
        value = np.sort(value, axis=None).reshape(shape)
    elif real_dtype == np.bool_:
      value = np.ones(shape, np.bool_)
    else:
      value = rng.standard_normal(shape).astype(np.float32)
      if quantized:
        low, high = _real_range(io)
        value = np.clip(value, low, high)
      value = value.astype(real_dtype)
    out[io.name] = value
  degree = out.get("in_degree")
  target = out.get("edge_target")
  if degree is not None and target is not None and degree.ndim == 1 and target.ndim == 1:
    out["in_degree"] = np.bincount(target, minlength=degree.size)[: degree.size].astype(
        degree.dtype)
  return out


def _gather_rows(info: TfliteModelInfo, io: IOTensor) -> int | None:
  """Rows of the constant table a GATHER of the main subgraph reads with this input as
  its indices (a sparse-feature artifact's weight rows), or None."""
  subgraph = info.subgraphs[0]
  rows = []
  for op in subgraph.operators:
    if op.name == "GATHER" and len(op.inputs) > 1 and op.inputs[1] == io.tensor.index:
      params = subgraph.tensors[op.inputs[0]]
      if params.is_constant and params.shape:
        rows.append(params.shape[0])
  return min(rows) if rows else None


def _index_bound(info: TfliteModelInfo, io: IOTensor, shapes: Mapping[str, tuple[int, ...]],
                 num_nodes: int) -> int:
  """Exclusive upper bound for the random values of an integer input (see
  `synthesize_inputs`)."""
  if io.name == "feature_index":
    rows = _gather_rows(info, io)
    if rows is not None:
      return max(1, rows)
    features = shapes.get("node_features")
    return max(1, features[-1]) if features and len(features) >= 2 else 1
  if io.name == "overflow_rows" and shapes.get("neighbors"):
    return max(1, shapes["neighbors"][0])
  if io.name == "overflow_index" and shapes.get("overflow_rows"):
    return shapes["overflow_rows"][0] + 1
  return num_nodes


def _package_root() -> str:
  return str(Path(__file__).resolve().parents[2])


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
        [sys.executable, "-c", _MEMORY_CHILD, _package_root(), path, npz,
         runtime, str(num_threads), "" if arena_size is None else str(arena_size),
         str(max(1, runs))],
        capture_output=True, text=True, timeout=timeout, check=False)
  for line in proc.stdout.splitlines():
    if line.startswith(_PEAK_PREFIX):
      kb = json.loads(line[len(_PEAK_PREFIX):])
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
  chosen = runtimes.resolve_runtime(info, runtime)
  source = "given by the caller"
  if inputs is None:
    from edgegnn.deploy import bench_inputs  # pylint: disable=g-import-not-at-top
    inputs, source = bench_inputs.resolve_inputs(info, inputs_dir, input_shapes)
  rt = runtimes.open_runtime(info, chosen, num_threads=num_threads,
                             arena_size=arena_size)
  prepared = rt.prepare(inputs)
  call, timed = lambda: rt.invoke(prepared), TIMED_CALL
  if inputs_once:
    interpreter = interpreter_with_inputs_set(info, chosen, num_threads, prepared, rt)
    if interpreter is not None:
      call, timed = interpreter.invoke, TIMED_INVOKE
  for _ in range(warmup):
    call()
  times = np.empty(runs, np.float64)
  for i in range(runs):
    start = time.perf_counter_ns()
    call()
    times[i] = (time.perf_counter_ns() - start) / 1e6
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
      "latency_ms": {
          "p50": float(np.percentile(times, 50)),
          "p90": float(np.percentile(times, 90)),
          "mean": float(times.mean()),
          "min": float(times.min()),
          "max": float(times.max()),
      },
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
