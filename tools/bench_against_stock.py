"""Every artifact of a run directory against the stock TFLite path, side by side. Writes JSON.

    python tools/bench_against_stock.py RUN_DIR --json docs/results/fast_artifacts_cora.json

Builds the stock anchors for the run's dataset (`edgegnn.deploy.stock`: a plain GCN with
precomputed edge weights, stock converter, float32 and dynamic-range int8, the hidden
width of the run's first GCN), then times them and every artifact of RUN_DIR/report.json
in one process (`edgegnn.pipeline.stock_comparison`, as `compare_with_stock: true` does at
the end of a run, here with more rounds): full graph, inputs set once, 1 thread,
interleaved rounds. Each entry gets p50/p90, bytes, the ratios to stock float32, the input
shapes it was timed on, and the artifact's test accuracy and agreement from the report.
Only the ratios of one run are comparable; absolute times on a shared machine are not.

`--with-bench` also runs `edgegnn bench`'s library call on every artifact as the command
line does (no inputs given: it finds the artifact's real inputs itself) and records its p50,
the shapes it timed, and the ratio of its p50 to the side-by-side p50 (`bench_vs_side_by_side`).
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import sys

from edgegnn import data  # noqa: E402
from edgegnn.atomic import atomic_write_text  # noqa: E402
from edgegnn.pipeline import stock_comparison  # noqa: E402


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("run_dir", type=pathlib.Path)
  parser.add_argument("--json", type=pathlib.Path, required=True, help="Output JSON file.")
  parser.add_argument("--rounds", type=int, default=7)
  parser.add_argument("--invokes", type=int, default=15)
  parser.add_argument("--with-bench", action="store_true",
                      help="Also time every artifact with edgegnn bench (its own inputs).")
  args = parser.parse_args(argv)
  report = json.loads((args.run_dir / "report.json").read_text())
  dataset = data.load_source(report.get("dataset_source") or report["dataset"])
  if dataset.task != "node":
    parser.error(f"{dataset.name} is a graph task; this benchmark times full-graph node "
                 "artifacts.")
  section = stock_comparison.compare(report, args.run_dir, dataset, rounds=args.rounds,
                                     invokes=args.invokes)
  timed = section.pop("timed")
  for artifact in report["artifacts"]:
    entry = timed[artifact["name"]]
    entry.update({k: artifact.get(k) for k in (
        "format", "layout", "features", "test_accuracy", "agreement")})
    if args.with_bench:
      from edgegnn.deploy import bench  # pylint: disable=g-import-not-at-top
      result = bench.benchmark(args.run_dir / artifact["path"], runs=50, warmup=5,
                               measure_memory=False)
      entry["bench_p50_ms"] = result["latency_ms"]["p50"]
      entry["bench_inputs"] = {k: v["shape"] for k, v in result["inputs"].items()}
      entry["bench_inputs_source"] = result["inputs_source"]
      entry["bench_vs_side_by_side"] = result["latency_ms"]["p50"] / entry["p50_ms"]
  out = {"command": "python tools/bench_against_stock.py "
                    + " ".join(sys.argv[1:] if argv is None else argv),
         "dataset": dataset.name, "machine": platform.machine(),
         "load_average": os.getloadavg(), **section, "results": timed}
  atomic_write_text(args.json, json.dumps(out, indent=1) + "\n")
  width = max(len(n) for n in timed)
  for name, r in sorted(timed.items(), key=lambda kv: kv[1]["p50_ms"]):
    print(f"{name:{width}s}  p50 {r['p50_ms']:7.3f} ms  x{r['x_baseline_p50']:.3f}  "
          f"{r['bytes']:>9,d} B  x{r['x_baseline_bytes']:.3f}  acc {r.get('test_accuracy')}"
          + (f"  bench/side-by-side {r['bench_vs_side_by_side']:.2f}"
             if "bench_vs_side_by_side" in r else ""))
  return 0


if __name__ == "__main__":
  sys.exit(main())
