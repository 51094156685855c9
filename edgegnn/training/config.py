"""TrainConfig: the `train:` section of a pipeline file."""
from __future__ import annotations

import dataclasses
from typing import ClassVar

from edgegnn.config_fields import MappingConfig


@dataclasses.dataclass(frozen=True)
class TrainConfig(MappingConfig):
  """How a model is trained.

  Attributes:
    epochs: maximum epochs.
    learning_rate: Adam learning rate.
    lr_decay_every: epochs between learning-rate halvings (0 = constant; GIN uses 50).
    patience: early stopping: epochs without a better validation score (0 = off; graph
      tasks without a validation split always train all epochs and keep the last weights).
    batch_size: graphs per batch (graph tasks).
    seeds: seeds to train (the report gives the mean and std over them).
    folds: cross-validation folds to run for TU datasets (subset of 0..9).
    checkpoint_every: epochs between checkpoints (a killed run resumes from the last one).
    record_test_accuracy: also evaluate the test split after every epoch and store it in the
      history as `test_accuracy` (never used for model selection or early stopping). Needed
      by the GIN paper's cross-validation protocol (`cross_validation.cross_validate`);
      off by default because it costs one test pass per epoch.
    reestimate_batch_norm: after training (and after restoring the best weights), set every
      BatchNorm's moving mean and variance to the average of its batch statistics over the
      training split (batches of `batch_size` graphs in a fixed order, or the full graph for
      a node task), with dropout and the protective mask off and fake-quant ranges kept
      (`edgegnn.training.reestimate_batch_norm`). The moving averages lag behind weights and
      fake-quant ranges that change every step; on MUTAG's GIN this lag left quantized
      models predicting one class at evaluation (`docs/degree_quant.md`).
  """
  SECTION: ClassVar[str] = "train"
  epochs: int = 200
  learning_rate: float = 0.01
  lr_decay_every: int = 0
  patience: int = 50
  batch_size: int = 32
  seeds: tuple[int, ...] = (0,)
  folds: tuple[int, ...] = (0,)
  checkpoint_every: int = 10
  record_test_accuracy: bool = False
  reestimate_batch_norm: bool = False

  def __post_init__(self):
    for name in ("epochs", "batch_size", "checkpoint_every"):
      if getattr(self, name) < 1:
        raise ValueError(f"train.{name} must be >= 1, got {getattr(self, name)}.")
    if self.learning_rate <= 0:
      raise ValueError(f"train.learning_rate must be > 0, got {self.learning_rate}.")
    if self.patience < 0 or self.lr_decay_every < 0:
      raise ValueError("train.patience and train.lr_decay_every must be >= 0.")
    if not self.seeds:
      raise ValueError("train.seeds must list at least one seed.")
    if not self.folds or any(not 0 <= f < 10 for f in self.folds):
      raise ValueError(f"train.folds must be fold numbers in 0..9, got {self.folds}.")
    object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
    object.__setattr__(self, "folds", tuple(int(f) for f in self.folds))

