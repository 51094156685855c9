"""What the command line lets through: the libraries' own logs only with `--verbose`.

TensorFlow, absl, AutoGraph, the TFLite converter and the LiteRT interpreter log at import,
at conversion and at the first invoke. `quiet_libraries` turns their Python loggers and
warnings down and sets the environment variables TensorFlow reads once at import, so it must
run before TensorFlow is imported (every command imports the library lazily, after the
group's options are parsed). What C++ code writes straight to file descriptor 2 (absl's
`W0000 ...` lines from the converter, LiteRT's `INFO: Created ... XNNPACK delegate`) can
only be filtered at that descriptor: `filter_native_stderr` passes stderr through a small
forked process that drops exactly those lines and forwards everything else, so errors,
tracebacks and a crash's last words still arrive.
"""
from __future__ import annotations

import atexit
import logging
import os
import re
import signal
import sys
import time
import warnings

# Lines written by native code that say nothing to a user of edgegnn.
NATIVE_NOISE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IW] \S+\.cc:\d+\]"   # TensorFlow's C++ logs
    r"|[IW]\d{4} [\d:.]+ +\d+ \S+\.cc:\d+\]"                          # absl C++ logs
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|INFO: Created TensorFlow Lite (XNNPACK )?delegate for CPU"
    r"|INFO: Initialized TensorFlow Lite runtime"
    r"|To enable the following instructions: .* rebuild TensorFlow)")


# The fixed starts of the non-timestamped noise lines (see NATIVE_NOISE).
_NOISE_PREFIXES = (b"WARNING: All log messages", b"INFO: Created TensorFlow Lite",
                   b"INFO: Initialized TensorFlow Lite", b"To enable the following instructions")


def _may_become_noise(partial: bytes) -> bool:
  """True while a partial line could still turn out to be a NATIVE_NOISE line."""
  if partial[:1].isdigit() or re.match(rb"[IW](\d|$)", partial):
    return True
  return any(p.startswith(partial) or partial.startswith(p) for p in _NOISE_PREFIXES)


def quiet_libraries(verbose: bool) -> None:
  """Sets the libraries' log levels; call before TensorFlow is imported."""
  if verbose:
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
    return
  os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
  os.environ.setdefault("AUTOGRAPH_VERBOSITY", "0")
  os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
  for name in ("tensorflow", "absl", "h5py", "matplotlib"):
    logging.getLogger(name).setLevel(logging.ERROR)
  try:
    from absl import logging as absl_logging  # pylint: disable=g-import-not-at-top
    absl_logging.set_verbosity(absl_logging.ERROR)
  except ImportError:
    pass
  # Deprecation and user warnings of the libraries; edgegnn's own warnings stay visible.
  warnings.filterwarnings("ignore")
  warnings.filterwarnings("default", module=r"edgegnn(\.|$)")


def filter_native_stderr() -> None:
  """Routes file descriptor 2 through a forked filter that drops `NATIVE_NOISE` lines.

  For the console entry point only (not in-process callers such as tests): it replaces
  the process's descriptor 2 until exit."""
  if os.name != "posix":
    return
  sys.stderr.flush()
  read_end, write_end = os.pipe()
  real_stderr = os.dup(2)
  child = os.fork()
  if child == 0:  # the filter: forwards until every writer has closed the pipe
    # Ctrl-C reaches the whole process group: the filter outlives it to forward the
    # interrupted command's last words, and ends at end of file.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.close(write_end)
    try:
      _forward(read_end, real_stderr)
    finally:
      os._exit(0)  # pylint: disable=protected-access
  os.close(read_end)
  os.dup2(write_end, 2)
  os.close(write_end)
  atexit.register(_restore_stderr, real_stderr, child)


def _forward(source: int, sink: int) -> None:
  """Copies SOURCE to SINK as it arrives, dropping complete `NATIVE_NOISE` lines. A partial
  line is held only while it could still become one (no library line holds a carriage
  return, so progress bars redrawn with '\\r' pass at once)."""
  pending = b""
  while True:
    chunk = os.read(source, 65536)
    if not chunk:
      break
    *lines, pending = (pending + chunk).split(b"\n")
    out = b"".join(line + b"\n" for line in lines
                   if not NATIVE_NOISE.match(line.decode("utf-8", "replace")))
    if pending and (b"\r" in pending or not _may_become_noise(pending)):
      out, pending = out + pending, b""
    if out:
      os.write(sink, out)
  if pending and not NATIVE_NOISE.match(pending.decode("utf-8", "replace")):
    os.write(sink, pending)


def _restore_stderr(real_stderr: int, child: int) -> None:
  """Gives descriptor 2 back and waits (briefly) for the filter to forward the last lines."""
  try:
    sys.stderr.flush()
  except (OSError, ValueError):
    pass
  os.dup2(real_stderr, 2)
  os.close(real_stderr)
  deadline = time.monotonic() + 2.0   # a child process that still holds the pipe keeps it open
  while time.monotonic() < deadline:
    if os.waitpid(child, os.WNOHANG)[0]:
      return
    time.sleep(0.01)
