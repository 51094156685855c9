"""Generation time and peak memory of `edgegnn.data.synthetic` graphs at several sizes.

    python tools/bench_synthetic.py --out docs/results/synthetic_generation.json

Each size is generated in a fresh subprocess (`synthetic_dataset(N, seed=0)` with the
default parameters: 10 edges per node, 1000 words, 7 classes) so that one size's memory
does not hide the next one's. The child reports the wall time of the call
(`time.perf_counter`), its resident set before the call (`VmRSS`: Python + numpy) and the
peak over the call (`VmHWM` after resetting it via /proc/self/clear_refs), and the sizes
of what it built (edges, feature non-zeros, bytes of the arrays kept).
"""
from __future__ import annotations

import argparse
import json
import pathlib
import platform
import subprocess
import sys

from edgegnn.atomic import atomic_write_text  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
_CHILD = r"""
import json, sys, time
# argv[1]: the package root (edgegnn is installed; kept for the command line's shape)
import numpy as np
from edgegnn.data.synthetic import synthetic_dataset
def kb(field):
  for line in open("/proc/self/status"):
    if line.startswith(field + ":"):
      return int(line.split()[1])
before = kb("VmRSS")
open("/proc/self/clear_refs", "w").write("5")
start = time.perf_counter()
d = synthetic_dataset(int(sys.argv[2]), seed=int(sys.argv[3]))
seconds = time.perf_counter() - start
g, f = d.graph, d.graph.sparse_features
kept = sum(a.nbytes for a in (g.edge_source, g.edge_target, f.row_splits, f.indices, d.labels))
print(json.dumps({"num_nodes": g.num_nodes, "num_edges": g.num_edges, "feature_nonzeros": f.nnz,
                  "seconds": seconds, "rss_before_bytes": before * 1024,
                  "peak_bytes": kb("VmHWM") * 1024, "kept_array_bytes": kept}))
"""


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--out", default="docs/results/synthetic_generation.json")
  parser.add_argument("--sizes", default="10000,100000,1000000")
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args(argv)
  rows = []
  for n in [int(s) for s in args.sizes.split(",")]:
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT), str(n), str(args.seed)],
                          capture_output=True, text=True, check=False, timeout=600)
    if proc.returncode:
      raise RuntimeError(f"N={n}: the generator failed: {proc.stderr[-2000:]}")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["peak_over_call_bytes"] = row["peak_bytes"] - row["rss_before_bytes"]
    rows.append(row)
    print(f"N={n}: {row['num_edges']} edges, {row['seconds']:.2f} s, peak "
          f"{row['peak_bytes'] / 2**30:.2f} GiB ({row['peak_over_call_bytes'] / 2**30:.2f} GiB "
          "over the call)")
  report = {"command": "python tools/bench_synthetic.py " + " ".join(
                argv if argv is not None else sys.argv[1:]),
            "generator": "edgegnn.data.synthetic.synthetic_dataset(N, seed) with defaults",
            "seed": args.seed, "python": platform.python_version(),
            "machine": platform.machine(), "rows": rows}
  atomic_write_text(args.out, json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
  main()
