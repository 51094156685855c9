"""Exports a federated global model through the deploy core and scores the artifact.

    result = run_federated(spec, cora, FederatedConfig(setting="subgraph",
                           quantization={"method": "dq"}), seed=0, out_dir="runs/fl/seed0")
    report = export_global_model(result["model_path"], cora, "out/gcn.int8.tflite",
                                 layout="neighbors", target="mobile")

The global model is saved in the trained-model format (with its `QuantizationConfig` when
clients trained quantization-aware), so it rebuilds in any layout. `tflite-int8` is
calibrated on the training graph(s) (quantiser ranges already learnt federatedly take
precedence where the model carries fake-quant ops) and `edgegnn.deploy.convert` refuses
any artifact that would still compute in float. The artifact is then run on its runtime
(ai-edge-litert for the mobile target) over the whole test split and compared with the
Keras global model (`edgegnn.deploy.verify`).
"""
from __future__ import annotations

import os
from typing import Any, Optional

from edgegnn.deploy import convert as convert_lib
from edgegnn.deploy import verify as verify_lib
from edgegnn.models import feeds
from edgegnn.models.saving import load_trained
from edgegnn.training import accuracy, make_task, predict


def export_global_model(model_dir: str | os.PathLike, dataset, path: str | os.PathLike, *,
                        fmt: str = "tflite-int8", layout: str = "neighbors",
                        capacity: Optional[int] = None, max_neighbors: Optional[int] = None,
                        target: Optional[str] = "mobile", integer_io: Optional[bool] = None,
                        fold: int = 0, representative_graphs: int = 100,
                        agreement_floor: float = 0.0) -> dict[str, Any]:
  """Converts the saved global model to `fmt` and verifies it on the test split.

  Args:
    model_dir: `run_federated`'s OUT/model.
    dataset: the loaded dataset the federation trained on.
    path: destination `.tflite`.
    fmt: one of `edgegnn.deploy.convert.FORMATS`.
    layout / capacity / max_neighbors: export layout and its sizes (defaults from
      `feeds.layout_sizes`: neighbour slots = the dataset's largest in-degree, so no
      edge is dropped).
    target: deploy target checked by the converter (None: no device check).
    integer_io: int8 inputs/outputs (default: the converter's, True only for mcu).
    fold: the split whose test examples are scored.
    representative_graphs: graph task: training graphs used for int8 calibration.
    agreement_floor: minimum prediction agreement with the Keras model (verify raises).

  Returns:
    {path, format, layout, capacity, max_neighbors, target, bytes, ops, runtime,
     keras_test_accuracy, test_accuracy, agreement}.
  """
  trained, _ = load_trained(model_dir, batched=dataset.task == "graph")
  capacity, max_neighbors = feeds.layout_sizes(dataset, layout, capacity, max_neighbors)
  export_model, _ = load_trained(model_dir, layout=layout, capacity=capacity,
                                 max_neighbors=max_neighbors)
  names = feeds.model_input_names(export_model)
  task = make_task(dataset, fold)
  test_index = task.split("test")
  if dataset.task == "node":
    reference = predict(trained, task)[test_index]
    representative = [feeds.graph_feed(dataset.graph, layout, capacity,
                                       max_neighbors=max_neighbors)]
  else:
    reference = predict(trained, task, test_index)
    representative = [feeds.graph_feed(dataset.graphs[i], layout, capacity,
                                       max_neighbors=max_neighbors)
                      for i in task.split("train")[:representative_graphs]]
  representative = [feeds.select(f, names) for f in representative]
  result = convert_lib.convert(export_model, fmt, path, target=target,
                               representative_feeds=representative, integer_io=integer_io)
  checked = verify_lib.verify(str(path), dataset=dataset, test_index=test_index,
                              reference_logits=reference, input_names=names, layout=layout,
                              capacity=capacity, runtime=result.runtime, floor=agreement_floor,
                              max_neighbors=max_neighbors)
  return {"path": str(path), "format": fmt, "layout": layout, "capacity": capacity,
          "max_neighbors": max_neighbors, "target": target, "bytes": result.bytes,
          "ops": result.ops, "runtime": checked.runtime,
          "keras_test_accuracy": accuracy(reference, dataset.labels[test_index]),
          "test_accuracy": checked.test_accuracy, "agreement": checked.agreement}
