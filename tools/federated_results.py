"""Regenerates docs/federated.md: federated vs centralized accuracy (mean ± std over seeds).

    PYTHONPATH=. python tools/federated_results.py --experiments cora_subgraph --seeds 0 1 2
    PYTHONPATH=. python tools/federated_results.py --table-only

Each finished run is cached in OUT/EXPERIMENT/seedS.json (federated) and
OUT/EXPERIMENT/central_seedS.json (centralized, same architecture), so the table is
rebuilt from whatever has run; every row prints the command that produced it.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import numpy as np

import edgegnn  # noqa: F401  (Keras 2 before TensorFlow)
from edgegnn import data
from edgegnn.atomic import atomic_write_text
from edgegnn.federated import FederatedConfig
from edgegnn.federated.run import run_federated
from edgegnn.models import ModelSpec
from edgegnn.training import TrainConfig, train

GCN = ModelSpec("gcn", hidden_units=16, dropout=0.5, weight_decay=5e-4, input_normalization="row")
GIN = ModelSpec("gin", hidden_units=32, num_layers=4, dropout=0.5, readout="sum")

EXPERIMENTS = {
    "cora_subgraph": dict(dataset="cora", spec=GCN, federated=dict(
        setting="subgraph", num_clients=5, rounds=100, local_epochs=10, learning_rate=0.01,
        engine="inprocess", eval_every=5), central=dict(epochs=200, patience=100)),
    "proteins_iid": dict(dataset="proteins", spec=GIN, federated=dict(
        setting="graph", num_clients=4, rounds=50, local_epochs=1, iid=True, engine="inprocess",
        eval_every=5), central=dict(epochs=50, lr_decay_every=0, patience=0)),
    "proteins_dirichlet": dict(dataset="proteins", spec=GIN, federated=dict(
        setting="graph", num_clients=4, rounds=50, local_epochs=1, iid=False, alpha=0.5,
        engine="inprocess", eval_every=5), central=dict(epochs=50, patience=0)),
    "mutag_iid": dict(dataset="mutag", spec=GIN, federated=dict(
        setting="graph", num_clients=4, rounds=50, local_epochs=1, iid=True, engine="inprocess",
        eval_every=5), central=dict(epochs=50, patience=0)),
}


def run(name: str, seeds, out: pathlib.Path) -> None:
  exp = EXPERIMENTS[name]
  dataset = data.load(exp["dataset"])
  for seed in seeds:
    path = out / name / f"seed{seed}.json"
    if not path.exists():
      config = FederatedConfig.from_dict(exp["federated"])
      result = run_federated(exp["spec"], dataset, config, seed, out / name / f"run{seed}",
                             log=lambda line: None)
      atomic_write_text(path, json.dumps(result))
      print(f"{name} seed {seed}: federated {result['test_accuracy']:.4f}", flush=True)
    central_path = out / name / f"central_seed{seed}.json"
    if not central_path.exists():
      started = time.perf_counter()
      result = train(exp["spec"], dataset, TrainConfig.from_dict(exp["central"]), seed=seed,
                     fold=exp["federated"].get("fold", 0), progress=False)
      metrics = dict(result.metrics, seconds=time.perf_counter() - started)
      atomic_write_text(central_path, json.dumps(metrics))
      print(f"{name} seed {seed}: centralized {metrics['test_accuracy']:.4f}", flush=True)


def _mean_std(values):
  return f"{100 * np.mean(values):.2f} ± {100 * np.std(values):.2f}"


def table(out: pathlib.Path) -> str:
  lines = ["# Federated training: measured accuracy", "",
           "Test accuracy (%) of the final global model after all rounds vs the same",
           "architecture trained centrally; mean ± population std over the seeds listed.",
           "Engine `inprocess` = the TFF-style `build_weighted_fed_avg` loop (FlowerClient +",
           "GlobalModelStrategy over Flower's FedAvg aggregation, the code the Flower engines run).",
           "", "| experiment | engine | seeds | federated | centralized | ratio | "
           "rounds | config |", "|---|---|---|---|---|---|---|---|"]
  for name, exp in EXPERIMENTS.items():
    fed = sorted((out / name).glob("seed*.json"))
    if not fed:
      continue
    runs = [json.loads(p.read_text()) for p in fed]
    seeds = [r["seed"] for r in runs]
    central = [json.loads((out / name / f"central_seed{s}.json").read_text())["test_accuracy"]
               for s in seeds if (out / name / f"central_seed{s}.json").exists()]
    fed_acc = [r["test_accuracy"] for r in runs]
    ratio = f"{np.mean(fed_acc) / np.mean(central):.3f}" if central else "-"
    config = ", ".join(f"{k}={v}" for k, v in exp["federated"].items() if k != "engine")
    lines.append(f"| {name} | {runs[0]['engine']} | {seeds} | {_mean_std(fed_acc)} | "
                 f"{_mean_std(central) if central else '-'} | {ratio} | "
                 f"{runs[0]['rounds_completed']} | {config} |")
    lines.append(f"|  | command: `PYTHONPATH=. python tools/federated_results.py "
                 f"--experiments {name} --seeds {' '.join(map(str, seeds))}` | | | | | | |")
  return "\n".join(lines) + "\n"


def main(argv=None) -> int:
  parser = argparse.ArgumentParser()
  parser.add_argument("--experiments", nargs="*", default=list(EXPERIMENTS),
                      choices=list(EXPERIMENTS))
  parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
  parser.add_argument("--out", default="runs/federated_results")
  parser.add_argument("--doc", default="docs/federated.md")
  parser.add_argument("--table-only", action="store_true")
  args = parser.parse_args(argv)
  out = pathlib.Path(args.out)
  if not args.table_only:
    for name in args.experiments:
      run(name, args.seeds, out)
  atomic_write_text(args.doc, table(out))
  print(table(out))
  return 0


if __name__ == "__main__":
  sys.exit(main())
