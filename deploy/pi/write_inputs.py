"""Writes one real graph of a dataset as raw input files for `run_lce_benchmark.sh`.

    python deploy/pi/write_inputs.py cora out/inputs
    python deploy/pi/write_inputs.py mygraph.npz out/inputs          # your own graph
    python deploy/pi/write_inputs.py source.yaml out/inputs [GRAPH_INDEX]

DATASET is anything `edgegnn.data.load_source` takes: a bundled name, a .npz file, or a
.yaml/.json file holding a source mapping (docs/data.md).

Node datasets: node_features, edge_source, edge_target of the whole graph (the static
shapes of `edgegnn.binary.staged.export_model`). Graph datasets: one graph padded to the
dataset's largest graph (node_features, node_mask: the dense export form). One
`<input name>.bin` file per input: the raw little-endian array (float32 / int32).
"""
import pathlib
import sys

import numpy as np

from edgegnn import data
from edgegnn.models import feeds


def main(argv):
  if len(argv) < 3:
    raise SystemExit(__doc__)
  dataset = data.load_source(argv[1])
  out = pathlib.Path(argv[2])
  out.mkdir(parents=True, exist_ok=True)
  if dataset.task == "node":
    feed = feeds.graph_feed(dataset.graph)
  else:
    index = int(argv[3]) if len(argv) > 3 else 0
    feed = feeds.graph_feed(dataset.graphs[index], "dense", dataset.max_nodes)
    feed = {k: feed[k] for k in ("node_features", "node_mask")}
  for name, array in feed.items():
    path = out / f"{name}.bin"
    np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tofile(path)
    print(f"{path}: {array.dtype} {array.shape}")


if __name__ == "__main__":
  main(sys.argv)
