"""The server's checkpoint: the global model after every round, in one atomic file.

`global.npz` holds the completed round count, the global weights, the server optimizer's
state (FedAvgM momentum, FedAdam moments) and the per-round history. A server killed at
any moment and started again resumes from the last completed round.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
from typing import Any, Optional

import numpy as np

from edgegnn.atomic import atomic_path


@dataclasses.dataclass
class ServerState:
  """Everything the server needs to continue: TFF's `state` of a learning process.

  Attributes:
    round: rounds completed.
    weights: the global model's weight list.
    optimizer: the server optimizer's arrays by slot name (empty for FedAvg).
    history: one record per completed round.
  """
  round: int
  weights: list[np.ndarray]
  optimizer: dict[str, list[np.ndarray]] = dataclasses.field(default_factory=dict)
  history: list[dict[str, Any]] = dataclasses.field(default_factory=list)


class RoundCheckpoint:
  """Reads and writes `ServerState` at `directory/global.npz`."""

  def __init__(self, directory: str | os.PathLike):
    self.directory = pathlib.Path(directory)
    self.path = self.directory / "global.npz"

  def save(self, state: ServerState) -> None:
    arrays = {f"w{i}": w for i, w in enumerate(state.weights)}
    for name, values in state.optimizer.items():
      for j, value in enumerate(values):
        arrays[f"opt.{name}.{j}"] = value
    meta = {"round": state.round, "num_weights": len(state.weights),
            "optimizer": {k: len(v) for k, v in state.optimizer.items()},
            "history": state.history}
    arrays["meta"] = np.array(json.dumps(meta))
    with atomic_path(self.path) as tmp:
      with open(tmp, "wb") as f:
        np.savez(f, **arrays)

  def load(self) -> Optional[ServerState]:
    if not self.path.exists():
      return None
    with np.load(self.path, allow_pickle=False) as f:
      meta = json.loads(str(f["meta"]))
      weights = [f[f"w{i}"] for i in range(meta["num_weights"])]
      optimizer = {k: [f[f"opt.{k}.{j}"] for j in range(n)]
                   for k, n in meta["optimizer"].items()}
    return ServerState(round=meta["round"], weights=weights, optimizer=optimizer,
                       history=meta["history"])
