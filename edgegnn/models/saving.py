"""A trained model on disk: `model.json` (spec, dataset, shapes) + `weights.h5`.

Weights are stored for the training build; `load_trained` rebuilds any layout from the
spec and copies them in, so one saved model exports to every layout.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
from typing import Any, Optional

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.atomic import atomic_path, atomic_write_text
from edgegnn.models.spec import ModelSpec
from edgegnn.models.zoo import build_model, transfer_weights


@dataclasses.dataclass(frozen=True)
class ModelMeta:
  spec: ModelSpec
  dataset: str
  task: str
  num_features: int
  num_classes: int
  extra: dict[str, Any] = dataclasses.field(default_factory=dict)

  def build(self, layout: str = "sparse", capacity: Optional[int] = None,
            num_edges: Optional[int] = None, batched: bool = False,
            max_neighbors: Optional[int] = None) -> tf.keras.Model:
    return build_model(self.spec, num_features=self.num_features, num_classes=self.num_classes,
                       task=self.task, layout=layout, capacity=capacity, num_edges=num_edges,
                       batched=batched, max_neighbors=max_neighbors,
                       quantization=self.quantization)

  @property
  def quantization(self):
    """The model's `QuantizationConfig` (extra["quantization"]), None for float models."""
    raw = self.extra.get("quantization")
    if raw is None:
      return None
    from edgegnn.quantization import QuantizationConfig  # pylint: disable=g-import-not-at-top
    return QuantizationConfig.from_dict(raw)


def save_trained(directory: str | os.PathLike, model: tf.keras.Model, meta: ModelMeta) -> None:
  directory = pathlib.Path(directory)
  directory.mkdir(parents=True, exist_ok=True)
  with atomic_path(directory / "weights.h5") as tmp:
    model.save_weights(str(tmp.with_suffix(".h5")))
    os.replace(tmp.with_suffix(".h5"), tmp)
  atomic_write_text(directory / "model.json", json.dumps(
      {"spec": meta.spec.to_dict(), "dataset": meta.dataset, "task": meta.task,
       "num_features": meta.num_features, "num_classes": meta.num_classes,
       "extra": meta.extra}, indent=1))


def load_meta(directory: str | os.PathLike) -> ModelMeta:
  path = pathlib.Path(directory) / "model.json"
  if not path.exists():
    raise FileNotFoundError(f"{directory} is not a trained edgegnn model (no model.json); "
                            "train one with `edgegnn train` or a pipeline's train stage.")
  raw = json.loads(path.read_text())
  return ModelMeta(spec=ModelSpec.from_dict(raw["spec"]), dataset=raw["dataset"],
                   task=raw["task"], num_features=raw["num_features"],
                   num_classes=raw["num_classes"], extra=raw.get("extra", {}))


def load_trained(directory: str | os.PathLike, layout: str = "sparse",
                 capacity: Optional[int] = None, num_edges: Optional[int] = None,
                 batched: bool = False, max_neighbors: Optional[int] = None
                 ) -> tuple[tf.keras.Model, ModelMeta]:
  """Rebuilds the saved model in `layout` with its trained weights."""
  meta = load_meta(directory)
  trained = meta.build("sparse", batched=meta.task == "graph")
  trained.load_weights(str(pathlib.Path(directory) / "weights.h5"))
  if layout == "sparse" and capacity is None and num_edges is None and batched == (meta.task == "graph"):
    return trained, meta
  return transfer_weights(trained, meta.build(layout, capacity, num_edges, batched,
                                              max_neighbors)), meta
