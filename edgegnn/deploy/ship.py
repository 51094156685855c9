"""The one path from a Keras model to a shipped artifact: convert, verify, describe, time.

    figures = ship(model, "tflite-float32", "out/gcn.tflite", dataset=cora,
                   reference_logits=keras_test_logits, test_index=cora.test_index,
                   layout="sparse")

1. `convert` writes the artifact atomically, refusing a target that cannot run it;
2. `verify` runs it on its interpreter over the test examples; below the agreement floor
   (or with non-finite logits) the file is deleted and the error raised: an unverified
   artifact is never left behind;
3. the sidecar `ARTIFACT.tflite.json` (inputs, outputs, labels, layout, features), which
   the device side reads, plus `dataset_source`: what reloads the dataset (the source
   mapping of your own graph, absolute paths; the name of a bundled one), so
   `edgegnn bench` finds real inputs wherever the artifact is;
4. `benchmark` times it on real inputs (skipped with `bench_runs=None`).

The export stage, the binarize stage and `edgegnn convert` all ship through here.
"""
from __future__ import annotations

import dataclasses
import pathlib
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from edgegnn.deploy import convert as convert_lib, verify as verify_lib
from edgegnn.deploy import per_node_latency as per_node_lib
from edgegnn.deploy.layer_bits import layer_bit_widths
from edgegnn.runtime import bench, sidecar as sidecar_lib


@dataclasses.dataclass(frozen=True)
class Bench:
  """How a shipped artifact is timed (None runs: not timed)."""
  runs: Optional[int] = 50
  warmup: int = 5
  threads: int = 1


def ship(model, fmt: str, path: str | pathlib.Path, *, dataset,
         reference_logits: np.ndarray, test_index: Sequence[int], layout: str,
         capacity: Optional[int] = None, max_neighbors: Optional[int] = None,
         features: str = "dense", target: Optional[str] = None,
         representative_feeds: Optional[Sequence[Mapping[str, np.ndarray]]] = None,
         integer_io: Optional[bool] = None, floor: float = 0.99,
         bench_settings: Bench = Bench(),
         bench_inputs: Optional[Mapping[str, np.ndarray]] = None) -> dict[str, Any]:
  """Converts, verifies, describes and times `model` as `fmt` at `path`.

  Args:
    model: the export build of the model (`load_trained(..., layout, features, serving)`).
    fmt / target / representative_feeds / integer_io: as in `convert.convert`.
    dataset / reference_logits / test_index / layout / capacity / max_neighbors: as in
      `verify.verify`; the Keras model's logits on the test examples, in order.
    features: the feature encoding the artifact takes (for the sidecar).
    floor: the agreement floor (`verify.floor_for`).
    bench_settings: how to time it; `bench_inputs` the feed to time (default: the
      artifact's own inputs, `bench.benchmark`).

  Returns:
    The artifact's figures: format, layout, capacity, max_neighbors, features, target,
    bytes, ops, runtime, test_accuracy, agreement, latency_ms (p50, p90; None if not
    timed), peak_memory_bytes, per_node_latency_ms (p50, p90 of one-node queries when
    the artifact serves a node from its own features, `deploy.per_node_latency`; else
    None), bench_threads, layer_bits, and the paths `artifact` and
    `sidecar`.
  """
  from edgegnn.models import feeds  # pylint: disable=g-import-not-at-top
  path = pathlib.Path(path)
  result = convert_lib.convert(model, fmt, path, target=target,
                               representative_feeds=representative_feeds,
                               integer_io=integer_io)
  try:
    checked = verify_lib.verify(
        str(path), dataset=dataset, test_index=test_index, reference_logits=reference_logits,
        input_names=feeds.model_input_names(model), layout=layout, capacity=capacity,
        runtime=result.runtime, floor=floor, max_neighbors=max_neighbors)
  except Exception:
    path.unlink(missing_ok=True)  # an unverified artifact is not shipped
    raise
  from edgegnn.data import sources  # pylint: disable=g-import-not-at-top
  sidecar = sidecar_lib.write_sidecar(
      path, fmt=fmt, task=dataset.task, dataset=dataset.name,
      num_classes=dataset.num_classes, label_names=getattr(dataset, "label_names", None),
      layout=layout, capacity=capacity, max_neighbors=max_neighbors, features=features,
      dataset_source=sources.origin(dataset))
  latency, memory, per_node = None, None, None
  if bench_settings.runs is not None:
    timing = bench.benchmark(path, inputs=bench_inputs, runs=bench_settings.runs,
                             warmup=bench_settings.warmup, num_threads=bench_settings.threads,
                             runtime=result.runtime)
    latency = {k: timing["latency_ms"][k] for k in ("p50", "p90")}
    memory = timing.get("peak_memory_bytes")
    if dataset.task == "node":  # an artifact that can serve one node per call
      per_node = per_node_lib.per_node_latency(
          path, dataset.graph,
          list(test_index)[:per_node_lib.DEFAULT_QUERIES], num_threads=bench_settings.threads)
  return {"format": fmt, "layout": layout, "capacity": capacity,
          "max_neighbors": max_neighbors, "features": features, "target": target,
          "bytes": result.bytes, "ops": result.ops, "runtime": checked.runtime,
          "test_accuracy": checked.test_accuracy, "agreement": checked.agreement,
          "latency_ms": latency, "peak_memory_bytes": memory,
          "per_node_latency_ms": per_node,
          "bench_threads": bench_settings.threads, "layer_bits": layer_bit_widths(path),
          "artifact": path, "sidecar": sidecar}


def contract_logits(model, dataset, test_index: Sequence[int], *, layout: str,
                    capacity: Optional[int] = None,
                    max_neighbors: Optional[int] = None) -> np.ndarray:
  """The Keras model's logits on the test examples, fed as `verify` feeds the artifact:
  the whole graph (node task, rows `test_index`) or each test graph in turn (graph task)."""
  from edgegnn.models import feeds  # pylint: disable=g-import-not-at-top
  names = feeds.model_input_names(model)

  def run(graph):
    feed = feeds.select(feeds.graph_feed(graph, layout, capacity, max_neighbors=max_neighbors),
                        names)
    return np.asarray(model(feed, training=False)["logits"])
  if dataset.task == "node":
    return run(dataset.graph)[: dataset.graph.num_nodes][np.asarray(test_index)]
  return np.concatenate([run(dataset.graphs[i]) for i in test_index])
