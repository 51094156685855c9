"""The LPGNAS search round: supernet weights and architecture logits trained together.

Every epoch alternates (first-order, as in DARTS / LPGNAS):

1. a weight step on the training nodes: Adam on W, b, attention vectors,
   loss = CE(train) + weight_decay/2 * sum ||W||^2 over `engine.decayed_variables` (the
   kernels and attention vectors, the engine's one decay rule; never biases or the
   architecture logits);
2. an architecture step on the validation nodes (after `warmup_epochs` of weight steps
   only): Adam on the architecture logits,
   loss = CE(val) + size_weight * E[weight bytes] / reference bytes,
   the reference being the int8 two-layer GCN with 16 hidden units
   (`space.reference_bytes`).

The genotype is the argmax of every softmax at the end (`Supernet.genotype`). The round
is an `edgegnn.engine.fit` whose custom step is one such epoch (two optimizers, gradients
from `engine.loss_and_gradients`); its callback records every 10th epoch.

    result = search(data.load("cora"), SearchConfig(), seed=0)
    result.genotype.describe()    # e.g. "gcn/relu/16/w8a8 | gat/none/7/w8a8"
"""
from __future__ import annotations

import dataclasses
import time
from typing import ClassVar

import numpy as np

from edgegnn.config_fields import MappingConfig
from edgegnn.search import space as space_lib


@dataclasses.dataclass(frozen=True)
class SearchConfig(MappingConfig):
  """A search round (the `search` stage's settings).

  Attributes:
    space: the choices per layer (`SearchSpace`).
    epochs: alternating weight / architecture epochs.
    warmup_epochs: weight steps only at first (the architecture logits start uniform).
    learning_rate, weight_decay: the weights' Adam step and L2 coefficient.
    arch_learning_rate: the architecture logits' Adam step.
    size_weight: lambda of the size term (0: accuracy only).
    dropout: on every layer's input, weight steps only.
  """
  SECTION: ClassVar[str] = "search"
  space: space_lib.SearchSpace = space_lib.SearchSpace()
  epochs: int = 200
  warmup_epochs: int = 20
  learning_rate: float = 0.01
  weight_decay: float = 5e-4
  arch_learning_rate: float = 0.05
  size_weight: float = 0.5
  dropout: float = 0.5

  def __post_init__(self):
    if self.epochs < 1 or not 0 <= self.warmup_epochs < self.epochs:
      raise ValueError(f"search: need epochs >= 1 and 0 <= warmup_epochs < epochs, got "
                       f"{self.epochs}, {self.warmup_epochs}.")
    for name in ("learning_rate", "arch_learning_rate"):
      if getattr(self, name) <= 0:
        raise ValueError(f"search.{name} must be > 0, got {getattr(self, name)}.")
    for name in ("weight_decay", "size_weight"):
      if getattr(self, name) < 0:
        raise ValueError(f"search.{name} must be >= 0, got {getattr(self, name)}.")
    if not 0.0 <= self.dropout < 1.0:
      raise ValueError(f"search.dropout must be in [0, 1), got {self.dropout}.")


_SUPERNET_INPUTS = ("node_features", "edge_source", "edge_target")
_SNAPSHOT_KEYS = ("val_accuracy", "expected_weight_bytes", "genotype")


@dataclasses.dataclass
class SearchResult:
  genotype: space_lib.Genotype
  seconds: float
  probabilities: list[dict]
  history: list[dict]          # every 10th epoch: val accuracy, expected bytes
  supernet_val_accuracy: float

  def to_dict(self) -> dict:
    return {"genotype": self.genotype.to_dict(), "describe": self.genotype.describe(),
            "seconds": round(self.seconds, 1), "probabilities": self.probabilities,
            "history": self.history,
            "supernet_val_accuracy": round(self.supernet_val_accuracy, 4)}


