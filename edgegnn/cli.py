"""The `edgegnn` command line. Each command is a thin shell over a library call."""
from __future__ import annotations

import json
import sys

import click


def _one_line(text: str) -> str:
  return " ".join(str(text).split())


def _fail(error: Exception) -> None:
  raise click.ClickException(_one_line(error))


# Most commands run for as long as a benchmark may sensibly take; more is a typo.
MAX_RUNS = 100_000


class _Cli(click.Group):
  """The CLI boundary: every failure of a command is one line on stderr and exit code 1
  (a usage error too); `edgegnn --verbose CMD` re-raises it with its traceback."""

  def invoke(self, ctx):
    try:
      return super().invoke(ctx)
    except (click.exceptions.Exit, click.Abort):
      raise
    except click.UsageError as e:
      if ctx.params.get("verbose"):
        raise
      command = f" {e.ctx.command_path}" if e.ctx else ""
      raise click.ClickException(
          f"{_one_line(e.format_message())} (see `{command.strip() or 'edgegnn'} --help`)"
      ) from None
    except click.ClickException as e:
      e.message = _one_line(e.message)
      raise
    except Exception as e:  # pylint: disable=broad-except
      if ctx.params.get("verbose"):
        raise
      message = _one_line(e) or "no message"
      if isinstance(e, OSError) and e.filename is not None:
        message = f"{e.filename}: {e.strerror or message}"
      if not isinstance(e, (ValueError, OSError, RuntimeError)):
        message += " (unexpected; run `edgegnn --verbose ...` for the traceback and report it)"
      raise click.ClickException(f"{type(e).__name__}: {message}") from None


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="edgegnn")
@click.option("--verbose", is_flag=True, help="Show the full traceback of a failure.")
def main(verbose):  # pylint: disable=unused-argument
  """edgegnn: train TF-GNN models, compress them, export verified .tflite artifacts."""


@main.command()
def datasets():
  """List the datasets shipped with edgegnn."""
  from edgegnn import data
  for name in data.available_datasets():
    click.echo(name)


@main.command()
@click.argument("pipeline_file", type=click.Path(dir_okay=False))
@click.option("--out", default=None, help="Output directory (default: the file's `out`).")
@click.option("--dry-run", is_flag=True, help="Validate the whole file and print the plan.")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
def run(pipeline_file, out, dry_run, no_progress):
  """Run a pipeline file: train, export, verify and benchmark; writes OUT/report.json.

  Finished stages are cached by a hash of their config and inputs; a killed run resumes.
  """
  from edgegnn import pipeline as pipeline_lib
  try:
    pipeline = pipeline_lib.load(pipeline_file)
  except (ValueError, TypeError) as e:
    _fail(e)
  for line in pipeline_lib.plan(pipeline):
    click.echo(line)
  if dry_run:
    return
  runner = pipeline_lib.Runner(pipeline, out=out, log=click.echo, progress=not no_progress)
  try:
    runner.run()
  except (ValueError, AssertionError, RuntimeError) as e:
    _fail(e)
  click.echo(f"report: {runner.out / 'report.json'}")


@main.command()
@click.argument("out", type=click.Path(exists=True, file_okay=False))
def report(out):
  """Regenerate OUT/report.md, OUT/report.html and OUT/plots/*.png from OUT/report.json."""
  from edgegnn.pipeline import report as report_lib
  try:
    files = report_lib.write_report(out)
  except (FileNotFoundError, ValueError) as e:
    _fail(e)
  click.echo(f"wrote {files.markdown}, {files.html}, "
             + ", ".join(str(p) for p in files.plots.values()))


@main.command()
@click.option("--dataset", required=True,
              help="A bundled name (see `edgegnn datasets`), a .npz file, or a .yaml/.json "
                   "file holding a dataset source mapping (docs/data.md).")
@click.option("--architecture", default="gcn", show_default=True,
              help="gcn, gat, sage, gin, edgeconv, mlp or mp.")
