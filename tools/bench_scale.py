"""Measures training on sampled subgraphs (`edgegnn.data.sampling`, `edgegnn.scale`)
against full-batch training, and writes docs/results/scale_*.json.

    # Cora: full-batch vs sampled (fan-outs 10, 10) test accuracy, per seed
    python tools/bench_scale.py cora --archs gcn,sage --quant fp32,dq8 --seeds 0,1,2,3,4 \
        --out docs/results/scale_cora.json
    # Degree-Quant's mask on sampled batches, per full-graph degree bucket
    python tools/bench_scale.py dq-mask --out docs/results/scale_dq_mask.json
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


def _cpu_seconds() -> float:
  """User + system CPU time of this process so far (all its threads)."""
  usage = resource.getrusage(resource.RUSAGE_SELF)
  return round(usage.ru_utime + usage.ru_stime, 1)


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


# ----------------------------------------------------------------------------- dq mask
def bench_dq_mask(args) -> None:
  """Degree-Quant's protective mask on sampled Cora batches, per full-graph degree bucket:
  the drawn frequency against p_i by the batch's full-graph degrees (what the mask uses),
  by the full graph's degree CDF, and by the degrees inside the sample."""
  import tensorflow as tf
  from edgegnn.data.loading import load
  from edgegnn.data.sampling import NeighbourSampler, full_graph_protection_probability
  from edgegnn.models import ModelSpec, build_model, feeds
  from edgegnn.quantization import QuantizationConfig
  dataset = load("cora")
  fanouts = tuple(int(f) for f in args.fanouts.split(","))
  sampler = NeighbourSampler(dataset.graph, fanouts, seed=0)
  q = QuantizationConfig(p_min=args.p_min, p_max=args.p_max)
  tf.keras.utils.set_random_seed(0)
  model = build_model(ModelSpec(architecture="gcn"), layout="neighbors",
                      num_features=dataset.num_features, num_classes=dataset.num_classes,
                      max_neighbors=sampler.max_in_degree, quantization=q)
  mask_of = tf.keras.Model(model.inputs, model.get_layer("protective_mask").output)
  names = feeds.model_input_names(mask_of)
  whole = full_graph_protection_probability(dataset.graph.in_degree(), q.p_min, q.p_max)
  columns = {k: [] for k in ("degree", "mask", "p_batch", "p_graph", "p_sample")}
  for epoch in range(args.epochs):
    for batch in sampler.epoch(np.arange(dataset.graph.num_nodes), args.batch_size, epoch):
      feed = feeds.select(batch.feed("neighbors"), names)
      columns["mask"].append(mask_of(feed, training=True).numpy())
      columns["degree"].append(batch.full_in_degree)
      columns["p_batch"].append(full_graph_protection_probability(batch.full_in_degree,
                                                                  q.p_min, q.p_max))
      columns["p_graph"].append(whole[batch.node_ids])
      columns["p_sample"].append(full_graph_protection_probability(
          batch.graph.in_degree(), q.p_min, q.p_max))
  data = {k: np.concatenate(v) for k, v in columns.items()}
  buckets = []
  for low, high in ((1, 1), (2, 2), (3, 3), (4, 5), (6, 10), (11, 30), (31, 10_000)):
    rows = (data["degree"] >= low) & (data["degree"] <= high)
    buckets.append(dict(degrees=[low, high], nodes=int(rows.sum()),
                        **{k: round(float(data[k][rows].mean()), 4)
                           for k in ("mask", "p_batch", "p_graph", "p_sample")}))
  _write(args.out, dict(dataset="cora", fanouts=list(fanouts), batch_size=args.batch_size,
                        epochs=args.epochs, p_min=q.p_min, p_max=q.p_max, buckets=buckets,
                        load_average=_load()))


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
      cpu_seconds=_cpu_seconds(),
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
  from edgegnn.quantization import QuantizationConfig
  runs = [("mlp", (), args.mlp_epochs)] if args.mlp_epochs else []
  for name, fanouts, epochs in runs + [("sage", config.fanouts, args.epochs)]:
    sampler = NeighbourSampler(dataset.graph, fanouts, seed=args.seed)
    if name == "mlp":
      model = build_model(_spec("mlp", args.hidden, "binary"),
                          num_features=dataset.num_features,
                          num_classes=dataset.num_classes, features="binary")
    elif args.quant == "fp32" and args.layout == "sparse":
      model = _sage(dataset, args.hidden)
    else:   # dense features in the neighbors layout (what Degree-Quant trains)
      model = build_model(_spec("sage", args.hidden, "dense"),
                          num_features=dataset.num_features,
                          num_classes=dataset.num_classes, layout="neighbors",
                          max_neighbors=sampler.max_in_degree,
                          quantization=QuantizationConfig() if args.quant == "dq8" else None)
      name = f"sage_{args.quant}_neighbors"
    start = time.perf_counter()
    ends = lambda epoch, record: record.update(ended_at_seconds=stamp(),
                                               cpu_seconds=_cpu_seconds(),
                                               load_average=_load())
    fitted = train_sampled(model, dataset, sampler, config, epochs=epochs,
                           learning_rate=0.01, weight_decay=5e-4, patience=0,
                           callbacks=[ends])
    train_seconds = time.perf_counter() - start
    test = layerwise_accuracy(model, dataset, "test", config.inference_chunk,
                              index=sampler.index)[0]
    out[name] = dict(test_accuracy=round(test, 4), epochs=epochs,
                     best_epoch=fitted.best_epoch, train_seconds=round(train_seconds, 1),
                     history=fitted.history, finished_at_seconds=stamp(),
                     cpu_seconds_at_finish=_cpu_seconds(),
                     fanouts=list(fanouts), batch_size=config.batch_size)
    print(json.dumps({name: out[name]}), flush=True)
  out.update(total_seconds=stamp(), cpu_seconds=_cpu_seconds(), peak_rss_mib=_peak_rss_mib(),
             load_average_end=_load())
  if "sage" in out and "mlp" in out:
    out["sage_minus_mlp_pt"] = round(100 * (out["sage"]["test_accuracy"]
                                            - out["mlp"]["test_accuracy"]), 2)
  out["within_budget"] = out["total_seconds"] <= args.budget
  _write(args.out, out)


