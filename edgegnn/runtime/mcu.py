"""Microcontroller deployment: measure the TFLM tensor arena, emit C sources.

`find_arena_size(model_bytes)` finds the smallest tensor arena (a multiple of 16
bytes) with which the tflite-micro interpreter allocates the model, takes its inputs,
invokes once and returns its outputs. The interpreter decides: each probe is a real
allocation in a worker subprocess, because TFLM can crash the whole process (not
raise) when the arena is a few hundred bytes too small.

`write_c_sources(model_bytes, arena_size, out_dir)` writes `<symbol>.cc` (the model
as a 16-byte aligned array) and `<symbol>.h` (declarations, the arena size and a
macro registering exactly the model's ops) for `deploy/mcu/main.cc`.

The arena is measured with the reference kernels of the tflite-micro Python
package; optimized kernels (CMSIS-NN, ESP-NN, ...) may need scratch buffers on top:
leave a margin on the device.

Runtime side: no TensorFlow; `tflite_micro` is imported only by the worker.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import select
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from edgegnn import atomic
from edgegnn.deploy import tflite_file

_ALIGN = 16
_PROBE_PREFIX = "EDGEGNN_PROBE "
_MISSING = re.compile(r"missing:\s*(\d+)")

# Runs in a fresh interpreter: argv = model path, inputs .npz, output count,
# stderr capture path. Reads arena sizes from stdin, answers one JSON line each.
_WORKER = r"""
import json, os, sys
import numpy as np
from tflite_micro.python.tflite_micro import runtime
model = open(sys.argv[1], "rb").read()
arrays = np.load(sys.argv[2])
inputs = [arrays["arr_%d" % i] for i in range(len(arrays.files))]
n_out = int(sys.argv[3])
err_path = sys.argv[4]
for line in sys.stdin:
  size = int(line)
  fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
  os.dup2(fd, 2)
  os.close(fd)
  ok, error = True, ""
  try:
    interpreter = runtime.Interpreter.from_bytes(model, arena_size=size)
    for i, a in enumerate(inputs):
      interpreter.set_input(a, i)
    interpreter.invoke()
    for j in range(n_out):
      interpreter.get_output(j)
    del interpreter
  except Exception as e:
    ok, error = False, "%s: %s" % (type(e).__name__, e)
  sys.stdout.write("EDGEGNN_PROBE " + json.dumps({"ok": ok, "error": error}) + "\n")
  sys.stdout.flush()
