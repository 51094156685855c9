"""The training engine: one loop for every method (teacher training, distillation,
binarization stages, federated clients, data-parallel workers, GFKD's generator).

    from edgegnn import engine
    result = engine.fit(model, loss, batches, epochs=200, learning_rate=0.01,
                        weight_decay=5e-4,
                        early_stopping=engine.EarlyStopping(validate, patience=50),
                        checkpoint_dir="ckpt")

A method supplies only its loss (or, where it must, its own step); the engine owns the
GradientTape, the optimizer, weight decay (`decayed_variables`), learning-rate schedules,
early stopping with best weights, checkpoints and resume, and progress; after `fit`,
`reestimate_batch_norm(model, statistics_feeds(model, task, batch_size))` sets BatchNorm's
statistics to those of the final weights.

The batch format (`Batch`): one optimisation step's data.

  inputs:  the model's input feeds, keyed by input name (`feeds.graph_feed` /
           `feeds.batch_feed` / a sampled subgraph's feed); the model is called with the
           ones it takes (`feeds.select`), the loss sees them all.
  labels:  int32 class ids, one per loss row (None for losses without labels).
  rows:    int32 indices of the model's output rows that carry the loss, in the order of
           `labels`: the labelled training nodes of a full graph, or the SEED nodes of a
           sampled subgraph (their positions in that subgraph). None: every output row
           (a graph batch: one row per graph).
  targets: other per-batch tensors the loss reads, by name (e.g. teacher outputs); {} if
           none.

`batches` is an iterable of `Batch` re-read every epoch (full-graph training is the
one-element list `[Batch(...)]`), or a callable `epoch -> iterable of Batch` (shuffled or
sampled batches: seed it with the epoch so that a resumed run draws the same batches).
The loss is `loss(outputs, batch) -> scalar`, where `outputs` is the dict the model (or
`outputs_model`, a model sharing its weights that also returns hidden states) returns in
training mode for `batch.inputs`; `cross_entropy_loss` is the labelled-rows CE.
"""
from edgegnn.engine.batch_norm import reestimate_batch_norm, statistics_feeds
from edgegnn.engine.batches import Batch, graph_batches, node_batch
from edgegnn.engine.decay import decayed_variables, l2_penalty
from edgegnn.engine.early_stopping import EarlyStopping
from edgegnn.engine.evaluation import accuracy, cross_entropy, evaluate, predict
from edgegnn.engine.fit import FitResult, cross_entropy_loss, fit, logits_loss
from edgegnn.engine.schedules import halving
from edgegnn.engine.steps import TrainStep, loss_and_gradients

__all__ = ["Batch", "graph_batches", "node_batch", "decayed_variables", "l2_penalty",
           "EarlyStopping", "accuracy", "cross_entropy", "evaluate", "predict", "FitResult",
           "cross_entropy_loss", "fit", "logits_loss", "halving", "TrainStep", "loss_and_gradients",
           "reestimate_batch_norm", "statistics_feeds"]