# ----------------------------------------------------------------------------- render
def render(args) -> None:
  """Prints the Markdown tables of docs/scale.md from the JSON files."""
  results = ROOT / "docs" / "results"
  read = lambda name: json.loads((results / name).read_text()) if (results / name).exists() else None
  cora = read("scale_cora.json")
  if cora:
    print("| model | full-batch test acc (mean ± std, seeds) | sampled (10, 10) | sampled - full |")
    print("|---|---|---|---|")
    for key, row in cora["summary"].items():
      cell = lambda m: (f"{row[m]['mean']:.1f} ± {row[m]['std']:.1f} ({row[m]['seeds']})"
                        if m in row else "not run")
      print(f"| {key} | {cell('full')} | {cell('sampled')} | "
            f"{row.get('sampled_minus_full', float('nan')):+.1f} pt |")
  cost, large = read("scale_cost.json"), read("scale_1m.json")
  if cost:
    print("\n| nodes | edges | mode | epoch (s) | steps | CPU (s, whole process) | peak RSS (MiB) | "
          "load |")
    print("|---|---|---|---|---|---|---|---|")
    for r in cost["results"]:
      if "failed" in r:
        print(f"| {r['nodes']:,} | | {r['mode']} | failed | | | | |")
        continue
      print(f"| {r['nodes']:,} | {r['edges']:,} | {r['mode']} | {r['epoch_seconds'][-1]} | "
            f"{r['steps_per_epoch']} | {r.get('cpu_seconds', '')} | {r['peak_rss_mib']:,.0f} | "
            f"{r['load_average'][0]:.0f} |")
  if large and "sage" in large:
    sage, mlp = large["sage"], large["mlp"]
    print(f"\n1 M: nodes {large['nodes']:,}, edges {large['edges']:,}; MLP test "
          f"{100 * mlp['test_accuracy']:.1f} %, SAGE {100 * sage['test_accuracy']:.1f} % "
          f"(+{large['sage_minus_mlp_pt']} pt); total {large['total_seconds']} s wall, "
          f"{large.get('cpu_seconds')} s CPU, peak RSS {large['peak_rss_mib']:,.0f} MiB, load "
          f"{large['load_average_start']} -> {large['load_average_end']}")
  mask = read("scale_dq_mask.json")
  if mask:
    print("\n| full-graph in-degree | nodes drawn | mask frequency | p_i (batch, full degrees) | "
          "p_i (whole graph's CDF) | p_i (degrees inside the sample) |")
    print("|---|---|---|---|---|---|")
    for b in mask["buckets"]:
      low, high = b["degrees"]
      span = str(low) if low == high else (f"{low}-{high}" if high < 10_000 else f">= {low}")
      print(f"| {span} | {b['nodes']:,} | {b['mask']:.4f} | {b['p_batch']:.4f} | "
            f"{b['p_graph']:.4f} | {b['p_sample']:.4f} |")


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
  sub.add_parser("render")
  mask = sub.add_parser("dq-mask")
  mask.add_argument("--fanouts", default="10,10")
  mask.add_argument("--batch-size", type=int, default=512)
  mask.add_argument("--epochs", type=int, default=5)
  mask.add_argument("--p-min", type=float, default=0.0)
  mask.add_argument("--p-max", type=float, default=0.1)
  mask.add_argument("--out", required=True)
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
      p.add_argument("--quant", choices=("fp32", "dq8"), default="fp32")
      p.add_argument("--layout", choices=("sparse", "neighbors"), default="sparse",
                     help="sparse: binary sparse features; neighbors: dense rows (dq8 always)")
      p.add_argument("--out", required=True)
  args = parser.parse_args()
  {"render": render, "cora": bench_cora, "dq-mask": bench_dq_mask, "cost": bench_cost, "cost-child": cost_child,
   "large": bench_large}[args.what](args)


if __name__ == "__main__":
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  main()
