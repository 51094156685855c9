"""Every artifact of a run directory against the stock TFLite path, side by side. Writes JSON.

    python tools/bench_against_stock.py RUN_DIR --json docs/results/fast_artifacts_cora.json

Builds the stock anchors for the run's dataset (`edgegnn.deploy.stock`: a plain GCN with
precomputed edge weights, stock converter, float32 and dynamic-range int8, the hidden
width of the run's first GCN), then times them and every node-task artifact of
RUN_DIR/report.json in one process (`edgegnn.deploy.side_by_side`): full graph, inputs
set once, 1 thread, interleaved rounds. Each artifact's entry gets p50/p90, bytes, the
ratios to stock float32, the input shapes it was timed on, and its test accuracy and
agreement from the report. Only the ratios of one run are comparable; absolute times on
a shared machine are not.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import platform
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from edgegnn import data  # noqa: E402
from edgegnn.atomic import atomic_write_text  # noqa: E402
from edgegnn.deploy import side_by_side, stock, tflite_file  # noqa: E402
from edgegnn.models import feeds  # noqa: E402

BASELINE = "stock-float32"


def _hidden_units(report: dict) -> int:
  for model in report.get("models", []):
    if model.get("architecture") == "gcn" and model.get("hidden_units"):
      return int(model["hidden_units"])
  return 16


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("run_dir", type=pathlib.Path)
  parser.add_argument("--json", type=pathlib.Path, required=True, help="Output JSON file.")
  parser.add_argument("--rounds", type=int, default=7)
  parser.add_argument("--invokes", type=int, default=15)
  parser.add_argument("--threads", type=int, default=1)
  parser.add_argument("--hidden-units", type=int, default=None,
                      help="Stock GCN width (default: the run's first GCN's, else 16).")
  args = parser.parse_args(argv)
  report = json.loads((args.run_dir / "report.json").read_text())
  dataset = data.load(report["dataset"])
  if dataset.task != "node":
    parser.error(f"{dataset.name} is a graph task; this benchmark times full-graph node "
                 "artifacts.")
  graph = dataset.graph
  hidden = args.hidden_units or _hidden_units(report)
  contenders, accuracy = [], {}
  stock_inputs = stock.stock_gcn_feed(graph)
  for fmt, blob in stock.stock_anchors(dataset.num_features, dataset.num_classes,
                                       hidden).items():
    contenders.append(side_by_side.contender(fmt, blob, stock_inputs,
                                             num_threads=args.threads))
  for artifact in report.get("artifacts", []):
    path = args.run_dir / artifact["path"]
    names = [io.name for io in tflite_file.read_model(path).inputs]
    feed = feeds.select(feeds.graph_feed(graph, artifact["layout"], artifact.get("capacity"),
                                         max_neighbors=artifact.get("max_neighbors")), names)
    contenders.append(side_by_side.contender(artifact["name"], path.read_bytes(), feed,
                                             runtime=artifact.get("runtime", "auto"),
                                             num_threads=args.threads))
    accuracy[artifact["name"]] = {k: artifact.get(k) for k in
                                  ("format", "layout", "features", "test_accuracy", "agreement")}
  results = side_by_side.interleaved_latency(contenders, args.rounds, args.invokes,
                                             baseline=BASELINE)
  for name, extra in accuracy.items():
    results[name].update(extra)
  out = {
      "command": "python tools/bench_against_stock.py " + " ".join(sys.argv[1:] if argv is None
                                                                  else argv),
      "dataset": dataset.name, "hidden_units": hidden, "threads": args.threads,
      "rounds": args.rounds, "invokes_per_round": args.invokes, "baseline": BASELINE,
      "machine": platform.machine(), "results": results}
  atomic_write_text(args.json, json.dumps(out, indent=1) + "\n")
  width = max(len(n) for n in results)
  for name, r in sorted(results.items(), key=lambda kv: kv[1]["p50_ms"]):
    print(f"{name:{width}s}  p50 {r['p50_ms']:7.3f} ms  x{r['x_baseline_p50']:.3f}  "
          f"{r['bytes']:>9,d} B  x{r['x_baseline_bytes']:.3f}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
