"""`fit`: the training loop of every method (see `edgegnn.engine`'s module doc).

Per epoch: set an epoch schedule's learning rate, run the step on each batch, record the
mean loss, validate (early stopping keeps the best weights), run the callbacks, and
checkpoint every `checkpoint_every` epochs and at the end. A run started again with the
same `checkpoint_dir` resumes after its last checkpointed epoch (model, optimizer, early
stopping state, history); one that had finished returns its result without training.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf
import tqdm

from edgegnn.engine.batches import Batch, Batches, epoch_batches
from edgegnn.engine.checkpoints import Checkpoints
from edgegnn.engine.early_stopping import EarlyStopping
from edgegnn.engine.evaluation import cross_entropy
from edgegnn.engine.schedules import EpochSchedule
from edgegnn.engine.steps import Loss, TrainStep

LearningRate = Union[float, tf.keras.optimizers.schedules.LearningRateSchedule, EpochSchedule]
Callback = Callable[[int, dict], None]
Step = Callable[[Batch], Any]


def logits_loss(loss_fn: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]) -> Loss:
  """The `fit` loss of a supervised loss_fn(logits, labels): `loss_fn` of the logits at
  `batch.rows` (every row if None) and `batch.labels`."""
  def loss(outputs: Mapping[str, tf.Tensor], batch: Batch) -> tf.Tensor:
    logits = outputs["logits"]
    if batch.rows is not None:
      logits = tf.gather(logits, batch.rows)
    return loss_fn(logits, batch.labels)
  return loss


# Plain supervised training: mean cross-entropy of the loss rows.
cross_entropy_loss = logits_loss(cross_entropy)


@dataclasses.dataclass
class FitResult:
  """What a `fit` did.

  Attributes:
    history: one record per epoch: epoch, train_loss (or the step's own metrics), and
      val_accuracy / val_loss with early stopping, plus what the callbacks added.
    epochs_run: epochs trained (including those before a resume).
    best_epoch: the epoch whose weights the model holds (the last one without early
      stopping).
    stopped_early: patience ran out before `epochs`.
    seconds: wall time of the training (including before a resume).
  """
  history: list[dict[str, Any]]
  epochs_run: int
  best_epoch: int
  stopped_early: bool
  seconds: float


def _epoch_record(epoch: int, values: list) -> dict[str, Any]:
  record: dict[str, Any] = {"epoch": epoch}
  if not values:
    raise ValueError(f"fit: epoch {epoch} had no batches; pass at least one Batch per epoch.")
  if isinstance(values[0], Mapping):
    for key in values[0]:
      record[key] = float(np.mean([float(v[key]) for v in values]))
  else:
    record["train_loss"] = float(np.mean([float(v) for v in values]))
  return record


def fit(model: tf.keras.Model, loss: Optional[Loss], batches: Batches, *, epochs: int,
        learning_rate: LearningRate = 0.01, weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        optimizer: Optional[tf.keras.optimizers.Optimizer] = None,
        outputs_model: Optional[tf.keras.Model] = None, step: Optional[Step] = None,
        early_stopping: Optional[EarlyStopping] = None,
        checkpoint_dir: Optional[str] = None, checkpoint_every: int = 10,
        callbacks: Sequence[Callback] = (), progress: bool = False,
        description: str = "train") -> FitResult:
  """Trains `model` in place on `batches` for up to `epochs` epochs.

  Args:
    model: the trained model (its weights are what early stopping keeps and checkpoints
      hold).
    loss: (outputs, batch) -> scalar loss (`cross_entropy_loss` for plain training);
      None when `step` is given.
    batches: an iterable of `Batch` re-read every epoch, or epoch -> iterable of `Batch`.
    epochs: maximum epochs.
    learning_rate: a float, a per-step Keras `LearningRateSchedule`, or an epoch schedule
      `epoch -> rate` (e.g. `halving(0.01, 50)`), set at the start of every epoch.
    weight_decay, decoupled_weight_decay: see `TrainStep` (variables:
      `decayed_variables(model)`).
    optimizer: default Adam(learning_rate).
    outputs_model: a model sharing `model`'s weights whose outputs the loss reads.
    step: instead of the gradient step on `loss`: a callable batch -> loss or
      {metric: value} that updates the model itself (a `TrainStep` built once and reused,
      a data-parallel step, GFKD's generator update). Its `optimizer` attribute, if any,
      is checkpointed and receives epoch schedules.
    early_stopping: validation, patience and best weights (None: keep the last weights).
    checkpoint_dir: where checkpoints go (None: no checkpoints, no resume).
    checkpoint_every: epochs between checkpoints.
    callbacks: called as callback(epoch, record) after validation; may add entries.
    progress, description: a tqdm progress bar and its label.
  """
  if epochs < 1 or checkpoint_every < 1:
    raise ValueError(f"fit: epochs and checkpoint_every must be >= 1, got {epochs} and "
                     f"{checkpoint_every}.")
  epoch_schedule = (learning_rate if callable(learning_rate) and not isinstance(
      learning_rate, tf.keras.optimizers.schedules.LearningRateSchedule) else None)
  if step is None:
    if loss is None:
      raise ValueError("fit needs a loss (outputs, batch) -> scalar, or a step.")
    optimizer = optimizer or tf.keras.optimizers.Adam(
        learning_rate=epoch_schedule(0) if epoch_schedule else learning_rate)
    step = TrainStep(model, loss, optimizer, weight_decay=weight_decay,
                     decoupled_weight_decay=decoupled_weight_decay,
                     outputs_model=outputs_model)
  else:
    optimizer = getattr(step, "optimizer", optimizer)
  if epoch_schedule and optimizer is None:
    raise ValueError("fit: an epoch learning-rate schedule needs the step's optimizer.")
  checkpoints = Checkpoints(checkpoint_dir, model, optimizer)
  state = checkpoints.restore() or {"epoch": -1, "history": [], "seconds": 0.0,
                                     "finished": False, "stopped_early": False}
  best_weights = state.pop("best_weights", None)
  if early_stopping is not None:
    early_stopping.load_state(state, best_weights)
  start = time.perf_counter() - state["seconds"]
  first = epochs if state.get("finished") else state["epoch"] + 1
  bar = tqdm.tqdm(range(first, epochs), desc=description, leave=False,
                  disable=None if progress else True, initial=state["epoch"] + 1,
                  total=epochs)
  for epoch in bar:
    if epoch_schedule:
      optimizer.learning_rate.assign(epoch_schedule(epoch))
    record = _epoch_record(epoch, [step(batch) for batch in epoch_batches(batches, epoch)])
    stop = early_stopping.update(model, epoch, record) if early_stopping else False
    for callback in callbacks:
      callback(epoch, record)
    bar.set_postfix({k: f"{v:.3f}" for k, v in record.items()
                     if k in ("train_loss", "val_accuracy")})
    state["history"].append(record)
    state.update(epoch=epoch, seconds=time.perf_counter() - start, stopped_early=stop,
                 finished=bool(stop or epoch == epochs - 1))
    if early_stopping is not None:
      state.update(early_stopping.state())
    if (epoch + 1) % checkpoint_every == 0 or state["finished"]:
      checkpoints.save(state, early_stopping.best_weights if early_stopping else None)
    if stop:
      break
  bar.close()
  if early_stopping is not None:
    early_stopping.restore_best(model)
  best_epoch = (early_stopping.best_epoch if early_stopping is not None
                and early_stopping.best_weights is not None else state["epoch"])
  return FitResult(history=state["history"], epochs_run=state["epoch"] + 1,
                   best_epoch=best_epoch, stopped_early=bool(state.get("stopped_early")),
                   seconds=time.perf_counter() - start)