"""


@dataclasses.dataclass(frozen=True)
class ArenaProbe:
  """The outcome of one allocation + invoke attempt with a given arena.

  Attributes:
    arena_size: The arena tried, in bytes.
    ok: The model allocated, took its inputs, invoked and returned its outputs.
    missing: The shortfall TFLM reported ("... missing: N"), if it reported one.
      It covers only the allocation that failed, not the whole model.
    message: TFLM's error output.
    crashed: The interpreter crashed the worker process (arena far too small).
  """
  arena_size: int
  ok: bool
  missing: int | None = None
  message: str = ""
  crashed: bool = False


def _round_up(n: int) -> int:
  return -(-int(n) // _ALIGN) * _ALIGN


def _round_down(n: int) -> int:
  return int(n) // _ALIGN * _ALIGN


def _input_arrays(info: tflite_file.TfliteModelInfo,
                  inputs: Mapping[str, Any] | None) -> list[np.ndarray]:
  """Inputs in the subgraph's input order, in the tensors' dtypes."""
  from edgegnn.deploy import runtimes  # pylint: disable=g-import-not-at-top
  order = sorted(info.inputs, key=lambda io: io.position)
  if inputs is None:
    return [np.zeros(io.shape, np.dtype(io.dtype)) for io in order]
  expected = {io.name for io in order}
  if set(inputs) != expected:
    raise ValueError(f"inputs do not match the model: expected {sorted(expected)}, "
                     f"got {sorted(inputs)}")
  return [runtimes.prepare_input(inputs[io.name], io) for io in order]


class _ProbeWorker:
  """A subprocess that tries arena sizes on the tflite-micro interpreter."""

  def __init__(self, model_bytes: bytes, arrays: list[np.ndarray], num_outputs: int,
               timeout: float):
    self._dir = tempfile.TemporaryDirectory(prefix="edgegnn-arena-")
    folder = Path(self._dir.name)
    self._model = folder / "model.tflite"
    self._model.write_bytes(model_bytes)
    self._inputs = folder / "inputs.npz"
    np.savez(self._inputs, *arrays)
    self._stderr = folder / "stderr.txt"
    self._num_outputs = num_outputs
    self._timeout = timeout
    self._proc: subprocess.Popen | None = None
    self._pending = b""

  def _start(self) -> subprocess.Popen:
    if self._proc is None or self._proc.poll() is not None:
      with open(self._stderr, "w") as stderr:
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(self._model), str(self._inputs),
             str(self._num_outputs), str(self._stderr)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
            bufsize=0)
      self._pending = b""
    return self._proc

  def _read_line(self, proc: subprocess.Popen, arena_size: int) -> str | None:
    """The worker's next stdout line; None at end of file (the worker died)."""
    fd = proc.stdout.fileno()
    while b"\n" not in self._pending:
      ready, _, _ = select.select([fd], [], [], self._timeout)
      if not ready:
        self._stop()
        raise TimeoutError(f"TFLM arena probe of {arena_size} bytes took more than "
                           f"{self._timeout} s")
      chunk = os.read(fd, 65536)
      if not chunk:
        return None
      self._pending += chunk
    line, self._pending = self._pending.split(b"\n", 1)
    return line.decode("utf-8", errors="replace")

  def probe(self, arena_size: int) -> ArenaProbe:
    proc = self._start()
    try:
      proc.stdin.write(f"{int(arena_size)}\n".encode())
      proc.stdin.flush()
    except BrokenPipeError:
      pass
    answer = None
    while True:
      line = self._read_line(proc, arena_size)
      if line is None:
        break  # The worker died: TFLM crashed on this arena.
      if line.startswith(_PROBE_PREFIX):
        answer = json.loads(line[len(_PROBE_PREFIX):])
        break
    message = self._stderr.read_text(errors="replace") if self._stderr.exists() else ""
    if answer is None:
      self._stop()
      if "No module named" in message and "tflite_micro" in message:
        raise ImportError("finding the arena size needs the tflite-micro package")
    missing = [int(m) for m in _MISSING.findall(message)]
    text = message.strip() or (answer or {}).get("error", "")
    return ArenaProbe(arena_size=int(arena_size), ok=bool(answer and answer["ok"]),
                      missing=missing[-1] if missing else None, message=text,
                      crashed=answer is None)

  def _stop(self) -> None:
    if self._proc is not None:
      if self._proc.poll() is None:
        self._proc.kill()
      self._proc.wait()
      for pipe in (self._proc.stdin, self._proc.stdout):
        try:
          pipe.close()
        except OSError:
          pass
    self._proc = None
    self._pending = b""

  def close(self) -> None:
    self._stop()
    self._dir.cleanup()

  def __enter__(self) -> "_ProbeWorker":
    return self

  def __exit__(self, *exc) -> None:
    self.close()


def _check_tflm_ops(info: tflite_file.TfliteModelInfo) -> None:
  blockers = [b for b in info.runtimes.tflm_blockers if b.startswith("ops not")]
  if blockers:
    raise ValueError(f"{info.path or '<bytes>'}: cannot run on TFLM: {blockers[0]}")


def probe_arena(model_bytes: bytes, arena_size: int,
                inputs: Mapping[str, Any] | None = None,
                timeout: float = 120.0) -> ArenaProbe:
  """Tries one arena size on the tflite-micro interpreter (in a subprocess).

  Args:
    model_bytes: The `.tflite` model.
    arena_size: Arena size in bytes.
    inputs: Signature input name -> array; None uses zeros.
    timeout: Seconds to wait for the probe.

  Returns:
    The `ArenaProbe`.
  """
  info = tflite_file.read_model(model_bytes)
  _check_tflm_ops(info)
  with _ProbeWorker(info.data, _input_arrays(info, inputs), len(info.outputs),
                    timeout) as worker:
    return worker.probe(arena_size)


def _lower_bound(info: tflite_file.TfliteModelInfo) -> int:
  """No arena is smaller than the live tensors of the largest single op."""
  subgraph = info.subgraphs[0]
  best = 0
  for op in subgraph.operators:
    if op.name in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS"):  # May run in place.
      continue
    live = {i for i in op.inputs + op.outputs
            if i >= 0 and not subgraph.tensors[i].is_constant}
    best = max(best, sum(subgraph.tensors[i].nbytes for i in live))
  return best


