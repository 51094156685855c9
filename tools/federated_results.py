"""Regenerates docs/federated.md: federated vs centralized accuracy (mean ± std over seeds).

    PYTHONPATH=. python tools/federated_results.py --experiments cora_subgraph --seeds 0 1 2
    PYTHONPATH=. python tools/federated_results.py --table-only

Each finished run is cached in OUT/EXPERIMENT/seedS.json (federated) and
OUT/EXPERIMENT/central_seedS.json (centralized, same architecture), so the table is
rebuilt from whatever has run; every row prints the command that produced it.
Experiments with `export` also convert the final global model through the deploy core
(`export_global_model`) and verify the artifact on its runtime; the figures go to the
export table. docs/federated.json holds every cached run's summary.
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
from edgegnn.federated.export import export_global_model
from edgegnn.federated.run import run_federated
from edgegnn.models import ModelSpec
from edgegnn.training import TrainConfig, train

GCN = ModelSpec("gcn", hidden_units=16, dropout=0.5, weight_decay=5e-4, input_normalization="row")
GIN = ModelSpec("gin", hidden_units=32, num_layers=4, dropout=0.5, readout="sum")

EXPERIMENTS = {
    "cora_subgraph": dict(dataset="cora", spec=GCN, federated=dict(
        setting="subgraph", num_clients=5, rounds=100, local_epochs=10, learning_rate=0.01,
        engine="inprocess", eval_every=5), central=dict(epochs=200, patience=100)),
    # The pre-fix client update (L2 decay through a stateless Adam), kept as the ablation.
    "cora_subgraph_l2": dict(dataset="cora", spec=GCN, federated=dict(
        setting="subgraph", num_clients=5, rounds=100, local_epochs=10, learning_rate=0.01,
        weight_decay_mode="l2", engine="inprocess", eval_every=5),
        central=dict(epochs=200, patience=100)),
    # One client holding the whole graph: the federated code path without federation.
    "cora_one_client": dict(dataset="cora", spec=GCN, federated=dict(
        setting="subgraph", num_clients=1, rounds=20, local_epochs=10, learning_rate=0.01,
        engine="inprocess", eval_every=5), central=dict(epochs=200, patience=100)),
    "cora_subgraph_dq": dict(dataset="cora", spec=GCN, federated=dict(
        setting="subgraph", num_clients=5, rounds=100, local_epochs=10, learning_rate=0.01,
        engine="inprocess", eval_every=5, quantization={"method": "dq"}),
        central=None, baseline="cora_subgraph",
        export=dict(fmt="tflite-int8", layout="neighbors", target="mobile")),
    "proteins_iid": dict(dataset="proteins", spec=GIN, federated=dict(
        setting="graph", num_clients=4, rounds=50, local_epochs=1, iid=True, engine="inprocess",
        eval_every=5), central=dict(epochs=50, lr_decay_every=0, patience=0)),
    # Same centralized baseline as proteins_iid (the split only changes the federation).
    "proteins_dirichlet": dict(dataset="proteins", spec=GIN, federated=dict(
        setting="graph", num_clients=4, rounds=50, local_epochs=1, iid=False, alpha=0.5,
        engine="inprocess", eval_every=5), central=dict(epochs=50, lr_decay_every=0, patience=0),
        central_from="proteins_iid"),
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
      if exp.get("export"):
        result["export"] = export_global_model(
            result["model_path"], dataset, out / name / f"run{seed}" / "global.tflite",
            fold=config.fold, **exp["export"])
      atomic_write_text(path, json.dumps(result))
      print(f"{name} seed {seed}: federated {result['test_accuracy']:.4f}", flush=True)
    central_path = out / exp.get("central_from", name) / f"central_seed{seed}.json"
    if exp["central"] is not None and not central_path.exists():
      started = time.perf_counter()
      result = train(exp["spec"], dataset, TrainConfig.from_dict(exp["central"]), seed=seed,
                     fold=exp["federated"].get("fold", 0), progress=False)
      metrics = dict(result.metrics, seconds=time.perf_counter() - started)
      atomic_write_text(central_path, json.dumps(metrics))
      print(f"{name} seed {seed}: centralized {metrics['test_accuracy']:.4f}", flush=True)


def _mean_std(values):
  return f"{100 * np.mean(values):.2f} ± {100 * np.std(values):.2f}"


# Done-when targets of issue 6: (kind, threshold) on the seed means.
TARGETS = {"cora_subgraph": ("ratio", 0.95), "proteins_iid": ("gap_pt", 3.0),
           "proteins_dirichlet": ("gap_pt", 6.0), "cora_subgraph_dq": ("export_gap_pt", 1.5)}


def _load(out: pathlib.Path, name: str):
  runs = [json.loads(p.read_text()) for p in sorted((out / name).glob("seed*.json"))]
  central = {}
  for r in runs:
    path = out / EXPERIMENTS[name].get("central_from", name) / f"central_seed{r['seed']}.json"
    if path.exists():
      central[r["seed"]] = json.loads(path.read_text())["test_accuracy"]
  return runs, central


def summarize(out: pathlib.Path) -> dict:
  """Per experiment: seeds, per-seed accuracies, means, target and whether it is met."""
  summary = {}
  for name, exp in EXPERIMENTS.items():
    runs, central = _load(out, name)
    if not runs:
      continue
    seeds = [r["seed"] for r in runs]
    entry = {"dataset": exp["dataset"], "seeds": seeds, "engine": runs[0]["engine"],
             "rounds": runs[0]["rounds_completed"], "config": exp["federated"],
             "federated": [r["test_accuracy"] for r in runs],
             "client_subgraph": [r.get("client_subgraph_test_accuracy") for r in runs],
             "label_skew": [r["label_skew"] for r in runs],
             "seconds": [r["seconds"] for r in runs]}
    if central:
      entry["centralized"] = [central[s] for s in seeds if s in central]
    if exp.get("baseline"):
      base, _ = _load(out, exp["baseline"])
      by_seed = {r["seed"]: r["test_accuracy"] for r in base}
      entry["baseline"] = exp["baseline"]
      entry["baseline_federated"] = [by_seed.get(s) for s in seeds]
    if all("export" in r for r in runs):
      entry["export"] = [{k: r["export"][k] for k in ("format", "layout", "max_neighbors",
                                                      "target", "bytes", "runtime",
                                                      "keras_test_accuracy", "test_accuracy",
                                                      "agreement")} for r in runs]
    if name in TARGETS:
      kind, threshold = TARGETS[name]
      fed = float(np.mean(entry["federated"]))
      if kind == "ratio" and "centralized" in entry:
        value = fed / float(np.mean(entry["centralized"]))
        entry["target"] = {"ratio_min": threshold, "value": value, "met": value >= threshold}
      elif kind == "gap_pt" and "centralized" in entry:
        value = 100 * (float(np.mean(entry["centralized"])) - fed)
        entry["target"] = {"gap_pt_max": threshold, "value": value, "met": value <= threshold}
      elif kind == "export_gap_pt" and "export" in entry and None not in entry.get(
          "baseline_federated", [None]):
        value = 100 * (float(np.mean(entry["baseline_federated"]))
                       - float(np.mean([e["test_accuracy"] for e in entry["export"]])))
        entry["target"] = {"int8_vs_federated_fp32_gap_pt_max": threshold, "value": value,
                           "met": value <= threshold}
    summary[name] = entry
  return summary


def _partition_rows(summary: dict) -> list[str]:
  from edgegnn.federated.client_data import label_counts  # pylint: disable=g-import-not-at-top
  from edgegnn.federated.partition import make_clients  # pylint: disable=g-import-not-at-top
  if "cora_subgraph" not in summary:
    return []
  cora = data.load("cora")
  config = FederatedConfig.from_dict(EXPERIMENTS["cora_subgraph"]["federated"])
  rows = []
  for seed in summary["cora_subgraph"]["seeds"]:
    clients = make_clients(cora, config, seed)
    counts = label_counts(clients, cora.num_classes)
    kept = sum(c.graph.num_edges for c in clients) / cora.graph.num_edges
    skew = summary["cora_subgraph"]["label_skew"][summary["cora_subgraph"]["seeds"].index(seed)]
    per_client = "; ".join(f"{k}: {' '.join(map(str, row))}" for k, row in enumerate(counts))
    rows.append(f"| {seed} | {kept:.3f} | {skew:.3f} | {per_client} |")
  return rows


NOTES = """
## Why Cora subgraph FL fell short of the target, and the fix

