"""Load time and peak memory of a large CSV dataset source (edgegnn.data.load_source).

Writes a random graph as nodes.csv (id, label, F feature columns) and edges.csv (src, dst)
into a scratch directory, then loads it in a fresh process (so the peak resident memory is
the loader's) and records seconds and peak RSS:

    .venv/bin/python tools/bench_source_csv.py --nodes 1000000 --edges 10000000 \
        --json docs/results/source_csv_load.json
"""
import argparse
import json
import os
import pathlib
import platform
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np


def write_graph(directory: pathlib.Path, nodes: int, edges: int, features: int,
                seed: int = 0) -> None:
  """nodes.csv / edges.csv of a random graph (ids "n<i>" as text, 7 classes)."""
  import pyarrow as pa  # pylint: disable=g-import-not-at-top
  import pyarrow.compute as pc  # pylint: disable=g-import-not-at-top
  from pyarrow import csv  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(seed)
  ids = pa.array(np.char.add("n", np.arange(nodes).astype(str)))
  columns = {"id": ids, "label": pa.array(rng.integers(0, 7, nodes))}
  for j in range(features):
    columns[f"f{j}"] = pa.array(rng.random(nodes, dtype=np.float32))
  csv.write_csv(pa.table(columns), directory / "nodes.csv")
  src, dst = rng.integers(0, nodes, edges), rng.integers(0, nodes, edges)
  csv.write_csv(pa.table({"src": pc.take(ids, pa.array(src)),
                          "dst": pc.take(ids, pa.array(dst))}), directory / "edges.csv")


def _load(directory: str) -> None:
  """Child process: load the source, print {seconds, peak_rss_bytes, summary} as JSON."""
  from edgegnn.data import sources  # pylint: disable=g-import-not-at-top
  started = time.perf_counter()
  _, summary = sources.load_source_summary(
      {"format": "csv", "nodes": "nodes.csv", "edges": "edges.csv", "source": "src",
       "target": "dst", "split": {"train": 0.6, "val": 0.2, "seed": 0}}, directory)
  seconds = time.perf_counter() - started
  peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024   # Linux: kB
  print(json.dumps({"seconds": round(seconds, 2), "peak_rss_bytes": peak, "summary": summary}))


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--nodes", type=int, default=1_000_000)
  parser.add_argument("--edges", type=int, default=10_000_000)
  parser.add_argument("--features", type=int, default=16)
  parser.add_argument("--json", type=pathlib.Path, default=None, help="Output JSON file.")
  parser.add_argument("--load-only", default=None, help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if args.load_only:
    _load(args.load_only)
    return 0
  with tempfile.TemporaryDirectory() as scratch:
    directory = pathlib.Path(scratch)
    started = time.perf_counter()
    write_graph(directory, args.nodes, args.edges, args.features)
    written = time.perf_counter() - started
    sizes = {p.name: p.stat().st_size for p in directory.iterdir()}
    child = subprocess.run([sys.executable, __file__, "--load-only", str(directory)],
                           check=True, capture_output=True, text=True)
    measured = json.loads(child.stdout.strip().splitlines()[-1])
  result = {"nodes": args.nodes, "edges": args.edges, "features": args.features,
            "file_bytes": sizes, "write_seconds": round(written, 2), **measured,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "load_average": os.getloadavg()[0]}}
  print(json.dumps(result, indent=1))
  if args.json:
    args.json.write_text(json.dumps(result, indent=1) + "\n")
  return 0


if __name__ == "__main__":
  sys.exit(main())
