"""Checkpoints of a training run: model + optimizer (TensorFlow checkpoint), the best
weights (npz) and the loop's state (JSON), each written atomically.

A run killed mid-way and started again with the same directory resumes from its last
checkpoint; a checkpoint that cannot be read is an error naming the directory (never a
half-loaded model).
"""
from __future__ import annotations

import json
import os
import pathlib
import zipfile
from typing import Any, Optional

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.atomic import atomic_write_text


class Checkpoints:
  """Checkpoints in `directory` (None: none are written or read)."""

  def __init__(self, directory: Optional[str], model, optimizer=None):
    self.directory = pathlib.Path(directory) if directory else None
    if self.directory is None:
      return
    self.directory.mkdir(parents=True, exist_ok=True)
    objects = {"model": model}
    if optimizer is not None:
      objects["optimizer"] = optimizer
    self.checkpoint = tf.train.Checkpoint(**objects)
    self.manager = tf.train.CheckpointManager(self.checkpoint, str(self.directory / "tf"),
                                              max_to_keep=1)
    self.state_path = self.directory / "state.json"
    self.best_path = self.directory / "best_weights.npz"

  def restore(self) -> Optional[dict[str, Any]]:
    """The saved state (with "best_weights" if any), or None when there is nothing to
    resume; restores the model and optimizer in place."""
    if self.directory is None or not self.state_path.exists() or not self.manager.latest_checkpoint:
      return None
    try:
      state = json.loads(self.state_path.read_text())
      if not isinstance(state, dict):
        raise ValueError("state.json is not an object")
      self.checkpoint.restore(self.manager.latest_checkpoint).expect_partial()
      if self.best_path.exists():
        with np.load(self.best_path, allow_pickle=False) as f:
          state["best_weights"] = [f[f"w{i}"] for i in range(len(f.files))]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile,
            tf.errors.OpError) as e:
      raise ValueError(f"the training checkpoint in {self.directory} is unreadable "
                       f"({type(e).__name__}: {' '.join(str(e).split())[:200]}); delete "
                       "that directory to train this run from scratch.") from None
    return state

  def save(self, state: dict[str, Any], best_weights: Optional[list[np.ndarray]]) -> None:
    if self.directory is None:
      return
    self.manager.save()
    if best_weights is not None:
      tmp = self.best_path.with_suffix(".tmp.npz")
      np.savez(tmp, **{f"w{i}": w for i, w in enumerate(best_weights)})
      os.replace(tmp, self.best_path)
    atomic_write_text(self.state_path, json.dumps(state))
