"""Exports a federated global model through the deploy core and scores the artifact.

    report = export_global_model("runs/fl/seed0/model", dataset, "out/gcn.int8.tflite")

The global model is saved in the trained-model format, so it rebuilds in any layout; the
full-int8 artifact uses the dense layout (BATCH_MATMUL aggregation), calibrated on the
training graph(s), and is run on its interpreter over the whole test split.
"""
from __future__ import annotations

import os
from typing import Any, Optional

from edgegnn.deploy import convert as convert_lib
from edgegnn.deploy import verify as verify_lib
from edgegnn.models import feeds
from edgegnn.models.saving import load_trained
from edgegnn.training import make_task, predict


def export_global_model(model_dir: str | os.PathLike, dataset, path: str | os.PathLike, *,
                        fmt: str = "tflite-int8", layout: str = "dense",
                        capacity: Optional[int] = None, target: Optional[str] = None,
                        fold: int = 0, representative_graphs: int = 100,
                        agreement_floor: float = 0.0) -> dict[str, Any]:
  """Converts the saved global model to `fmt` and verifies it on the test split.

  Returns:
    {path, format, layout, capacity, bytes, ops, runtime, keras_test_accuracy,
     test_accuracy, agreement}.
  """
  trained, _ = load_trained(model_dir, batched=dataset.task == "graph")
  if layout == "dense" and capacity is None:
    capacity = dataset.max_nodes if dataset.task == "graph" else dataset.graph.num_nodes
  export_model, _ = load_trained(model_dir, layout=layout, capacity=capacity)
  names = feeds.model_input_names(export_model)
  task = make_task(dataset, fold)
  test_index = task.split("test")
  if dataset.task == "node":
    reference = predict(trained, task)[test_index]
    representative = [feeds.graph_feed(dataset.graph, layout, capacity)]
  else:
    reference = predict(trained, task, test_index)
    representative = [feeds.graph_feed(dataset.graphs[i], layout, capacity)
                      for i in task.split("train")[:representative_graphs]]
  representative = [feeds.select(f, names) for f in representative]
  result = convert_lib.convert(export_model, fmt, path, target=target,
                               representative_feeds=representative)
  checked = verify_lib.verify(str(path), dataset=dataset, test_index=test_index,
                              reference_logits=reference, input_names=names, layout=layout,
                              capacity=capacity, runtime=result.runtime, floor=agreement_floor)
  keras_accuracy = float((reference.argmax(-1) == dataset.labels[test_index]).mean())
  return {"path": str(path), "format": fmt, "layout": layout, "capacity": capacity,
          "bytes": result.bytes, "ops": result.ops, "runtime": checked.runtime,
          "keras_test_accuracy": keras_accuracy, "test_accuracy": checked.test_accuracy,
          "agreement": checked.agreement}
