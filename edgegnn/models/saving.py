"""A trained model on disk: `model.json` (kind, spec or arguments, dataset, shapes) +
`weights.h5`.

Two kinds of model are saved:
  zoo  a `build_model` model: model.json holds its `ModelSpec`; `load_trained` rebuilds any
       layout from the spec and copies the weights in, so one saved model exports to every
       layout.
  cpf  a CPF student (`edgegnn.distill.cpf.build_cpf_student`): model.json holds the
       builder's arguments (`arguments`: num_nodes, num_steps, confidence, hidden_units,
       dropout, edge_dropout); its labelled prior is in the weights. It is bound to the one
       graph of num_nodes nodes it was trained on and rebuilds in the sparse layout only.

A model directory records its dataset in model.json: the name, and for your own graph the
source mapping (`extra.dataset_source`, absolute paths); `load_dataset` loads it again.
A Keras model saved outside edgegnn (`.keras`, `.h5`, a SavedModel directory) that follows
the input contract loads with `load_outside`.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
from typing import Any, Optional, Sequence

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.atomic import atomic_path, atomic_write_text
from edgegnn.models import feeds
from edgegnn.models.spec import ModelSpec
from edgegnn.models.zoo import build_model, transfer_weights


KINDS = ("zoo", "cpf")


@dataclasses.dataclass(frozen=True)
class ModelMeta:
  """What a saved model is and what it was trained on.

  Attributes:
    spec: the `ModelSpec` (kind zoo; None for kind cpf).
    dataset / task / num_features / num_classes: the training data's.
    extra: e.g. {"quantization": ...}, {"distill": {"method", "teacher"}}.
    kind: zoo or cpf (see the module doc).
    arguments: the builder's arguments of kind cpf (`cpf_student_arguments`).
  """
  spec: Optional[ModelSpec]
  dataset: str
  task: str
  num_features: int
  num_classes: int
  extra: dict[str, Any] = dataclasses.field(default_factory=dict)
  kind: str = "zoo"
  arguments: dict[str, Any] = dataclasses.field(default_factory=dict)

  def __post_init__(self):
    if self.kind not in KINDS:
      raise ValueError(f"Unknown model kind {self.kind!r}; expected one of {', '.join(KINDS)}.")
    if self.kind == "zoo" and self.spec is None:
      raise ValueError("A zoo model needs its ModelSpec (spec); a CPF student is kind cpf.")
    if self.kind == "cpf" and (self.spec is not None or self.quantization is not None):
      raise ValueError("A CPF student (kind cpf) has no ModelSpec and no quantized form; "
                       "quantize a zoo student (e.g. distill method kd with quantization).")

  @property
  def bound_nodes(self) -> Optional[int]:
    """The node count of the one graph a transductive model (kind cpf) runs on; None for
    zoo models, which take graphs of any size."""
    return self.arguments["num_nodes"] if self.kind == "cpf" else None

  def check_export(self, layout: str = "sparse", capacity: Optional[int] = None,
                   num_edges: Optional[int] = None, batched: bool = False,
                   max_neighbors: Optional[int] = None, formats: Sequence[str] = ()) -> None:
    """Raises ValueError if the model cannot be built in `layout` with these sizes, or
    exported to `formats` (a CPF student: `edgegnn.distill.cpf.check_export`)."""
    if self.kind != "cpf":
      return
    from edgegnn.distill import cpf  # pylint: disable=g-import-not-at-top
    cpf.check_export(self.bound_nodes, layout=layout, formats=formats, capacity=capacity,
                     num_edges=num_edges, batched=batched, max_neighbors=max_neighbors)

  def build(self, layout: str = "sparse", capacity: Optional[int] = None,
            num_edges: Optional[int] = None, batched: bool = False,
            max_neighbors: Optional[int] = None, features: str = "dense",
            serving: bool = False) -> tf.keras.Model:
    """The untrained model in `layout` (kind cpf: with an empty prior, which its weights
    replace; `features` and `serving` as in `build_model`)."""
    if self.kind == "cpf":
      self.check_export(layout, capacity, num_edges, batched, max_neighbors)
      from edgegnn.distill import cpf  # pylint: disable=g-import-not-at-top
      return cpf.build_cpf_student(self.num_features, self.num_classes, labelled_index=[],
                                   labels=[], **self.arguments)
    return build_model(self.spec, num_features=self.num_features, num_classes=self.num_classes,
                       task=self.task, layout=layout, capacity=capacity, num_edges=num_edges,
                       batched=batched, max_neighbors=max_neighbors,
                       quantization=self.quantization, features=features, serving=serving)

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
      {"kind": meta.kind, "spec": meta.spec.to_dict() if meta.spec else None,
       "arguments": meta.arguments, "dataset": meta.dataset, "task": meta.task,
       "num_features": meta.num_features, "num_classes": meta.num_classes,
       "extra": meta.extra}, indent=1))


def load_meta(directory: str | os.PathLike) -> ModelMeta:
  path = pathlib.Path(directory) / "model.json"
  if not path.exists():
    raise FileNotFoundError(f"{directory} is not a trained edgegnn model (no model.json); "
                            "train one with `edgegnn train` or a pipeline's train stage, or "
                            "give a Keras model (.keras, .h5 or a SavedModel directory) "
                            "with --dataset.")
  raw = json.loads(path.read_text())
  spec = raw.get("spec")
  return ModelMeta(spec=ModelSpec.from_dict(spec) if spec is not None else None,
                   dataset=raw["dataset"], task=raw["task"], num_features=raw["num_features"],
                   num_classes=raw["num_classes"], extra=raw.get("extra", {}),
                   kind=raw.get("kind", "zoo"), arguments=raw.get("arguments", {}))


def load_dataset(directory: str | os.PathLike, meta: Optional[ModelMeta] = None):
  """The dataset a model directory records (`extra.dataset_source`, else the bundled name),
  loaded (`edgegnn.data.load_source`): the record's keys are checked again, and a relative
  path in it (a hand-edited record) starts at the model directory, never the current one.

  Raises:
    SourceError: the recorded files are missing or broken (the message says where it was
      recorded and that `--dataset` gives their new place).
  """
  from edgegnn.data import sources  # pylint: disable=g-import-not-at-top
  meta = meta or load_meta(directory)
  recorded = meta.extra.get("dataset_source") or meta.dataset
  directory = pathlib.Path(directory).resolve()
  try:
    return sources.load_source(recorded, base_dir=directory)
  except sources.SourceError as e:
    raise sources.SourceError(f"{e} This is the dataset source recorded in "
                              f"{directory / 'model.json'}; if its files moved, pass --dataset "
                              "with their new place.") from None


def serving_build(formats) -> bool:
  """Whether an export to `formats` uses the serving build (`build_model(serving=True)`):
  float formats only. Full int8 keeps row normalisation before the first matmul; deferred
  past it, the matmul's int8 range would have to span every node's unnormalised row sum."""
  return "tflite-int8" not in formats


def load_trained(directory: str | os.PathLike, layout: str = "sparse",
                 capacity: Optional[int] = None, num_edges: Optional[int] = None,
                 batched: bool = False, max_neighbors: Optional[int] = None,
                 features: str = "dense", serving: bool = False
                 ) -> tuple[tf.keras.Model, ModelMeta]:
  """Rebuilds the saved model in `layout` with its trained weights (a CPF student: in the
  sparse layout only, see `ModelMeta.check_export`). `features` / `serving`: the build
  for export (`build_model`)."""
  meta = load_meta(directory)
  meta.check_export(layout, capacity, num_edges, batched, max_neighbors)
  trained = meta.build("sparse", batched=meta.task == "graph")
  trained.load_weights(str(pathlib.Path(directory) / "weights.h5"))
  if meta.kind == "cpf" or (layout == "sparse" and capacity is None and num_edges is None
                            and batched == (meta.task == "graph") and features == "dense"
                            and not serving):
    return trained, meta
  return transfer_weights(trained, meta.build(layout, capacity, num_edges, batched,
                                              max_neighbors, features, serving)), meta


# --- a Keras model saved outside edgegnn -----------------------------------------------------

KERAS_SUFFIXES = (".keras", ".h5")


def is_outside_model(path: str | os.PathLike) -> bool:
  """True for a Keras model file (.keras, .h5) or a SavedModel directory that is not an
  edgegnn model directory (no model.json)."""
  path = pathlib.Path(path)
  if path.is_file():
    return path.suffix in KERAS_SUFFIXES
  return (path / "saved_model.pb").is_file() and not (path / "model.json").is_file()


def _named_inputs(model) -> dict[str, Any]:
  """Each input tensor of `model` by its name (its Input layer's name)."""
  if isinstance(model.input, dict):
    return dict(model.input)
  named = {}
  for tensor in model.inputs:
    history = getattr(tensor, "_keras_history", None)
    named[history.layer.name if history is not None else tensor.name.split(":")[0]] = tensor
  return named


def load_outside(path: str | os.PathLike, *, layout: str, num_features: int,
                 num_classes: int) -> tf.keras.Model:
  """A Keras model saved outside edgegnn (`model.save("m.keras")`, `.h5` or a SavedModel
  directory) that follows the input contract (`edgegnn.models.zoo`): its inputs named after
  the contract's inputs of `layout`, its output `logits` ([N, num_classes] per node, or
  [1, num_classes] per graph). Returns it wrapped as a functional model with dict inputs
  and output {"logits": ...}, which `edgegnn.deploy.ship` converts and verifies.

  Raises:
    ValueError: an unreadable file, or a model that breaks the contract; the message names
      the inputs it lacks (or does not know), the outputs or the sizes, and the fix.
  """
  import tensorflow_gnn  # noqa: F401  pylint: disable=g-import-not-at-top,unused-import  (registers TF-GNN's layers)
  try:
    model = tf.keras.models.load_model(str(path), compile=False)
  except Exception as e:  # pylint: disable=broad-except  (Keras raises many types here)
    raise ValueError(f"{path}: cannot load it as a Keras model ({' '.join(str(e).split())[:300]}"
                     "). Save a functional model with model.save(\"model.keras\") (or a "
                     "SavedModel directory), its custom layers registered with "
                     "tf.keras.utils.register_keras_serializable and imported.") from None
  if not getattr(model, "inputs", None):
    raise ValueError(f"{path}: a Keras model without declared inputs (a subclassed model); "
                     "the input contract needs a functional model built on named "
                     "tf.keras.Input layers.")
  tensors = _named_inputs(model)
  feeds.check_contract_inputs({n: t.dtype.name for n, t in tensors.items()}, layout, str(path))
  width = tensors.get("node_features")
  if width is not None and width.shape[-1] != num_features:
    raise ValueError(f"{path}: node_features has {width.shape[-1]} features per node; the "
                     f"dataset has {num_features}. Build the model for this dataset.")
  fresh = {n: tf.keras.Input(shape=t.shape[1:], batch_size=t.shape[0], dtype=t.dtype, name=n)
           for n, t in tensors.items()}
  try:
    out = model(fresh if isinstance(model.input, dict) else [fresh[n] for n in tensors],
                training=False)
  except Exception as e:  # pylint: disable=broad-except
    raise ValueError(f"{path}: the model fails on its own inputs: "
                     f"{' '.join(str(e).split())[:300]}") from None
  if isinstance(out, dict):
    if "logits" not in out:
      raise ValueError(f"{path}: the model's outputs are {sorted(out)}; the contract's output "
                       "is \"logits\" (return {\"logits\": x}).")
    logits = out["logits"]
  elif list(getattr(model, "output_names", [])) == ["logits"]:
    logits = out
  else:
    raise ValueError(f"{path}: the model's output is {list(getattr(model, 'output_names', []))}"
                     "; the contract's output is named \"logits\": return {\"logits\": x} or "
                     "name the last layer \"logits\".")
  if logits.shape.rank != 2 or logits.shape[-1] != num_classes:
    raise ValueError(f"{path}: logits have shape {logits.shape.as_list()}; the contract wants "
                     f"[rows, {num_classes}] (one column per class of the dataset).")
  return tf.keras.Model(fresh, {"logits": logits})