The cause was the client update, not the partition or the evaluation. Clients are
stateless (FedAvg): their Adam is rebuilt every round, so its moments restart at zero.
For a coordinate whose gradient on a client is only the L2 term lambda * w, a fresh
Adam's step is -lr * m_hat / sqrt(v_hat) = -lr * sign(w), whatever lambda is. Cora's
features are a 1433-word bag of words and Louvain clients are topical communities: a
word absent from a client's subgraph has exactly that gradient in the first-layer
kernel. With 5 clients, 4 of them shrink such a word's weights by up to
local_epochs * lr = 0.1 per round while the one client holding the word learns it, and
the average forgets it. Centrally (one Adam over all data, moments kept) this does not
happen: every word has data gradient in the same optimizer. The fix is decoupled weight
decay on the clients (`FederatedConfig.weight_decay_mode: decoupled`, the default;
W <- W - lr * lambda * W after each step, as AdamW), which shrinks by the factor
(1 - lr * lambda) per step instead. `tests/test_federated.py::
test_stateless_adam_turns_l2_decay_into_sign_steps_and_decoupled_decay_does_not` pins
both numbers (0.5 -> 0.400 coupled, 0.5 -> 0.495 decoupled over 10 steps). The
`cora_subgraph_l2` row is the pre-fix update on the same partition and rounds (seed 0
only): it learns more slowly (test 0.599 / 0.632 at rounds 10 / 15 against 0.662 /
0.696, see the runs' `history`) and ends lower. The 68.5 % quoted in issue 6 was
measured on an earlier revision; this revision's pre-fix update ends at the figure in
that row.

The other suspects, checked:
- Label coverage: each client holds 20 to 37 of the 140 labels with strong class skew
  (table above; several clients hold 0 or 1 label of some class). FedAvg averages this
  out once the decay no longer erases what other clients learn.
- The code path: `cora_one_client` (one client holding the whole graph, stateless Adam
  restarted every round, 20 rounds x 10 epochs) is within 1.4 pt of centralized training.
- Evaluation: the headline is the global model on the whole graph (the metric of the
  centralized baseline and the graph a deployed model is run on); FedGraphNN's
  client-subgraph metric is reported beside it and is within about 1 pt.
- Partition: Louvain keeps about 89 % of the edges (table above): few are lost.
- BN / dropout: this GCN has no BatchNorm; dropout 0.5 is as in the centralized run.
- Server optimizers: FedAvgM / FedAdam are available (`strategy`) but were not needed.

## Graph level (PROTEINS, MUTAG)

MUTAG (fold 0: 18 test graphs, majority class 61.1 %) is reported for completeness: with
this 50-epoch GIN budget both the federated and the centralized models stay at or near
the majority-class rate, so the row says nothing about federation; the GIN targets of
edgegnn/training/accuracy_targets.py use 350 epochs with learning-rate halving.

GIN (4 layers, 32 units, BatchNorm in the MLPs, sum readout), fold 0 of the 10-fold
split (PROTEINS: 111 test graphs, so one graph is 0.9 pt). FedAvg pools the BatchNorm
statistics by the law of total variance. The per-round test curves (`history` in
runs/federated_results/proteins_*/seedS.json, every 5 rounds) are not monotone: in 5 of
the 6 PROTEINS runs the global model's accuracy drops by 10-25 pt at some evaluated
round after round 10 and recovers at least partly later (one Dirichlet seed sits at the majority-class
rate 0.595 for 25 rounds), so the final-round figure carries a large seed spread.
The cause is not isolated yet (candidates: BatchNorm moving statistics lagging the
averaged weights, since a client makes only about 8 steps per round at momentum 0.99;
the constant client learning rate with a sum readout). The centralized baseline is the
last epoch of the same 50 epochs, also without model selection.
"""


def _command(name, seeds):
  return (f"`PYTHONPATH=. python tools/federated_results.py --experiments {name} "
          f"--seeds {' '.join(map(str, seeds))}`")


def table(out: pathlib.Path, summary: dict) -> str:
  lines = ["# Federated training: measured accuracy", "",
           "Test accuracy (%) of the final global model after all rounds (no round picked on",
           "test or validation) vs the same architecture trained centrally; mean ± population",
           "std over the seeds listed. Engine `inprocess` = the TFF-style",
           "`build_weighted_fed_avg` loop (FlowerClient + GlobalModelStrategy over Flower's",
           "FedAvg aggregation, the code the Flower engines run).", "",
           "`federated` scores the global model on the whole graph (node datasets: Planetoid's",
           "1000 test nodes with every edge, as the centralized baseline is scored and as a",
           "deployed model runs); `client subgraphs` is FedGraphNN's subgraph-level metric:",
           "the same global model run on each client's own subgraph (cross-client edges",
           "missing), scored on the test nodes that client holds, pooled.", "",
           "| experiment | seeds | federated | client subgraphs | centralized | ratio | gap (pt) "
           "| target | met | rounds | config |", "|---|---|---|---|---|---|---|---|---|---|---|"]
  for name, e in summary.items():
    central = e.get("centralized")
    fed = e["federated"]
    ratio = f"{np.mean(fed) / np.mean(central):.3f}" if central else "-"
    gap = f"{100 * (np.mean(central) - np.mean(fed)):.2f}" if central else "-"
    sub = (_mean_std(e["client_subgraph"]) if None not in e["client_subgraph"] else "-")
    target = e.get("target", {})
    target_text = (f"ratio >= {target['ratio_min']}" if "ratio_min" in target else
                   f"gap <= {target['gap_pt_max']} pt" if "gap_pt_max" in target else
                   f"int8 artifact within {target['int8_vs_federated_fp32_gap_pt_max']} pt of "
                   f"federated FP32 (export table)" if target else "-")
    met = ("yes" if target.get("met") else "no") if target else "-"
    config = ", ".join(f"{k}={v}" for k, v in e["config"].items() if k != "engine")
    lines.append(f"| {name} | {e['seeds']} | {_mean_std(fed)} | {sub} | "
                 f"{_mean_std(central) if central else '-'} | {ratio} | {gap} | {target_text} "
                 f"| {met} | {e['rounds']} | {config} |")
  lines += ["", "Commands (each runs the federated and the centralized runs of its seeds, "
            "cached under runs/federated_results):", ""]
  lines += [f"- {name}: {_command(name, e['seeds'])}" for name, e in summary.items()]
  exported = {n: e for n, e in summary.items() if "export" in e}
  if exported:
    lines += ["", "## Federated Degree-Quant INT8: the exported global model", "",
              "Clients train the Degree-Quant INT8 fake-quant GCN (protective mask, percentile",
              "ranges); the server averages weights and quantiser ranges; the final global",
              "model is converted by `edgegnn.deploy.convert` (`tflite-int8`, neighbors layout,",
              "target mobile: every compute op int8, else the converter refuses) and run on",
              "ai-edge-litert over the 1000 test nodes by `edgegnn.deploy.verify`.", "",
              "| experiment | seeds | federated FP32 | federated DQ (Keras) | int8 artifact "
              "(litert) | FP32 - int8 (pt) | agreement | bytes | runtime |",
              "|---|---|---|---|---|---|---|---|---|"]
    for name, e in exported.items():
      int8 = [x["test_accuracy"] for x in e["export"]]
      base = e.get("baseline_federated") or []
      base_ok = base and None not in base
      lines.append(
          f"| {name} | {e['seeds']} | {_mean_std(base) if base_ok else '-'} | "
          f"{_mean_std(e['federated'])} | {_mean_std(int8)} | "
          f"{100 * (np.mean(base) - np.mean(int8)):.2f} | " if base_ok else
          f"| {name} | {e['seeds']} | - | {_mean_std(e['federated'])} | {_mean_std(int8)} | - | ")
      lines[-1] += (f"{np.mean([x['agreement'] for x in e['export']]):.4f} | "
                    f"{e['export'][0]['bytes']} | {e['export'][0]['runtime']} |")
    lines += ["", "Commands:", ""]
    lines += [f"- {name}: {_command(name, e['seeds'])}" for name, e in exported.items()]
  lines += ["", "## Cora subgraph partition (Louvain, 5 clients)", "",
            "Training labels (Planetoid's 140, 20 per class) held by each client, per class;",
            "edges kept = share of Cora's directed edges inside some client.", "",
            "| seed | edges kept | label skew | client: labels per class 0..6 |",
            "|---|---|---|---|"]
  lines += _partition_rows(summary)
  lines += ["", NOTES.strip()]
  return "\n".join(lines) + "\n"


def main(argv=None) -> int:
  parser = argparse.ArgumentParser()
  parser.add_argument("--experiments", nargs="*", default=list(EXPERIMENTS),
                      choices=list(EXPERIMENTS))
  parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
  parser.add_argument("--out", default="runs/federated_results")
  parser.add_argument("--doc", default="docs/federated.md")
  parser.add_argument("--json", default="docs/federated.json")
  parser.add_argument("--table-only", action="store_true")
  args = parser.parse_args(argv)
  out = pathlib.Path(args.out)
  if not args.table_only:
    for name in args.experiments:
      run(name, args.seeds, out)
  summary = summarize(out)
  atomic_write_text(args.json, json.dumps(summary, indent=1))
  text = table(out, summary)
  atomic_write_text(args.doc, text)
  print(text)
  return 0


if __name__ == "__main__":
  sys.exit(main())
