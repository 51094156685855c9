"""What the `edgegnn` executable prints: no TensorFlow/absl/LiteRT log lines unless
`--verbose`, `--quiet` and `--verbose` exclusive, the native-stderr filter forwarding every
other line in order, `--json` on convert as one parseable document, and the Keras-3 guard
firing when `tf.keras` already resolved to Keras 3."""
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from edgegnn.cli import log_manners, main

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Lines TensorFlow, absl and LiteRT print on import, conversion and first invoke.
NATIVE_LINES = [
    "2026-12-07 23:59:12.285022: I tensorflow/core/util/port.cc:113] oneDNN custom operations "
    "are on.",
    "2026-12-07 23:59:12.303160: W tensorflow/compiler/tf2tensorrt/utils/py_utils.cc:38] "
    "TF-TRT Warning: Could not find TensorRT",
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "W0000 00:00:1796687967.203554   23927 tf_tfl_flatbuffer_helpers.cc:390] Ignored "
    "output_format.",
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
]


def library_log_lines(stderr: str) -> list[str]:
  """The lines of STDERR that TensorFlow, absl, AutoGraph, Python warnings or LiteRT wrote
  (progress bars and edgegnn's own lines are not)."""
  return [line for line in stderr.splitlines()
          if log_manners.NATIVE_NOISE.match(line)
          or re.search(r"tensorflow|Warning|WARNING|absl|AutoGraph|XNNPACK", line)]


def _edgegnn(*args, timeout=300):
  env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
  return subprocess.run([sys.executable, "-m", "edgegnn.cli", *args], capture_output=True,
                        text=True, cwd=ROOT, env=env, timeout=timeout, check=False)


def test_native_noise_pattern_matches_the_library_lines_and_nothing_of_ours():
  assert all(log_manners.NATIVE_NOISE.match(line) for line in NATIVE_LINES)
  for ours in ("Error: ValueError: cora.npz: no array 'labels'", "Traceback (most recent "
               "call last):", "2026-12-07 23:59:12.303160: E tensorflow/core/x.cc:1] real error",
               "epoch 3/200 loss 1.2"):
    assert not log_manners.NATIVE_NOISE.match(ours), ours


def test_filter_drops_native_lines_and_forwards_the_rest_in_order():
  script = (
      "import os, sys\n"
      "from edgegnn.cli import log_manners\n"
      "log_manners.filter_native_stderr()\n"
      f"lines = {NATIVE_LINES!r}\n"
      "for i, line in enumerate(lines):\n"
      "  os.write(2, (line + '\\n').encode())\n"
      "  print(f'ours {i}', file=sys.stderr, flush=True)\n"
      "os.write(2, b'last words without a newline')\n")
  done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                        cwd=ROOT, timeout=60, check=True)
  expected = [f"ours {i}" for i in range(len(NATIVE_LINES))] + ["last words without a newline"]
  assert done.stderr.splitlines() == expected


def test_a_tensorflow_command_prints_no_library_logs(tmp_path):
  done = _edgegnn("train", "--dataset", "cora", "--epochs", "1", "--out", str(tmp_path / "m"))
  assert done.returncode == 0, done.stderr
  assert library_log_lines(done.stderr) == [], done.stderr
  assert json.loads(done.stdout)["epochs_run"] == 1


@pytest.mark.slow
def test_verbose_shows_the_library_logs(tmp_path):
  verbose = _edgegnn("--verbose", "train", "--dataset", "cora", "--epochs", "1", "--out",
                     str(tmp_path / "v"))
  assert verbose.returncode == 0, verbose.stderr
  assert any(log_manners.NATIVE_NOISE.match(l) for l in verbose.stderr.splitlines())


def test_quiet_and_verbose_exclude_each_other():
  result = CliRunner().invoke(main, ["--quiet", "--verbose", "datasets"])
  assert result.exit_code != 0
  assert "--verbose and --quiet" in result.output


def test_keras3_guard_fires_when_tf_keras_already_resolved_to_keras3():
  env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
  script = ("import tensorflow as tf\n"
            "tf.keras.layers.Dense\n"     # resolves tf.keras (Keras 3 without the variable)
            "import edgegnn\n")
  done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                        cwd=ROOT, env=env, timeout=120, check=False)
  assert done.returncode != 0
  assert "ImportError" in done.stderr and "Keras 3" in done.stderr


def test_filter_passes_progress_redraws_at_once_and_holds_only_possible_noise():
  import select
  import threading
  source_r, source_w = os.pipe()
  sink_r, sink_w = os.pipe()
  forward = threading.Thread(target=log_manners._forward, args=(source_r, sink_w))
  forward.start()

  def arrived(timeout=5.0):
    ready, _, _ = select.select([sink_r], [], [], timeout)
    return os.read(sink_r, 65536) if ready else b""

  try:
    os.write(source_w, b"\rtrain gcn:  10%|#         | 20/200")     # a tqdm redraw, no newline
    assert arrived() == b"\rtrain gcn:  10%|#         | 20/200"
    os.write(source_w, b"\nW0000 00:00:1796687967.203554   23927 tf_tfl")  # could be noise
    assert arrived() == b"\n"
    os.write(source_w, b"_flatbuffer_helpers.cc:390] Ignored output_format.\nours\n")
    assert arrived() == b"ours\n"                                   # the noise line is dropped
  finally:
    os.close(source_w)
    forward.join(10)
    for fd in (source_r, sink_r, sink_w):
      os.close(fd)


def test_ctrl_c_to_the_process_group_keeps_the_last_words():
  """Ctrl-C reaches the command and its stderr filter alike; the filter outlives it, so what
  the interrupted command prints on its way out still arrives."""
  import signal
  import time
  code = ("import sys, time\n"
          "from edgegnn.cli import log_manners\n"
          "log_manners.filter_native_stderr()\n"
          "print('ready', flush=True)\n"
          "try:\n"
          "  time.sleep(60)\n"
          "except KeyboardInterrupt:\n"
          "  print('interrupted, cleaned up', file=sys.stderr, flush=True)\n")
  proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True)
  assert proc.stdout.readline() == "ready\n"
  time.sleep(0.2)
  os.killpg(proc.pid, signal.SIGINT)
  _, stderr = proc.communicate(timeout=60)
  assert stderr == "interrupted, cleaned up\n"
