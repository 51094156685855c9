"""`edgegnn inspect` and `edgegnn bench`: read, cost and time a .tflite file."""
from __future__ import annotations

import json

import click

from edgegnn.cli.base import MAX_RUNS, fail as _fail, main


@main.command()
@click.argument("tflite_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--cost", "cost_target", default=None, metavar="TARGET",
              help="Also estimate each op's MACs, bytes, roofline bound and time on TARGET: "
                   "host, cortex-a72 (Raspberry Pi 4), cortex-a53 (Pi 3) or cortex-m7 "
                   "(docs/hardware.md).")
@click.option("--inputs", "inputs_dir", default=None,
              type=click.Path(exists=True, file_okay=False),
              help="With --cost: directory of NAME.npy whose shapes the cost is evaluated "
                   "at (default: the artifact's sample inputs or sidecar dataset).")
@click.option("--input-shape", "input_shapes", multiple=True, metavar="NAME=D0,D1",
              help="With --cost: the size of a dynamic input (repeat for each).")
@click.option("--calibration", default=None, type=click.Path(exists=True, dir_okay=False),
              help="With --cost: a JSON calibration (tools/bench_cost_model.py writes one) "
                   "instead of the target's own.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def inspect(tflite_file, cost_target, inputs_dir, input_shapes, calibration, as_json):
  """Ops, tensor and weight bytes, inputs/outputs and compatible runtimes of a .tflite file.

  With --cost TARGET, also its cost per layer and per op on TARGET: MACs, bytes read and
  written, arithmetic intensity, compute- or memory-bound, predicted time; the predicted
  latency and peak memory (docs/hardware.md)."""
  from edgegnn.runtime import bench_inputs
  from edgegnn.runtime import tflite_file as tf_file
  if (inputs_dir or input_shapes or calibration) and not cost_target:
    _fail(ValueError("--inputs, --input-shape and --calibration go with --cost TARGET."))
  report = None
  try:
    info = tf_file.read_model(tflite_file)
    if cost_target:
      from edgegnn.deploy import cost, cost_targets
      target = cost_targets.get_target(cost_target, calibration)
      shapes = dict(bench_inputs.parse_input_shape(text) for text in input_shapes)
      report = cost.estimate(info, target, input_shapes=shapes or None, inputs_dir=inputs_dir)
  except (ValueError, FileNotFoundError) as e:
    _fail(e)
  if as_json:
    out = tf_file.to_json(info)
    if report is not None:
      out["cost"] = report.to_json()
    click.echo(json.dumps(out, indent=1))
    return
  click.echo(tf_file.format_text(info))
  if report is not None:
    click.echo(cost.format_text(report))


@main.command()
@click.argument("tflite_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--runs", default=100, show_default=True, type=click.IntRange(1, MAX_RUNS))
@click.option("--warmup", default=10, show_default=True, type=click.IntRange(0, MAX_RUNS))
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 256))
@click.option("--runtime", default="auto", show_default=True,
              help="auto, litert, lce or tflm (tflm also reports the tensor arena size).")
@click.option("--inputs", "inputs_dir", default=None,
              type=click.Path(exists=True, file_okay=False),
              help="Directory of NAME.npy, one per input: the inputs to time.")
@click.option("--input-shape", "input_shapes", multiple=True, metavar="NAME=D0,D1",
              help="Random inputs of this shape (repeat for each dynamic input).")
@click.option("--set-inputs-each-run", is_flag=True,
              help="Time set inputs + invoke + read outputs (default on litert: invoke "
                   "only, inputs set once).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def bench(tflite_file, runs, warmup, threads, runtime, inputs_dir, input_shapes,
          set_inputs_each_run, as_json):
  """Latency p50/p90 after warm-up, model bytes and peak memory of a .tflite file.

  Timed on real inputs: --inputs DIR, --input-shape, the artifact's sample inputs
  (ARTIFACT.tflite.inputs/) or its sidecar's dataset; random values only for static
  shapes. A dynamic-shape artifact without any of these is refused, never timed on its
  placeholder (1-node) shape. The shapes timed are printed.
  """
  from edgegnn.runtime import bench as bench_lib
  from edgegnn.runtime import bench_inputs
  try:
    shapes = dict(bench_inputs.parse_input_shape(text) for text in input_shapes)
    result = bench_lib.benchmark(tflite_file, runs=runs, warmup=warmup, num_threads=threads,
                                 runtime=runtime, inputs_dir=inputs_dir,
                                 input_shapes=shapes or None,
                                 inputs_once=not set_inputs_each_run)
  except (ValueError, FileNotFoundError) as e:
    _fail(e)
  if as_json:
    click.echo(json.dumps(result, indent=1))
    return
  lat = result["latency_ms"]
  shapes = ", ".join(f"{name} {'x'.join(map(str, io['shape'])) or 'scalar'} {io['dtype']}"
                     for name, io in result["inputs"].items())
  click.echo(f"{tflite_file}: {result['model_bytes']} bytes, runtime {result['runtime']}, "
             f"{result['threads']} thread(s)\n  inputs ({result['inputs_source']}): {shapes}"
             f"\n  latency p50 {lat['p50']:.3f} ms, "
             f"p90 {lat['p90']:.3f} ms over {result['runs']} runs ({result['timed']})\n"
             f"  peak memory {result.get('peak_memory_bytes')} bytes (the model added "
             f"{result.get('model_memory_bytes')})"
             + (f"\n  TFLM arena {result['arena_bytes']} bytes"
                if result.get("arena_bytes") else ""))
