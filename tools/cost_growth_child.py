"""The child process of tools/bench_cost_growth.py: loads one artifact and its inputs, times
invokes and reports its own peak memory (VmHWM reset after loading the inputs).

    python tools/cost_growth_child.py PACKAGE_ROOT MODEL.tflite INPUTS_DIR THREADS INVOKES

Prints one line `COST_GROWTH {json}`. Imports numpy and ai-edge-litert only, no TensorFlow.
"""
import json, os, sys, time
# argv[1] (the package root) is kept for the command line's shape; edgegnn is installed.
import numpy as np
from ai_edge_litert.interpreter import Interpreter
from edgegnn.deploy import tflite_file
def kb(field):
  with open("/proc/self/status") as f:
    for line in f:
      if line.startswith(field + ":"):
        return int(line.split()[1])
folder = sys.argv[3]
arrays = {n[:-4]: np.load(os.path.join(folder, n)) for n in sorted(os.listdir(folder))}
info = tflite_file.read_model(sys.argv[2])
baseline = kb("VmRSS")
with open("/proc/self/clear_refs", "w") as f:
  f.write("5")   # VmHWM := VmRSS
interpreter = Interpreter(model_path=sys.argv[2], num_threads=int(sys.argv[4]))
details = interpreter.get_input_details()
for io in info.inputs:
  interpreter.resize_tensor_input(details[io.position]["index"], arrays[io.name].shape)
interpreter.allocate_tensors()
for io in info.inputs:
  interpreter.set_tensor(details[io.position]["index"], arrays[io.name])
interpreter.invoke()   # untimed: first-run allocations and weight packing
times, cpu = [], []
for _ in range(int(sys.argv[5])):
  start, start_cpu = time.perf_counter(), time.process_time()
  interpreter.invoke()
  cpu.append((time.process_time() - start_cpu) * 1e3)
  times.append((time.perf_counter() - start) * 1e3)
out = interpreter.get_output_details()[0]
logits = interpreter.get_tensor(out["index"])
print("COST_GROWTH " + json.dumps({
    "p50_ms": float(np.percentile(times, 50)), "p90_ms": float(np.percentile(times, 90)),
    "cpu_p50_ms": float(np.percentile(cpu, 50)),
    "times_ms": [round(t, 4) for t in times], "cpu_times_ms": [round(t, 4) for t in cpu],
    "baseline_bytes": baseline * 1024,
    "peak_bytes": kb("VmHWM") * 1024, "output_shape": list(logits.shape),
    "output_finite": bool(np.isfinite(logits).all()),
    "input_bytes": int(sum(a.nbytes for a in arrays.values()))}), flush=True)
