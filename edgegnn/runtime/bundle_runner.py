"""run_bundle.py: runs an edgegnn device bundle on the device. Needs numpy + ai-edge-litert.

A bundle (`edgegnn deploy pi`) holds this file as `run_bundle.py` and, beside it, the
modules of `edgegnn.runtime` it uses, as the package `edgegnn_runtime/`: the same
interpreters, input checks, quantization and timing loop as on the host. Neither edgegnn
nor TensorFlow is needed on the device, only

    python3 -m pip install numpy ai-edge-litert

Usage, inside the bundle directory:

    python3 run_bundle.py [--runs 50] [--warmup 5] [--threads 1] [--out results.json]
                          [--lce-benchmark PATH]

For each artifact of `manifest.json` it runs the stored sample inputs (`inputs/`, real
values) through `edgegnn_runtime.interpreters` (values checked, floats quantized with the
tensor's scale and zero point, per channel where the tensor is; outputs dequantized),
compares the predictions with the host's (`expected/NAME.npy`) and the labels, times the
first example with `edgegnn_runtime.timing` (as `edgegnn bench` does: on litert the
invoke of an interpreter whose inputs are set once), and writes `results/NAME.npy` (the
device's logits) and the results JSON. `lce` artifacts need LCE's kernels: with
`--lce-benchmark PATH_TO_lce_benchmark_model` (or `lce_benchmark_model` on PATH) they are
timed by that binary; otherwise they are reported as skipped.
"""
import argparse
import json
import os
import pathlib
import platform
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

BUNDLED_PACKAGE = "edgegnn_runtime"  # the runtime's directory name inside a bundle

if __package__:  # imported from the package: edgegnn.runtime.bundle_runner
  from . import input_checks, interpreters, tensors, tflite_file, timing
else:  # run as a bundle's run_bundle.py: the runtime package sits beside this file
  sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
  # pylint: disable-next=g-import-not-at-top
  from edgegnn_runtime import input_checks, interpreters, tensors, tflite_file, timing


def _load_example(directory: pathlib.Path, names) -> dict:
  return {name: np.load(directory / f"{name}.npy") for name in names}


def _examples(bundle: pathlib.Path, manifest: dict, artifact: dict) -> list[pathlib.Path]:
  feed_dir = bundle / "inputs" / artifact["feed_set"]
  return [feed_dir / f"{k:05d}" for k in range(manifest["examples"])]


def _run_litert(bundle: pathlib.Path, manifest: dict, artifact: dict, args) -> dict:
  runtime = interpreters.open_runtime(str(bundle / artifact["file"]), "litert",
                                      num_threads=args.threads)
  names = [io.name for io in runtime.inputs]
  output = runtime.outputs[0].name
  examples = _examples(bundle, manifest, artifact)
  logits = []
  for directory in examples:
    out = runtime.run(_load_example(directory, names))[output]
    if manifest["task"] == "node":
      out = out[: manifest["num_nodes"]][np.load(bundle / "test_index.npy")]
    logits.append(out.reshape(-1, out.shape[-1]))
  logits = np.concatenate(logits)
  prepared = runtime.prepare(_load_example(examples[0], names))
  call, timed = timing.timed_call(runtime, prepared)
  latency = timing.latency_ms(call, args.runs, args.warmup)
  expected = np.load(bundle / artifact["expected"])
  labels = np.load(bundle / "labels.npy")
  (bundle / "results").mkdir(exist_ok=True)
  np.save(bundle / "results" / f"{artifact['name']}.npy", logits)
  return {"runtime": "litert", "examples": int(len(labels)),
          "agreement": float(np.mean(logits.argmax(-1) == expected.argmax(-1))),
          "test_accuracy": float(np.mean(logits.argmax(-1) == labels)),
          "max_abs_diff": float(np.max(np.abs(logits - expected))),
          "latency_ms": latency, "timed": timed, "runs": args.runs, "warmup": args.warmup,
          "threads": args.threads}


def _run_lce(bundle: pathlib.Path, manifest: dict, artifact: dict, args) -> dict:
  binary = args.lce_benchmark or shutil.which("lce_benchmark_model")
  if not binary or not os.access(binary, os.X_OK):
    return {"runtime": "lce", "skipped": "lce artifact: needs LCE's lce_benchmark_model on "
            "the device (--lce-benchmark PATH; see deploy/pi/README.md)"}
  info = tflite_file.read_model(str(bundle / artifact["file"]))
  first = _load_example(_examples(bundle, manifest, artifact)[0],
                        [io.name for io in info.inputs])
  input_checks.check_inputs(first)
  with tempfile.TemporaryDirectory() as raw:
    files = []
    for io in info.inputs:
      path = pathlib.Path(raw) / f"{io.name}.bin"
      tensors.prepare_input(first[io.name], io).tofile(path)
      files.append(f"{io.name}:{path}")
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


def _device() -> dict:
  try:
    from importlib import metadata  # pylint: disable=import-outside-toplevel
    litert = metadata.version("ai-edge-litert")
  except Exception:  # pylint: disable=broad-except
    litert = None
  return {"machine": platform.machine(), "system": platform.platform(),
          "python": platform.python_version(), "numpy": np.__version__, "litert": litert,
          "cpus": os.cpu_count()}


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--runs", type=int, default=50)
  parser.add_argument("--warmup", type=int, default=5)
  parser.add_argument("--threads", type=int, default=1)
  parser.add_argument("--out", default="results.json")
  parser.add_argument("--lce-benchmark", default=None)
  parser.add_argument("--bundle", default=None,
                      help="The bundle directory (default: the directory of this file).")
  args = parser.parse_args(argv)
  if args.runs < 1 or args.warmup < 0 or args.threads < 1:
    parser.error("--runs and --threads must be >= 1, --warmup >= 0")
  bundle = pathlib.Path(args.bundle or pathlib.Path(__file__).resolve().parent).resolve()
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