def find_arena_size(model_bytes: bytes, inputs: Mapping[str, Any] | None = None,
                    *, max_arena_size: int = 256 * 1024 * 1024,
                    timeout: float = 120.0) -> int:
  """The smallest tensor arena with which the tflite-micro interpreter runs the model.

  Search: the first probe uses an estimate (activation bytes plus per-tensor and
  per-op overhead). While it fails, the next size is the failed one plus the
  shortfall TFLM reports ("missing: N"), growing by at least a quarter so that the
  search ends; then a binary search between the largest failing and the smallest
  working size, to 16-byte resolution. Every probe allocates, sets the inputs,
  invokes once and reads the outputs, in a worker subprocess.

  Args:
    model_bytes: The `.tflite` model (bytes, or a path).
    inputs: Signature input name -> array for the probe invoke; None uses zeros.
    max_arena_size: Give up above this size.
    timeout: Seconds allowed per probe.

  Returns:
    The arena size in bytes, a multiple of 16: that size works and 16 bytes less
    does not.

  Raises:
    ValueError: The model has ops TFLM does not have.
    RuntimeError: No arena up to `max_arena_size` works.
  """
  info = tflite_file.read_model(model_bytes)
  _check_tflm_ops(info)
  arrays = _input_arrays(info, inputs)
  num_tensors = sum(len(sg.tensors) for sg in info.subgraphs)
  num_ops = sum(len(sg.operators) for sg in info.subgraphs)
  # `lo` is a size known to fail: assumed from the live-tensor lower bound at first,
  # confirmed by a probe before it is trusted as the answer's neighbour.
  lo, lo_probed = max(0, _round_down(_lower_bound(info)) - _ALIGN), False
  size = _round_up(max(lo + _ALIGN, info.activation_bytes + 64 * num_tensors
                       + 128 * num_ops + 1024))
  with _ProbeWorker(info.data, arrays, len(info.outputs), timeout) as worker:
    checked_largest = False
    while True:
      last = worker.probe(size)
      if last.ok:
        hi = size
        break
      if last.missing is None and not checked_largest:
        # A failure without TFLM's "missing: N" may not be about the arena at all (an
        # abort on the model itself): one probe at the largest size tells which.
        checked_largest = True
        largest = worker.probe(max_arena_size)
        if not largest.ok:
          how = "crashed" if largest.crashed else "failed"
          raise RuntimeError(
              f"{info.path or '<bytes>'}: TFLM {how} on this model even with a "
              f"{max_arena_size}-byte arena, so the arena size is not the cause: "
              f"{largest.message[-500:] or 'no message'}")
      lo, lo_probed = size, True
      step = max(last.missing or 0, size // 4, _ALIGN)
      size = _round_up(size + step)
      if size > max_arena_size:
        raise RuntimeError(
            f"{info.path or '<bytes>'}: TFLM did not run the model with arenas up "
            f"to {max_arena_size} bytes; last error: {last.message[-500:]}")
    while True:
      while hi - lo > _ALIGN:
        mid = _round_down((lo + hi) // 2)
        if worker.probe(mid).ok:
          hi = mid
        else:
          lo, lo_probed = mid, True
      if lo_probed or lo <= 0 or not worker.probe(lo).ok:
        break
      hi, lo = lo, 0  # The estimate was wrong: search below it too.
  return hi


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def tflm_resolver_calls(info: tflite_file.TfliteModelInfo) -> list[str]:
  """The `MicroMutableOpResolver` methods registering the model's ops, sorted.

  Raises:
    ValueError: An op has no TFLM kernel.
  """
  calls, missing = set(), set()
  for op in info.operators():
    table = tflite_file.TFLM_CUSTOM_OPS if op.is_custom else tflite_file.TFLM_BUILTIN_OPS
    if op.name in table:
      calls.add(table[op.name])
    else:
      missing.add(op.name)
  if missing:
    raise ValueError(f"{info.path or '<bytes>'}: ops without a TFLM kernel: "
                     f"{', '.join(sorted(missing))}")
  return sorted(calls)


_HEX = [f"0x{b:02x}," for b in range(256)]


def _c_array(data: bytes, per_line: int = 12) -> str:
  return "\n".join("  " + " ".join(map(_HEX.__getitem__, data[i:i + per_line]))
                   for i in range(0, len(data), per_line))


def write_c_sources(model_bytes: bytes, arena_size: int, out_dir: str | os.PathLike,
                    symbol: str = "edgegnn_model") -> tuple[Path, Path]:
  """Writes the model as C++ sources for a TFLM application.

  `<symbol>.cc` holds `alignas(16) const unsigned char <symbol>[]` and
  `const unsigned int <symbol>_len`; `<symbol>.h` declares them and defines
  `EDGEGNN_TENSOR_ARENA_SIZE`, `EDGEGNN_MODEL_DATA`, `EDGEGNN_MODEL_LEN`,
  `EDGEGNN_NUM_OPS` and `EDGEGNN_REGISTER_OPS(resolver)` (used by
  `deploy/mcu/main.cc`). Both files are written to temporary files and then
  renamed, so an error never leaves a half-written file.

  Args:
    model_bytes: The `.tflite` model (bytes, or a path).
    arena_size: Tensor arena in bytes (see `find_arena_size`; add a margin for
      optimized kernels).
    out_dir: Output folder (created if missing).
    symbol: C identifier of the array.

  The arena size is rounded up to a multiple of 16.

  Returns:
    (path of the .cc source, path of the .h header).

  Raises:
    ValueError: Bad symbol or arena size, or ops without a TFLM kernel.
    CorruptModelError: The model is not a readable TFLite flatbuffer.
  """
  if not _IDENTIFIER.match(symbol):
    raise ValueError(f"symbol must be a C identifier, got {symbol!r}")
  if int(arena_size) <= 0:
    raise ValueError(f"arena_size must be positive, got {arena_size}")
  arena_size = _round_up(arena_size)
  info = tflite_file.read_model(model_bytes)
  calls = tflm_resolver_calls(info)
  out = Path(out_dir)
  out.mkdir(parents=True, exist_ok=True)
  c_path, h_path = out / f"{symbol}.cc", out / f"{symbol}.h"
  guard = f"{symbol.upper()}_H_"
  ops = ", ".join(info.op_histogram)
  notes = []
  if not info.runtimes.tflm_compatible:
    notes.append("// WARNING: not fully integer / TFLM-compatible: "
                 + "; ".join(info.runtimes.tflm_blockers))
  register = " \\\n".join(f"    (resolver).{call}();" for call in calls) or (
      "    (void)(resolver);")
  io_lines = []
  for kind, items in (("INPUT", info.inputs), ("OUTPUT", info.outputs)):
    for io in sorted(items, key=lambda x: x.position):
      shape = "x".join(str(d) for d in io.shape)
      quant = (f", scale {io.tensor.scale:.9g}, zero point {io.tensor.zero_point}"
               if io.quantization is not None else "")
      io_lines.append(f"//   {kind.lower()} {io.position}: {io.name} {io.dtype} "
                      f"[{shape}]{quant}")
  header = "\n".join([
      "// Generated by edgegnn.deploy.mcu.write_c_sources; do not edit.",
      f"// Model: {info.file_bytes} bytes; ops: {ops}.",
      *io_lines,
      *notes,
      f"#ifndef {guard}",
      f"#define {guard}",
      "",
      "// Smallest arena the tflite-micro reference kernels needed for this model",
      "// (edgegnn.deploy.mcu.find_arena_size), unless a margin was added.",
      f"#define EDGEGNN_TENSOR_ARENA_SIZE {arena_size}",
      f"#define EDGEGNN_MODEL_DATA {symbol}",
      f"#define EDGEGNN_MODEL_LEN {symbol}_len",
      f"#define EDGEGNN_NUM_OPS {max(len(calls), 1)}",
      f"#define EDGEGNN_NUM_INPUTS {len(info.inputs)}",
      f"#define EDGEGNN_NUM_OUTPUTS {len(info.outputs)}",
      "// Registers exactly the ops of this model on a",
      "// tflite::MicroMutableOpResolver<EDGEGNN_NUM_OPS>.",
      "#define EDGEGNN_REGISTER_OPS(resolver) \\",
      "  do { \\",
      register + " \\",
      "  } while (0)",
      "",
      "#ifdef __cplusplus",
      'extern "C" {',
      "#endif",
      f"extern const unsigned char {symbol}[];",
      f"extern const unsigned int {symbol}_len;",
      "#ifdef __cplusplus",
      "}",
      "#endif",
      "",
      f"#endif  // {guard}",
      "",
  ])
  source = "\n".join([
      "// Generated by edgegnn.deploy.mcu.write_c_sources; do not edit.",
      f'#include "{h_path.name}"',
      "",
      "// TFLM reads the flatbuffer in place: keep it 16-byte aligned.",
      f"alignas(16) const unsigned char {symbol}[] = {{",
      _c_array(info.data),
      "};",
      f"const unsigned int {symbol}_len = {info.file_bytes};",
      "",
  ])
  # Both renames happen only after both files are fully written.
  with atomic.atomic_path(c_path) as c_tmp, atomic.atomic_path(h_path) as h_tmp:
    c_tmp.write_text(source, encoding="utf-8")
    h_tmp.write_text(header, encoding="utf-8")
  return c_path, h_path
