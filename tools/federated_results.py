"""Regenerates docs/federated.md: federated vs centralized accuracy (mean ± std over seeds).

    python tools/federated_results.py --experiments cora_subgraph --seeds 0 1 2
    python tools/federated_results.py --table-only

The experiments and targets are experiments/federated/experiments.yaml; the page's notes
are experiments/federated/notes.md.

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
import yaml

import edgegnn  # noqa: F401  (Keras 2 before TensorFlow)
from edgegnn import data
from edgegnn.atomic import atomic_write_text
from edgegnn.federated import FederatedConfig
from edgegnn.federated.export import export_global_model
from edgegnn.federated.run import run_federated
from edgegnn.models import ModelSpec
from edgegnn.training import TrainConfig, train

ROOT = pathlib.Path(__file__).resolve().parents[1]
SWEEP = ROOT / "experiments" / "federated" / "experiments.yaml"
NOTES = ROOT / "experiments" / "federated" / "notes.md"
_SWEEP = yaml.safe_load(SWEEP.read_text())
EXPERIMENTS = _SWEEP["experiments"]
# (kind, threshold) on the seed means: ratio (federated / centralized), gap_pt, export_gap_pt.
TARGETS = {name: (t["kind"], t["threshold"]) for name, t in _SWEEP["targets"].items()}


def run(name: str, seeds, out: pathlib.Path) -> None:
  exp = EXPERIMENTS[name]
  dataset = data.load(exp["dataset"])
  for seed in seeds:
    path = out / name / f"seed{seed}.json"
    if not path.exists():
      config = FederatedConfig.from_dict(exp["federated"])
      result = run_federated(ModelSpec.from_dict(exp["spec"]), dataset, config, seed, out / name / f"run{seed}",
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
      result = train(ModelSpec.from_dict(exp["spec"]), dataset,
                     TrainConfig.from_dict(exp["central"]), seed=seed,
                     fold=exp["federated"].get("fold", 0), progress=False)
      metrics = dict(result.metrics, seconds=time.perf_counter() - started)
      atomic_write_text(central_path, json.dumps(metrics))
      print(f"{name} seed {seed}: centralized {metrics['test_accuracy']:.4f}", flush=True)


def _mean_std(values):
  return f"{100 * np.mean(values):.2f} ± {100 * np.std(values):.2f}"


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


def _command(name, seeds):
  return (f"`python tools/federated_results.py --experiments {name} "
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
  lines += ["", NOTES.read_text().strip()]
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
