"""Learning-rate schedules of an epoch. (Per-step schedules are Keras
`LearningRateSchedule`s, e.g. `tf.keras.optimizers.schedules.CosineDecay`, given to `fit`
as the learning rate.)"""
from __future__ import annotations

from typing import Callable

EpochSchedule = Callable[[int], float]


def halving(learning_rate: float, every: int) -> EpochSchedule:
  """epoch -> learning_rate * 0.5 ** (epoch // every) (GIN's schedule: every 50)."""
  if every < 1:
    raise ValueError(f"halving: every must be >= 1 epoch, got {every}.")
  return lambda epoch: learning_rate * 0.5 ** (epoch // every)
