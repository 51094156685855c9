"""The process `bench.measure_peak_memory` measures: load one artifact, run it, report.

    python -m edgegnn.runtime.memory_child MODEL INPUTS.npz RUNTIME THREADS ARENA RUNS

(ARENA: the TFLM arena in bytes, or "" to measure it.) After importing the runtime and
loading the inputs it records its resident set (the baseline) and resets the kernel's
high-water mark (`echo 5 > /proc/self/clear_refs`, Linux >= 4.0); after loading the model
and running it RUNS times, the high-water mark VmHWM is the peak. Where /proc cannot be
written it falls back to `ru_maxrss` (the peak over the process's life). It prints one
line: `PEAK_PREFIX {"baseline_kb", "peak_kb", "method"}`.
"""
import json
import resource
import sys

PEAK_PREFIX = "EDGEGNN_PEAK "


def _status_kb(field: str) -> int:
  with open("/proc/self/status") as f:
    for line in f:
      if line.startswith(field + ":"):
        return int(line.split()[1])
  raise ValueError(f"/proc/self/status has no {field}")


def main(argv: list[str]) -> int:
  import numpy as np  # pylint: disable=g-import-not-at-top
  from . import interpreters  # pylint: disable=g-import-not-at-top
  model, inputs, runtime, threads, arena, runs = argv
  if runtime == "lce":
    interpreters.load_lce_wrapper()
  elif runtime == "litert":
    import ai_edge_litert.interpreter  # pylint: disable=g-import-not-at-top,unused-import
  else:
    from tflite_micro.python.tflite_micro import runtime as _  # pylint: disable=g-import-not-at-top
  arrays = dict(np.load(inputs))
  try:
    baseline = _status_kb("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
      f.write("5")  # resets VmHWM to the current resident set
    method = "VmHWM"
  except (OSError, ValueError):
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    method = "ru_maxrss"
  rt = interpreters.open_runtime(model, runtime, num_threads=int(threads),
                                 arena_size=int(arena) if arena else None)
  prepared = rt.prepare(arrays)
  for _ in range(int(runs)):
    rt.invoke(prepared)
  peak = (_status_kb("VmHWM") if method == "VmHWM"
          else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
  print(PEAK_PREFIX + json.dumps({"baseline_kb": baseline, "peak_kb": peak,
                                  "method": method}), flush=True)
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
