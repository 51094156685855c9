"""run_bundle.py: runs an edgegnn device bundle on the device. Needs numpy + ai-edge-litert.

This file is copied into every bundle as `run_bundle.py`; it imports neither edgegnn nor
TensorFlow, so it runs on a Raspberry Pi (or any aarch64/x86 Linux) with only

    python3 -m pip install numpy ai-edge-litert

Usage, inside the bundle directory:

    python3 run_bundle.py [--runs 50] [--warmup 5] [--threads 1] [--out results.json]
                          [--lce-benchmark PATH]

For each artifact of `manifest.json` it feeds the stored sample inputs (`inputs/`, real
values; quantized here with the sidecar's scale/zero point for int8 tensors), compares
the predictions with the host's (`expected/NAME.npy`) and the labels, times the first
example (p50/p90 over --runs after --warmup), and writes `results/NAME.npy` (the device's
logits) and the results JSON. `lce` artifacts need LCE's kernels: with
`--lce-benchmark PATH_TO_lce_benchmark_model` (or `lce_benchmark_model` on PATH) they
are timed by that binary; otherwise they are reported as skipped.
"""
import argparse
import importlib.util
import json
import os
import pathlib
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

_INT_RANGES = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767)}


def _load_input_checks():
  """edgegnn's input checks (`edgegnn/deploy/input_checks.py`, numpy only), loaded from
  beside this file: in the package as in a bundle, where it is copied next to
  run_bundle.py. By path, so the device needs no edgegnn."""
  path = pathlib.Path(__file__).with_name("input_checks.py")
  spec = importlib.util.spec_from_file_location("edgegnn_input_checks", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


_CHECKS = _load_input_checks()


def _quantize(values, spec):
  q = spec.get("quantization")
  if q is None:
    raise ValueError(f"input {spec['name']}: {spec['dtype']} without quantization")
  low, high = _INT_RANGES[spec["dtype"]]
  scaled = np.round(np.asarray(values, np.float64) / q["scale"][0]) + q["zero_point"][0]
  return np.clip(scaled, low, high).astype(spec["dtype"])


def _encode(values, spec):
  """Real values -> the tensor's dtype (quantized for int8/uint8/int16 tensors)."""
  if spec["dtype"] in _INT_RANGES and spec.get("quantization") and values.dtype.kind == "f":
    return _quantize(values, spec)
  if np.dtype(spec["dtype"]).kind in "iu":  # no truncated floats, no wrapped int64
    return np.ascontiguousarray(_CHECKS.check_integer_cast(spec["name"], values,
                                                           spec["dtype"]))
  return np.ascontiguousarray(values.astype(spec["dtype"]))


def _decode(values, spec):
  q = spec.get("quantization")
  if spec["dtype"] in _INT_RANGES and q is not None:
    return ((np.asarray(values, np.float64) - q["zero_point"][0]) * q["scale"][0]
            ).astype(np.float32)
  return np.asarray(values, np.float32)


def _load_example(directory, names):
  return {name: np.load(directory / f"{name}.npy") for name in names}


def _litert(model_path, sidecar, threads):
  from ai_edge_litert.interpreter import Interpreter  # pylint: disable=import-outside-toplevel
  interpreter = Interpreter(model_path=str(model_path), num_threads=threads)
  runner = interpreter.get_signature_runner(sidecar.get("signature") or "serving_default")
  inputs = {spec["name"]: spec for spec in sidecar["inputs"]}
  output = sidecar["outputs"][0]

  def call(example):
    result = runner(**{name: _encode(example[name], spec) for name, spec in inputs.items()})
    return _decode(result[output["name"]], output)
  return call


def _percentiles(seconds):
  ms = 1000.0 * np.asarray(seconds)
  return {"p50": float(np.percentile(ms, 50)), "p90": float(np.percentile(ms, 90))}


def _run_litert(bundle, manifest, artifact, args):
  sidecar = json.loads((bundle / artifact["sidecar"]).read_text())
  call = _litert(bundle / artifact["file"], sidecar, args.threads)
  names = [spec["name"] for spec in sidecar["inputs"]]
  feed_dir = bundle / "inputs" / artifact["feed_set"]
  examples = [feed_dir / f"{k:05d}" for k in range(manifest["examples"])]
  logits = []
  for directory in examples:
    example = _load_example(directory, names)
    _CHECKS.check_inputs(example)  # once per example; the timing loop reuses the first
    out = call(example)
    if manifest["task"] == "node":
      out = out[: manifest["num_nodes"]][np.load(bundle / "test_index.npy")]
    logits.append(out.reshape(-1, out.shape[-1]))
  logits = np.concatenate(logits)
  first = _load_example(examples[0], names)
  for _ in range(args.warmup):
    call(first)
  seconds = []
  for _ in range(args.runs):
    start = time.perf_counter()
    call(first)
    seconds.append(time.perf_counter() - start)
  expected = np.load(bundle / artifact["expected"])
  labels = np.load(bundle / "labels.npy")
  (bundle / "results").mkdir(exist_ok=True)
  np.save(bundle / "results" / f"{artifact['name']}.npy", logits)
  return {"runtime": "litert", "examples": int(len(labels)),
          "agreement": float(np.mean(logits.argmax(-1) == expected.argmax(-1))),
          "test_accuracy": float(np.mean(logits.argmax(-1) == labels)),
          "max_abs_diff": float(np.max(np.abs(logits - expected))),
          "latency_ms": _percentiles(seconds), "runs": args.runs, "threads": args.threads}


def _run_lce(bundle, manifest, artifact, args):
  binary = args.lce_benchmark or shutil.which("lce_benchmark_model")
  if not binary or not os.access(binary, os.X_OK):
    return {"runtime": "lce", "skipped": "lce artifact: needs LCE's lce_benchmark_model on "
            "the device (--lce-benchmark PATH; see deploy/pi/README.md)"}
  sidecar = json.loads((bundle / artifact["sidecar"]).read_text())
  first = bundle / "inputs" / artifact["feed_set"] / "00000"
  with tempfile.TemporaryDirectory() as raw:
    files = []
    for spec in sidecar["inputs"]:
      path = pathlib.Path(raw) / f"{spec['name']}.bin"
      _encode(np.load(first / f"{spec['name']}.npy"), spec).tofile(path)
      files.append(f"{spec['name']}:{path}")
    command = [binary, f"--graph={bundle / artifact['file']}", f"--num_threads={args.threads}",
               f"--warmup_runs={args.warmup}", f"--num_runs={args.runs}",
               "--input_layer_value_files=" + ",".join(files)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
  found = re.findall(r"count=\d+ .*?avg=([0-9.e+]+)", done.stdout + done.stderr)
  if done.returncode or not found:
    return {"runtime": "lce", "error": f"{binary} exited {done.returncode}: "
            + (done.stderr or done.stdout)[-400:]}
  return {"runtime": "lce", "benchmark_avg_ms": float(found[-1]) / 1000.0,
          "runs": args.runs, "threads": args.threads}


def _device():
  try:
    from importlib import metadata  # pylint: disable=import-outside-toplevel
    litert = metadata.version("ai-edge-litert")
  except Exception:  # pylint: disable=broad-except
    litert = None
  return {"machine": platform.machine(), "system": platform.platform(),
          "python": platform.python_version(), "numpy": np.__version__, "litert": litert,
          "cpus": os.cpu_count()}


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--runs", type=int, default=50)
  parser.add_argument("--warmup", type=int, default=5)
  parser.add_argument("--threads", type=int, default=1)
  parser.add_argument("--out", default="results.json")
  parser.add_argument("--lce-benchmark", default=None)
  args = parser.parse_args(argv)
  if args.runs < 1 or args.warmup < 0 or args.threads < 1:
    parser.error("--runs and --threads must be >= 1, --warmup >= 0")
  bundle = pathlib.Path(__file__).resolve().parent
  manifest = json.loads((bundle / "manifest.json").read_text())
  results = {"device": _device(), "runs": args.runs, "threads": args.threads, "artifacts": {}}
  for artifact in manifest["artifacts"]:
    try:
      if artifact["runtime"] == "lce":
        result = _run_lce(bundle, manifest, artifact, args)
      else:
        result = _run_litert(bundle, manifest, artifact, args)
    except Exception as e:  # pylint: disable=broad-except
      result = {"error": f"{type(e).__name__}: {e}"}
    results["artifacts"][artifact["name"]] = result
    shown = {k: v for k, v in result.items() if k in ("agreement", "latency_ms", "error",
                                                        "skipped", "benchmark_avg_ms")}
    print(f"{artifact['name']}: {json.dumps(shown)}", flush=True)
  out = pathlib.Path(args.out)
  out = out if out.is_absolute() else bundle / out
  tmp = out.with_name(out.name + ".tmp")
  tmp.write_text(json.dumps(results, indent=1) + "\n")
  os.replace(tmp, out)
  return 0


if __name__ == "__main__":
  sys.exit(main())