@click.option("--hidden-units", default=16, show_default=True)
@click.option("--num-layers", default=2, show_default=True)
@click.option("--epochs", default=200, show_default=True)
@click.option("--learning-rate", default=0.01, show_default=True)
@click.option("--weight-decay", default=5e-4, show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--fold", default=0, show_default=True, help="Fold of a TU dataset (0-9).")
@click.option("--out", required=True, help="Directory for the trained model.")
def train(dataset, architecture, hidden_units, num_layers, epochs, learning_rate, weight_decay,
          seed, fold, out):
  """Train one model; writes OUT/model.json, OUT/weights.h5 and OUT/checkpoint/metrics.json."""
  from edgegnn.data import sources
  from edgegnn.models import ModelSpec
  from edgegnn.models.saving import ModelMeta, save_trained
  from edgegnn.training import TrainConfig, train as train_fn
  try:
    source = sources.resolve(dataset)
    ds, summary = sources.load_source_summary(source)
    if sources.is_source(source):
      click.echo(f"dataset {summary}")
    spec = ModelSpec(architecture=architecture, hidden_units=hidden_units,
                     num_layers=num_layers, weight_decay=weight_decay,
                     input_normalization="row" if ds.task == "node" else "none")
    result = train_fn(spec, ds, TrainConfig(epochs=epochs, learning_rate=learning_rate),
                      seed=seed, fold=fold, checkpoint_dir=f"{out}/checkpoint")
  except (ValueError, TypeError) as e:
    _fail(e)
  extra = {"dataset_source": source} if sources.is_source(source) else {}
  save_trained(out, result.model, ModelMeta(spec, ds.name, ds.task, ds.num_features,
                                            ds.num_classes, extra=extra))
  click.echo(json.dumps(result.metrics, indent=1))


@main.command()
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--format", "fmt", default="tflite-float32", show_default=True,
              help="tflite-float32, tflite-float16, tflite-dynamic-int8, tflite-int8 or lce.")
@click.option("--layout", default="sparse", show_default=True,
              help="sparse, dense or neighbors (the full-int8 layout for large graphs).")
@click.option("--capacity", type=int, default=None,
              help="Node capacity of a dense artifact (default: the dataset's largest graph).")
@click.option("--max-neighbors", type=int, default=None,
              help="In-neighbour slots per node of a neighbors artifact (default: the "
                   "dataset's largest in-degree).")
@click.option("--target", default=None, help="mobile, arm-linux or mcu: fail if it cannot run.")
@click.option("--integer-io/--float-io", default=None,
              help="tflite-int8 only: int8 inputs/outputs (the app passes quantized "
                   "features; default: int8 for target mcu, float otherwise).")
@click.option("--features", default="dense", show_default=True,
              type=click.Choice(["dense", "sparse", "binary"]),
              help="How the artifact takes node features: dense rows, or their non-zeros "
                   "(sparse: feature_node/feature_index/feature_value; binary: no values). "
                   "Float formats, node-level gcn/sage/gat/mp/mlp.")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False),
              help="Destination .tflite file (written atomically).")
def convert(model_dir, fmt, layout, capacity, max_neighbors, target, integer_io, features,
            output):
  """Convert a trained model directory to a .tflite artifact, verified on its interpreter.

  The artifact runs over the dataset's test split (fold 0) and is kept only if its
  predictions agree with the Keras model's (floors: 0.99 float, 0.97 int8)."""
  from edgegnn import data
  from edgegnn.deploy.ship import Bench, ship
  from edgegnn.deploy.verify import AgreementError, floor_for
  from edgegnn.models import feeds
  from edgegnn.models.saving import load_meta, load_trained, serving_build
  from edgegnn.training import make_task, predict
  try:
    meta = load_meta(model_dir)
    meta.check_export(layout, formats=[fmt])
    from edgegnn.quantization.config import check_integer_export
    check_integer_export(meta.quantization, [fmt], "convert")
    ds = data.load_source(meta.extra.get("dataset_source") or meta.dataset)
    capacity, max_neighbors = feeds.layout_sizes(
        ds, layout, capacity if capacity is not None else meta.bound_nodes, max_neighbors)
    feeds.check_feature_encoding("convert", features, layout, [fmt], target)
    if features == "binary":
      feeds.check_binary_features(ds)
    trained, _ = load_trained(model_dir, batched=ds.task == "graph")
    model, _ = load_trained(model_dir, layout=layout, capacity=capacity,
                            max_neighbors=max_neighbors, features=features,
                            serving=serving_build([fmt]))
    task = make_task(ds, 0)
    test_index = task.split("test")
    graphs = [ds.graph] if ds.task == "node" else [ds.graphs[i] for i in ds.split(0)[0][:100]]
    reference = (predict(trained, task)[test_index] if ds.task == "node"
                 else predict(trained, task, test_index))
    names = feeds.model_input_names(model)
    rep = [feeds.select(feeds.graph_feed(g, layout, capacity, max_neighbors=max_neighbors),
                        names) for g in graphs]
    figures = ship(model, fmt, output, dataset=ds, reference_logits=reference,
                   test_index=test_index, layout=layout, capacity=capacity,
                   max_neighbors=max_neighbors, features=features, target=target,
                   representative_feeds=rep, integer_io=integer_io, floor=floor_for(fmt),
                   bench_settings=Bench(runs=None))
  except (ValueError, RuntimeError, FileNotFoundError, AgreementError) as e:
    _fail(e)
  except OSError as e:  # h5py / numpy on a truncated weights file name no file
    _fail(ValueError(f"{model_dir}: cannot read the trained model ({e}); train it again."))
  click.echo(f"wrote {figures['artifact']}: {figures['bytes']} bytes, runtime "
             f"{figures['runtime']}, ops {figures['ops']}; test accuracy "
             f"{100 * figures['test_accuracy']:.2f} %, agreement {figures['agreement']:.3f}; "
             f"sidecar {figures['sidecar']}")


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


