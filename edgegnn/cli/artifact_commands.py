"""`edgegnn inspect` and `edgegnn bench`: read and time a .tflite file."""
from __future__ import annotations

import json

import click

from edgegnn.cli.base import MAX_RUNS, fail as _fail, main


@main.command()
@click.argument("tflite_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def inspect(tflite_file, as_json):
  """Ops, tensor and weight bytes, inputs/outputs and compatible runtimes of a .tflite file."""
  from edgegnn.deploy import tflite_file as tf_file
  try:
    info = tf_file.read_model(tflite_file)
  except ValueError as e:
    _fail(e)
  click.echo(json.dumps(tf_file.to_json(info), indent=1) if as_json else tf_file.format_text(info))


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
  from edgegnn.deploy import bench as bench_lib
  from edgegnn.deploy import bench_inputs
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
