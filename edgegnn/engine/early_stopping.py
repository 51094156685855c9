"""Early stopping on a validation score, keeping the best weights.

After every epoch `validate()` gives (accuracy, loss) on the validation split; the score
is (accuracy, -loss) compared in that order (ties in accuracy go to the lower loss). The
weights of the best epoch are kept and restored when training ends. Training stops after
`patience` epochs without a better score (0: never; the best weights are still kept).
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

Validate = Callable[[], tuple[float, float]]


class EarlyStopping:
  """Tracks the best validation score and its weights (module doc).

  Args:
    validate: () -> (validation accuracy, validation loss) of the current weights.
    patience: epochs without a better score before stopping (0 = never stop).
  """

  def __init__(self, validate: Validate, patience: int = 0):
    if patience < 0:
      raise ValueError(f"EarlyStopping: patience must be >= 0 (0 = off), got {patience}.")
    self.validate = validate
    self.patience = int(patience)
    self.best: Optional[list[float]] = None
    self.best_epoch = -1
    self.wait = 0
    self.best_weights: Optional[list[np.ndarray]] = None

  def update(self, model, epoch: int, record: dict[str, Any]) -> bool:
    """Validates `model` after `epoch`, records val_accuracy / val_loss, keeps its weights
    if they are the best so far; True when training should stop."""
    accuracy, loss = self.validate()
    record.update(val_accuracy=accuracy, val_loss=loss)
    score = [accuracy, -loss]
    if self.best is None or score > self.best:
      self.best, self.best_epoch, self.wait = score, epoch, 0
      self.best_weights = model.get_weights()
    else:
      self.wait += 1
    return bool(self.patience and self.wait >= self.patience)

  def restore_best(self, model) -> None:
    if self.best_weights is not None:
      model.set_weights(self.best_weights)

  def state(self) -> dict[str, Any]:
    return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}

  def load_state(self, state: dict[str, Any], best_weights) -> None:
    self.best, self.best_epoch = state.get("best"), state.get("best_epoch", -1)
    self.wait, self.best_weights = state.get("wait", 0), best_weights
