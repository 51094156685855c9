"""One gradient step: the only GradientTape of the package's training.

    step = TrainStep(model, loss, optimizer, weight_decay=5e-4)
    value = step(batch)          # compiled once per step object

minimises  loss(outputs, batch) + wd * sum_{W in decayed_variables(model)} ||W||^2 / 2
(coupled: the L2 term's gradient goes through the optimizer), or with
`decoupled_weight_decay` the loss alone followed by W <- W (1 - lr * wd) on the decayed
variables after each step (AdamW's decoupled decay).
"""
from __future__ import annotations

from typing import Callable, Mapping, Optional, Sequence

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.engine.batches import Batch
from edgegnn.engine.decay import decayed_variables, l2_penalty
from edgegnn.models import feeds

Loss = Callable[[Mapping[str, tf.Tensor], Batch], tf.Tensor]


def loss_and_gradients(compute_loss: Callable[[], tf.Tensor],
                       variables: Sequence[tf.Variable]) -> tuple[tf.Tensor, list]:
  """(loss, d loss / d variables) of `compute_loss()` (None for a variable it does not
  reach). Custom steps (e.g. GFKD's generator) take their exact gradients from here."""
  with tf.GradientTape() as tape:
    loss = compute_loss()
  return loss, tape.gradient(loss, list(variables))


class TrainStep:
  """A compiled training step of `model` on `loss` (module doc).

  Args:
    model: the model whose trainable variables are updated.
    loss: (outputs, batch) -> scalar; `outputs` is `outputs_model`'s training-mode output
      dict for the batch's inputs.
    optimizer: a Keras optimizer (its learning rate may be a per-step schedule).
    weight_decay: wd >= 0 on `decayed_variables(model)`.
    decoupled_weight_decay: shrink after the step instead of an L2 term.
    outputs_model: a model sharing `model`'s weights whose outputs the loss reads (e.g.
      with hidden states); default `model`.
    input_signature: compile one function for batches of every size, from the shapes the
      model declares for its inputs (batches of merged graphs; they then carry only the
      model's inputs, labels and rows). Default: compile for the first batch's shapes and
      once more with the sizes that differ relaxed (`reduce_retracing`). Random ops
      (dropout) draw differently under the two, so a method keeps the one it was
      measured with.
  """

  def __init__(self, model: tf.keras.Model, loss: Loss, optimizer: tf.keras.optimizers.Optimizer,
               *, weight_decay: float = 0.0, decoupled_weight_decay: bool = False,
               outputs_model: Optional[tf.keras.Model] = None, input_signature: bool = False):
    if weight_decay < 0:
      raise ValueError(f"weight_decay must be >= 0, got {weight_decay}.")
    self.model, self.loss, self.optimizer = model, loss, optimizer
    self.weight_decay = float(weight_decay)
    self.decoupled = bool(decoupled_weight_decay)
    self.outputs_model = outputs_model or model
    self.input_names = feeds.model_input_names(model)
    self.variables = model.trainable_variables
    self.decayed = decayed_variables(model) if weight_decay else []
    # tf.function takes nested structures of tensors, so the batch crosses as its fields.
    self._compiled = tf.function(
        lambda inputs, labels, rows, targets: self.apply(Batch(inputs, labels, rows, targets)),
        reduce_retracing=True)
    self.input_signature = bool(input_signature)
    self._signed = {}
    if input_signature:
      declared = model.input if isinstance(model.input, dict) else dict(
          zip(self.input_names, model.inputs))
      self._input_specs = {name: tf.TensorSpec(declared[name].shape, declared[name].dtype)
                           for name in self.input_names}

  def objective(self, batch: Batch) -> tf.Tensor:
    """The loss of `batch` in training mode, with the coupled L2 term."""
    inputs = feeds.select(batch.inputs, self.input_names)
    value = self.loss(self.outputs_model(inputs, training=True), batch)
    if self.decayed and not self.decoupled:
      value += self.weight_decay * l2_penalty(self.decayed)
    return value

  def apply(self, batch: Batch) -> tf.Tensor:
    """One update on `batch` (uncompiled; e.g. to run inside `strategy.run`)."""
    value, grads = loss_and_gradients(lambda: self.objective(batch), self.variables)
    self.optimizer.apply_gradients([(g, v) for g, v in zip(grads, self.variables)
                                    if g is not None])
    if self.decayed and self.decoupled:
      shrink = 1.0 - tf.cast(self.optimizer.learning_rate, tf.float32) * self.weight_decay
      for v in self.decayed:
        v.assign(v * shrink)
    return value

  def _signed_function(self, has_labels: bool, has_rows: bool):
    """The one compiled function of batches with (or without) labels and rows."""
    key = (has_labels, has_rows)
    if key not in self._signed:
      index = tf.TensorSpec([None], tf.int32)
      signature = [self._input_specs] + [index] * (has_labels + has_rows)

      def step(inputs, *rest):
        rest = list(rest)
        labels = rest.pop(0) if has_labels else None
        rows = rest.pop(0) if has_rows else None
        return self.apply(Batch(inputs, labels, rows))
      self._signed[key] = tf.function(step, input_signature=signature)
    return self._signed[key]

  def __call__(self, batch: Batch) -> tf.Tensor:
    batch = batch.as_tensors()
    if not self.input_signature:
      return self._compiled(dict(batch.inputs), batch.labels, batch.rows, dict(batch.targets))
    if batch.targets:
      raise ValueError("TrainStep(input_signature=True) takes batches of model inputs, labels "
                       "and rows only; pass per-batch targets without input_signature.")
    function = self._signed_function(batch.labels is not None, batch.rows is not None)
    args = [a for a in (batch.labels, batch.rows) if a is not None]
    return function(feeds.select(batch.inputs, self.input_names), *args)
