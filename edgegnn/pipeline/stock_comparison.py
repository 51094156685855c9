"""Every artifact of a run beside the stock TFLite path, timed in one process.

With `compare_with_stock: true` in a pipeline file (node tasks), the runner ends by
building the stock anchors for the dataset (`edgegnn.deploy.stock`: a plain GCN with fed
edge weights, stock converter, float32 and dynamic-range int8, at the width of the run's
first GCN) and timing them with every artifact on the full graph, inputs set once,
1 thread, interleaved rounds (`edgegnn.deploy.side_by_side`). report.json gets
`stock_comparison` (settings and the anchors' figures) and every artifact
`x_stock_p50` and `x_stock_bytes`: its latency and size over stock float32's. These
ratios, measured in one run, are the speed and size claims; the per-artifact latency of
each export stage (timed alone, at another moment) is not comparable across artifacts on
a shared machine.
"""
from __future__ import annotations

import pathlib
from typing import Any, Callable

ROUNDS = 5
INVOKES = 10
BASELINE = "stock-float32"


def _hidden_units(report: dict) -> int:
  for model in report.get("models", []):
    if model.get("architecture") == "gcn" and model.get("hidden_units"):
      return int(model["hidden_units"])
  return 16


def compare(report: dict[str, Any], out: pathlib.Path, dataset,
            log: Callable[[str], None] = print, rounds: int = ROUNDS,
            invokes: int = INVOKES, threads: int = 1) -> dict[str, Any]:
  """Adds the stock comparison to `report` (in place) and returns its section, which
  also lists every contender's figures (`timed`: p50/p90, bytes, ratios, input shapes)."""
  from edgegnn.deploy import side_by_side, stock, tflite_file
  from edgegnn.models import feeds
  graph = dataset.graph
  hidden = _hidden_units(report)
  contenders = [side_by_side.contender(fmt, blob, stock.stock_gcn_feed(graph),
                                       num_threads=threads)
                for fmt, blob in stock.stock_anchors(dataset.num_features, dataset.num_classes,
                                                     hidden).items()]
  for artifact in report["artifacts"]:
    path = out / artifact["path"]
    names = [io.name for io in tflite_file.read_model(path).inputs]
    feed = feeds.select(feeds.graph_feed(graph, artifact["layout"], artifact.get("capacity"),
                                         max_neighbors=artifact.get("max_neighbors")), names)
    contenders.append(side_by_side.contender(artifact["name"], path.read_bytes(), feed,
                                             runtime=artifact.get("runtime", "auto"),
                                             num_threads=threads))
  timed = side_by_side.interleaved_latency(contenders, rounds, invokes, baseline=BASELINE)
  for artifact in report["artifacts"]:
    entry = timed[artifact["name"]]
    artifact["x_stock_p50"] = entry["x_baseline_p50"]
    artifact["x_stock_bytes"] = entry["x_baseline_bytes"]
    artifact["side_by_side_p50_ms"] = entry["p50_ms"]
  section = {"baseline": BASELINE, "hidden_units": hidden, "rounds": rounds,
             "invokes_per_round": invokes, "threads": threads,
             "anchors": {name: {k: timed[name][k] for k in ("p50_ms", "p90_ms", "bytes")}
                         for name in stock.STOCK_FORMATS}}
  report["stock_comparison"] = dict(section)
  section = dict(section, timed=timed)
  fastest = min(report["artifacts"], key=lambda a: a["x_stock_p50"])
  log(f"stock comparison: stock float32 {timed[BASELINE]['p50_ms']:.2f} ms; fastest "
      f"{fastest['name']} x{fastest['x_stock_p50']:.3f} of its latency")
  return section