def search(dataset, config: SearchConfig, seed: int = 0) -> SearchResult:
  """Runs one search round on a node-classification `dataset` (full graph) through
  `edgegnn.engine.fit`, one epoch being one `alternating_step` (module doc)."""
  from edgegnn import _keras_env  # noqa: F401  pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from edgegnn import engine  # pylint: disable=g-import-not-at-top
  from edgegnn.models import feeds  # pylint: disable=g-import-not-at-top
  from edgegnn.search.supernet import Supernet  # pylint: disable=g-import-not-at-top

  if dataset.task != "node":
    raise ValueError(f"search: LPGNAS searches node-classification models; {dataset.name} "
                     "is a graph-level dataset.")
  start = time.perf_counter()
  tf.keras.utils.set_random_seed(seed)
  feed = feeds.graph_feed(dataset.graph, "sparse")
  batch = engine.Batch({name: feed[name] for name in _SUPERNET_INPUTS},
                       dataset.labels[dataset.train_index], dataset.train_index,
                       {"val_labels": dataset.labels[dataset.val_index],
                        "val_rows": dataset.val_index}).as_tensors()
  inputs = tuple(batch.inputs[name] for name in _SUPERNET_INPUTS)
  val_labels = tf.cast(batch.targets["val_labels"], tf.int32)
  val_rows = tf.cast(batch.targets["val_rows"], tf.int32)
  net = Supernet(config.space, dataset.num_features, dataset.num_classes,
                 dropout=config.dropout)
  net(inputs)                                                   # builds every variable
  reference = float(space_lib.reference_bytes(dataset.num_features, dataset.num_classes))
  weights, arch = net.weight_variables(), net.architecture_variables()
  decayed = engine.decayed_variables(net)      # kernels and attention vectors, never arch
  weight_opt = tf.keras.optimizers.Adam(config.learning_rate)
  arch_opt = tf.keras.optimizers.Adam(config.arch_learning_rate)

  @tf.function
  def weight_step():
    def objective():
      logits = tf.gather(net(inputs, training=True), batch.rows)
      return (engine.cross_entropy(logits, batch.labels)
              + config.weight_decay * engine.l2_penalty(decayed))
    loss, grads = engine.loss_and_gradients(objective, weights)
    weight_opt.apply_gradients(zip(grads, weights))
    return loss

  @tf.function
  def arch_step():
    parts = {}
    def objective():
      parts["size"] = net.expected_weight_bytes() / reference
      logits = tf.gather(net(inputs, training=False), val_rows)
      return engine.cross_entropy(logits, val_labels) + config.size_weight * parts["size"]
    loss, grads = engine.loss_and_gradients(objective, arch)
    arch_opt.apply_gradients(zip(grads, arch))
    return loss, parts["size"]

  @tf.function
  def val_accuracy():
    predicted = tf.argmax(tf.gather(net(inputs, training=False), val_rows), -1,
                          output_type=tf.int32)
    return tf.reduce_mean(tf.cast(predicted == val_labels, tf.float32))

  epochs_done = [0]

  def alternating_step(_batch) -> dict[str, float]:
    """One search epoch: a weight step, then (after the warm-up) an architecture step."""
    record = {"weight_loss": float(weight_step())}
    if epochs_done[0] >= config.warmup_epochs:
      arch_loss, size = arch_step()
      record.update(arch_loss=float(arch_loss), relative_size=float(size))
    epochs_done[0] += 1
    return record

  def snapshot(epoch: int, record: dict) -> None:
    if epoch % 10 == 9 or epoch == config.epochs - 1:
      record.update(val_accuracy=round(float(val_accuracy()), 4),
                    expected_weight_bytes=round(float(net.expected_weight_bytes()), 1),
                    genotype=net.genotype().describe())

  fitted = engine.fit(net, None, [batch], epochs=config.epochs, step=alternating_step,
                      callbacks=[snapshot], description="search")
  history = [{"epoch": r["epoch"] + 1, **{k: r[k] for k in _SNAPSHOT_KEYS}}
             for r in fitted.history if "genotype" in r]
  return SearchResult(genotype=net.genotype(), seconds=time.perf_counter() - start,
                      probabilities=net.probability_table(), history=history,
                      supernet_val_accuracy=float(np.float32(val_accuracy())))
