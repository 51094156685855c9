"""The arena probe worker: tries tensor arena sizes on the tflite-micro interpreter.

Run by `arena` as a separate process, by its file path (it imports nothing of edgegnn):

    python arena_worker.py MODEL.tflite INPUTS.npz NUM_OUTPUTS STDERR_PATH

It reads one arena size (bytes) per line from stdin; for each it allocates the model in
that arena, sets the inputs (arrays `arr_0`, `arr_1`, ... of the .npz, in the subgraph's
input order), invokes once, reads every output, and answers one line on stdout:
`ANSWER_PREFIX {"ok": bool, "error": str}`. TFLM's own messages for that size (its
"missing: N" shortfall) are in STDERR_PATH, rewritten for each size.

A size far too small can crash TFLM and with it this process; the parent then sees end
of file instead of an answer. That is why the probes run here and not in the caller.
"""
import json
import os
import sys

ANSWER_PREFIX = "EDGEGNN_PROBE "


def _redirect_stderr(path: str) -> None:
  """Points file descriptor 2 (where TFLM's C++ code prints) at a fresh `path`."""
  fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
  os.dup2(fd, 2)
  os.close(fd)


def main(argv: list[str]) -> int:
  import numpy as np  # pylint: disable=g-import-not-at-top
  from tflite_micro.python.tflite_micro import runtime  # pylint: disable=g-import-not-at-top
  model_path, inputs_path, num_outputs, stderr_path = argv
  with open(model_path, "rb") as f:
    model = f.read()
  arrays = np.load(inputs_path)
  inputs = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
  for line in sys.stdin:
    size = int(line)
    _redirect_stderr(stderr_path)
    ok, error = True, ""
    try:
      interpreter = runtime.Interpreter.from_bytes(model, arena_size=size)
      for i, value in enumerate(inputs):
        interpreter.set_input(value, i)
      interpreter.invoke()
      for j in range(int(num_outputs)):
        interpreter.get_output(j)
      del interpreter
    except Exception as e:  # pylint: disable=broad-except
      ok, error = False, f"{type(e).__name__}: {e}"
    sys.stdout.write(ANSWER_PREFIX + json.dumps({"ok": ok, "error": error}) + "\n")
    sys.stdout.flush()
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
