"""The smallest TFLM tensor arena a model runs in, found by running it.

`find_arena_size(model_bytes)` finds the smallest tensor arena (a multiple of 16
bytes) with which the tflite-micro interpreter allocates the model, takes its inputs,
invokes once and returns its outputs. The interpreter decides: each probe is a real
allocation in a worker subprocess (`arena_worker.py`, run by its file path), because
TFLM can crash the whole process (not raise) when the arena is a few hundred bytes too
small. `probe_arena` tries one size.

The arena is measured with the reference kernels of the tflite-micro Python package;
optimized kernels (CMSIS-NN, ESP-NN, ...) may need scratch buffers on top: leave a
margin on the device.

Imports numpy only; `tflite_micro` is imported by the worker.
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

from . import tflite_file
from .arena_worker import ANSWER_PREFIX
from .tensors import prepare_input

ALIGN = 16
_MISSING = re.compile(r"missing:\s*(\d+)")
_WORKER = Path(__file__).with_name("arena_worker.py")


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


def round_up(n: int) -> int:
  """`n` rounded up to the arena alignment (16 bytes)."""
  return -(-int(n) // ALIGN) * ALIGN


def _round_down(n: int) -> int:
  return int(n) // ALIGN * ALIGN


def _input_arrays(info: tflite_file.TfliteModelInfo,
                  inputs: Mapping[str, Any] | None) -> list[np.ndarray]:
  """Inputs in the subgraph's input order, in the tensors' dtypes."""
  order = sorted(info.inputs, key=lambda io: io.position)
  if inputs is None:
    return [np.zeros(io.shape, np.dtype(io.dtype)) for io in order]
  expected = {io.name for io in order}
  if set(inputs) != expected:
    raise ValueError(f"inputs do not match the model: expected {sorted(expected)}, "
                     f"got {sorted(inputs)}")
  return [prepare_input(inputs[io.name], io) for io in order]


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
            [sys.executable, str(_WORKER), str(self._model), str(self._inputs),
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
      if line.startswith(ANSWER_PREFIX):
        answer = json.loads(line[len(ANSWER_PREFIX):])
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
  lo, lo_probed = max(0, _round_down(_lower_bound(info)) - ALIGN), False
  size = round_up(max(lo + ALIGN, info.activation_bytes + 64 * num_tensors
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
      step = max(last.missing or 0, size // 4, ALIGN)
      size = round_up(size + step)
      if size > max_arena_size:
        raise RuntimeError(
            f"{info.path or '<bytes>'}: TFLM did not run the model with arenas up "
            f"to {max_arena_size} bytes; last error: {last.message[-500:]}")
    while True:
      while hi - lo > ALIGN:
        mid = _round_down((lo + hi) // 2)
        if worker.probe(mid).ok:
          hi = mid
        else:
          lo, lo_probed = mid, True
      if lo_probed or lo <= 0 or not worker.probe(lo).ok:
        break
      hi, lo = lo, 0  # The estimate was wrong: search below it too.
  return hi

