"""Measures training on sampled subgraphs (`edgegnn.data.sampling`, `edgegnn.scale`)
against full-batch training, and writes docs/results/scale_*.json.

    # Cora: full-batch vs sampled (fan-outs 10, 10) test accuracy, per seed
    python tools/bench_scale.py cora --archs gcn,sage --quant fp32,dq8 --seeds 0,1,2,3,4 \
        --out docs/results/scale_cora.json
    # cost growth: one child process per size and mode (time per epoch, peak RSS)
    python tools/bench_scale.py cost --sizes 10000,100000,1000000 \
        --out docs/results/scale_cost.json
    # a 1 M-node graph: sampled GraphSAGE against an MLP, under a wall-time budget
    python tools/bench_scale.py large --nodes 1000000 --out docs/results/scale_1m.json

Each JSON records the command, the load average (the machine is shared: times are upper
bounds) and the peak RSS of the process that trained (ru_maxrss).
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

# The synthetic graph of the cost and large runs: node features carry little signal, so
# the graph (community-correlated labels, edge homophily 0.8) is what a GNN adds.
SYNTHETIC = dict(avg_degree=10.0, num_classes=7, num_features=500, words_per_node=10.0,
                 feature_signal=0.1, homophily=0.8)
CORA_TRAIN = dict(epochs=200, learning_rate=0.01, patience=100)


def _peak_rss_mib() -> float:
  return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _load() -> list[float]:
  return [float(x) for x in pathlib.Path("/proc/loadavg").read_text().split()[:3]]


def _spec(arch: str, hidden: int, features: str):
  from edgegnn.models import ModelSpec
  return ModelSpec(architecture=arch, hidden_units=hidden, num_layers=2, dropout=0.5,
                   weight_decay=5e-4, input_normalization="row")


def _write(path: str, payload: dict) -> None:
  from edgegnn.atomic import atomic_write_text
  payload = dict(payload, command="python tools/bench_scale.py " + " ".join(sys.argv[1:]))
  atomic_write_text(path, json.dumps(payload, indent=1) + "\n")
  print(f"wrote {path}")


# ----------------------------------------------------------------------------- cora
def _cora_run(dataset, arch: str, quant: str, seed: int, mode: str, fanouts, batch_size):
  import tensorflow as tf
  from edgegnn.data.sampling import NeighbourSampler, SamplingConfig
  from edgegnn.models import build_model
  from edgegnn.quantization import QuantizationConfig
  from edgegnn.scale import layerwise_accuracy, train_sampled
  from edgegnn.training import TrainConfig, train
  spec = _spec(arch, 16, "dense")
  q = QuantizationConfig(method="dq") if quant == "dq8" else None
  tf.keras.utils.set_random_seed(seed)
  start = time.perf_counter()
  if mode == "full":
    model = build_model(spec, num_features=dataset.num_features,
                        num_classes=dataset.num_classes, quantization=q)
    result = train(spec, dataset, TrainConfig(**CORA_TRAIN, seeds=(seed,)), seed=seed,
                   model=model, progress=False)
    metrics = result.metrics
    return dict(test_accuracy=metrics["test_accuracy"], val_accuracy=metrics["val_accuracy"],
                best_epoch=metrics["best_epoch"], seconds=round(time.perf_counter() - start, 1))
  config = SamplingConfig(fanouts=fanouts, batch_size=batch_size)
  sampler = NeighbourSampler(dataset.graph, config.fanouts, seed=seed)
  model = build_model(spec, num_features=dataset.num_features,
                      num_classes=dataset.num_classes, layout="neighbors",
                      max_neighbors=sampler.max_in_degree, quantization=q)
  fitted = train_sampled(model, dataset, sampler, config, epochs=CORA_TRAIN["epochs"],
                         learning_rate=CORA_TRAIN["learning_rate"],
                         weight_decay=spec.weight_decay, patience=CORA_TRAIN["patience"])
  return dict(test_accuracy=layerwise_accuracy(model, dataset, "test")[0],
              val_accuracy=layerwise_accuracy(model, dataset, "val")[0],
              best_epoch=fitted.best_epoch, seconds=round(time.perf_counter() - start, 1))


def bench_cora(args) -> None:
  from edgegnn.data.loading import load
  dataset = load("cora")
  fanouts = tuple(int(f) for f in args.fanouts.split(","))
  existing = json.loads(pathlib.Path(args.out).read_text()) if (
      args.resume and pathlib.Path(args.out).exists()) else {}
  runs = existing.get("runs", [])
  done = {(r["arch"], r["quant"], r["seed"], r["mode"]) for r in runs}
  loads = existing.get("load_average", [])
  for arch in args.archs.split(","):
    for quant in args.quant.split(","):
      for seed in (int(s) for s in args.seeds.split(",")):
        for mode in ("full", "sampled"):
          if (arch, quant, seed, mode) in done:
            continue
          run = dict(arch=arch, quant=quant, seed=seed, mode=mode,
                     **_cora_run(dataset, arch, quant, seed, mode, fanouts, args.batch_size))
          runs.append(run)
          loads.append(_load())
          print(json.dumps(run), flush=True)
          _write(args.out, _cora_summary(runs, loads, fanouts, args.batch_size))


def _cora_summary(runs, loads, fanouts, batch_size) -> dict:
  table = {}
  for run in runs:
    key = f"{run['arch']}-{run['quant']}"
    table.setdefault(key, {}).setdefault(run["mode"], []).append(run["test_accuracy"])
  summary = {}
  for key, modes in table.items():
    row = {m: dict(mean=round(100 * float(np.mean(v)), 2), std=round(100 * float(np.std(v)), 2),
                   seeds=len(v)) for m, v in modes.items()}
    if "full" in row and "sampled" in row:
      row["sampled_minus_full"] = round(row["sampled"]["mean"] - row["full"]["mean"], 2)
    summary[key] = row
  return dict(dataset="cora", fanouts=list(fanouts), batch_size=batch_size, train=CORA_TRAIN,
              full_layout="sparse", sampled_layout="neighbors (full-graph in_degree)",
              summary=summary, runs=runs, load_average=loads)


# ----------------------------------------------------------------------------- cost
def _synthetic(nodes: int, seed: int = 0):
  from edgegnn.data.synthetic import synthetic_dataset
  return synthetic_dataset(nodes, seed=seed, **SYNTHETIC)


def _sage(dataset, hidden: int):
  from edgegnn.models import build_model
  return build_model(_spec("sage", hidden, "binary"), num_features=dataset.num_features,
                     num_classes=dataset.num_classes, features="binary")


def cost_child(args) -> None:
  """One size and mode in this process: prints `SCALE_COST {json}`."""
  import tensorflow as tf
  from edgegnn import engine
  from edgegnn.data.sampling import NeighbourSampler
  from edgegnn.models import feeds
  from edgegnn.scale import layerwise_logits, sampled_batches
  tf.keras.utils.set_random_seed(0)
  start = time.perf_counter()
  dataset = _synthetic(args.nodes)
  generate = time.perf_counter() - start
  rss_data = _peak_rss_mib()
  model = _sage(dataset, args.hidden)
  stamps = []
  record = lambda epoch, _: stamps.append(time.perf_counter())
  fanouts = tuple(int(f) for f in args.fanouts.split(","))
  if args.mode == "sampled":
    sampler = NeighbourSampler(dataset.graph, fanouts, seed=0)
    batches = sampled_batches(sampler, dataset.labels, dataset.train_index, args.batch_size,
                              model)
    steps = sampler.num_batches(len(dataset.train_index), args.batch_size)
  else:
    batches = [engine.Batch(feeds.select(feeds.graph_feed(dataset.graph),
                                         feeds.model_input_names(model)),
                            dataset.labels[dataset.train_index].astype(np.int32),
                            dataset.train_index.astype(np.int32))]
    steps = 1
  begin = time.perf_counter()
  engine.fit(model, engine.cross_entropy_loss, batches, epochs=args.epochs,
             learning_rate=0.01, weight_decay=5e-4, callbacks=[record])
  epochs = np.diff([begin] + stamps)
  start = time.perf_counter()
  logits = layerwise_logits(model, dataset.graph, args.chunk)
  inference = time.perf_counter() - start
  test = dataset.test_index
  print("SCALE_COST " + json.dumps(dict(
      nodes=args.nodes, edges=dataset.graph.num_edges, mode=args.mode,
      generate_seconds=round(generate, 1), epoch_seconds=[round(float(e), 2) for e in epochs],
      steps_per_epoch=steps, layerwise_inference_seconds=round(inference, 1),
      test_accuracy=round(float(np.mean(logits[test].argmax(1) == dataset.labels[test])), 4),
      peak_rss_mib_after_data=rss_data, peak_rss_mib=_peak_rss_mib(),
      load_average=_load())), flush=True)


def bench_cost(args) -> None:
  results = []
  for nodes in (int(n) for n in args.sizes.split(",")):
    for mode in args.modes.split(","):
      command = [sys.executable, __file__, "cost-child", "--nodes", str(nodes), "--mode", mode,
                 "--fanouts", args.fanouts, "--batch-size", str(args.batch_size),
                 "--hidden", str(args.hidden), "--epochs", str(args.epochs),
                 "--chunk", str(args.chunk)]
      done = subprocess.run(command, capture_output=True, text=True, check=False)
      lines = [l for l in done.stdout.splitlines() if l.startswith("SCALE_COST ")]
      if done.returncode or not lines:
        results.append(dict(nodes=nodes, mode=mode, failed=done.stderr.strip()[-600:]))
      else:
        results.append(json.loads(lines[-1][len("SCALE_COST "):]))
      print(json.dumps(results[-1]), flush=True)
      _write(args.out, dict(synthetic=SYNTHETIC, model="sage, binary features, hidden "
                            f"{args.hidden}", fanouts=args.fanouts, batch_size=args.batch_size,
                            epochs=args.epochs, results=results))


# ----------------------------------------------------------------------------- large
def bench_large(args) -> None:
  import tensorflow as tf
  from edgegnn.data.sampling import NeighbourSampler, SamplingConfig
  from edgegnn.models import build_model
  from edgegnn.scale import layerwise_accuracy, train_sampled
  tf.keras.utils.set_random_seed(args.seed)
  clock = time.perf_counter()
  stamp = lambda: round(time.perf_counter() - clock, 1)
  out = dict(nodes=args.nodes, synthetic=SYNTHETIC, load_average_start=_load(),
             budget_seconds=args.budget, seed=args.seed)
  dataset = _synthetic(args.nodes, args.seed)
  out.update(edges=dataset.graph.num_edges, generated_at_seconds=stamp(),
             split=[len(dataset.train_index), len(dataset.val_index), len(dataset.test_index)])
  config = SamplingConfig(fanouts=tuple(int(f) for f in args.fanouts.split(",")),
                          batch_size=args.batch_size, inference_chunk=args.chunk)
  for name, fanouts, epochs in (("mlp", (), args.mlp_epochs), ("sage", config.fanouts,
                                                               args.epochs)):
    sampler = NeighbourSampler(dataset.graph, fanouts, seed=args.seed)
    if name == "mlp":
      model = build_model(_spec("mlp", args.hidden, "binary"),
                          num_features=dataset.num_features,
                          num_classes=dataset.num_classes, features="binary")
    else:
      model = _sage(dataset, args.hidden)
    start = time.perf_counter()
    ends = lambda epoch, record: record.update(ended_at_seconds=stamp())
    fitted = train_sampled(model, dataset, sampler, config, epochs=epochs,
                           learning_rate=0.01, weight_decay=5e-4, patience=0,
                           callbacks=[ends])
    train_seconds = time.perf_counter() - start
    test = layerwise_accuracy(model, dataset, "test", config.inference_chunk,
                              index=sampler.index)[0]
    out[name] = dict(test_accuracy=round(test, 4), epochs=epochs,
                     best_epoch=fitted.best_epoch, train_seconds=round(train_seconds, 1),
                     history=fitted.history, finished_at_seconds=stamp(),
                     fanouts=list(fanouts), batch_size=config.batch_size)
    print(json.dumps({name: out[name]}), flush=True)
  out.update(total_seconds=stamp(), peak_rss_mib=_peak_rss_mib(), load_average_end=_load(),
             sage_minus_mlp_pt=round(100 * (out["sage"]["test_accuracy"]
                                            - out["mlp"]["test_accuracy"]), 2))
  out["within_budget"] = out["total_seconds"] <= args.budget
  _write(args.out, out)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  sub = parser.add_subparsers(dest="what", required=True)
  cora = sub.add_parser("cora")
  cora.add_argument("--archs", default="gcn,sage")
  cora.add_argument("--quant", default="fp32,dq8")
  cora.add_argument("--seeds", default="0,1,2,3,4")
  cora.add_argument("--fanouts", default="10,10")
  cora.add_argument("--batch-size", type=int, default=32)
  cora.add_argument("--resume", action="store_true", help="keep the runs already in --out")
  cora.add_argument("--out", required=True)
  for name in ("cost", "cost-child", "large"):
    p = sub.add_parser(name)
    p.add_argument("--fanouts", default="10,10")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--chunk", type=int, default=65536)
    if name == "cost":
      p.add_argument("--sizes", default="10000,100000,1000000")
      p.add_argument("--modes", default="sampled,full")
      p.add_argument("--epochs", type=int, default=2)
      p.add_argument("--out", required=True)
    elif name == "cost-child":
      p.add_argument("--nodes", type=int, required=True)
      p.add_argument("--mode", choices=("sampled", "full"), required=True)
      p.add_argument("--epochs", type=int, default=2)
    else:
      p.add_argument("--nodes", type=int, default=1_000_000)
      p.add_argument("--epochs", type=int, default=2)
      p.add_argument("--mlp-epochs", type=int, default=2)
      p.add_argument("--seed", type=int, default=0)
      p.add_argument("--budget", type=float, default=1800.0)
      p.add_argument("--out", required=True)
  args = parser.parse_args()
  {"cora": bench_cora, "cost": bench_cost, "cost-child": cost_child,
   "large": bench_large}[args.what](args)


if __name__ == "__main__":
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  main()