@main.group()
def deploy():
  """Run a pipeline's artifacts on a device and add the device's figures to the report."""


@deploy.command("pi")
@click.option("--run", "run_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="The run directory (OUT of `edgegnn run`).")
@click.option("--host", default=None, help="USER@HOST of the device (SSH, key auth).")
@click.option("--bundle-only", "bundle_dir", default=None, type=click.Path(file_okay=False),
              help="Only write the bundle to this directory (copy it over yourself).")
@click.option("--port", default=22, show_default=True, help="SSH port.")
@click.option("--identity", default=None, type=click.Path(dir_okay=False),
              help="SSH private key file.")
@click.option("--python", "python", default="python3", show_default=True,
              help="Python on the device (needs numpy and ai-edge-litert).")
@click.option("--remote-dir", default="edgegnn_bundle", show_default=True,
              help="Bundle directory on the device.")
@click.option("--label", default=None, help="Device column name (default: the host).")
@click.option("--artifact", "artifacts", multiple=True,
              help="Only this artifact (repeatable; default: all).")
@click.option("--max-examples", type=int, default=None,
              help="Graph tasks: only the first N test graphs.")
@click.option("--runs", default=50, show_default=True, type=click.IntRange(1, MAX_RUNS))
@click.option("--warmup", default=5, show_default=True, type=click.IntRange(0, MAX_RUNS))
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 256))
@click.option("--known-hosts", default=None, type=click.Path(dir_okay=False),
              help="Known-hosts file (default: the user's).")
@click.option("--accept-new-host-key", is_flag=True,
              help="Accept and record the host key of a device never connected to before "
                   "(default: refuse it; add it with ssh-keyscan or one manual ssh).")
def deploy_pi(run_dir, host, bundle_dir, port, identity, python, remote_dir, label, artifacts,
              max_examples, runs, warmup, threads, known_hosts, accept_new_host_key):
  """Bundle a run's artifacts for a Raspberry Pi; with --host, run them there over SSH.

  The device needs only Python 3, numpy and ai-edge-litert. Its agreement with the host,
  accuracy and latency p50/p90 become a device column of OUT/report.json and the report.
  """
  from edgegnn.deploy import pi, pi_bundle, ssh
  from edgegnn.pipeline import report as report_lib
  from edgegnn.safe_paths import exclusive_lock
  if (host is None) == (bundle_dir is None):
    _fail(ValueError("give exactly one of --host USER@HOST (run on the device) or "
                     "--bundle-only DIR (write the bundle only)."))
  try:
    if bundle_dir is not None:
      bundle = pi_bundle.build_bundle(run_dir, bundle_dir, artifacts=artifacts or None,
                                      max_examples=max_examples)
      click.echo(f"wrote {bundle.path}: {len(bundle.artifacts)} artifact(s), "
                 f"{bundle.examples} example(s), {bundle.bytes} bytes. On the device: "
                 f"python3 {pi_bundle.RUNNER_NAME} (needs numpy + ai-edge-litert)")
      return
    target = ssh.SshTarget(host, port=port, identity=identity, known_hosts=known_hosts,
                           accept_new_host_key=accept_new_host_key)
    label = pi.check_label(label or host.split("@")[-1])
    with exclusive_lock(run_dir, "edgegnn run or deploy"):  # it rewrites report.json
      results = pi.deploy_to_pi(run_dir, target, python=python, remote_dir=remote_dir,
                                runs=runs, warmup=warmup, threads=threads, label=label,
                                artifacts=artifacts or None, max_examples=max_examples,
                                log=click.echo)
      report = pi.merge_device_results(run_dir, results, label, host=host)
      files = report_lib.write_report(run_dir, report)
  except (ValueError, FileNotFoundError, RuntimeError) as e:
    _fail(e)
  click.echo(f"device {label}: {results['device'].get('machine')}; report: {files.markdown}")


if __name__ == "__main__":
  sys.exit(main())
