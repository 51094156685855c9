"""The `binarize` stage: staged distillation of an FP32 teacher into a fully binary GNN.

    result = binarize(teacher, dataset, BinarizeConfig.from_dict({...}), seed=0)

Stages (Bahri et al., CVPR 2021, cascaded distillation):

  1. FP32 teacher -> intermediate: the binary architecture with binary weights and real
     (tanh) activations, trained from scratch.
  2. intermediate -> student: the same architecture fully binary, initialised with the
     intermediate's weights, distilled from the intermediate (`final_teacher:
     intermediate`, the cascade) or from the FP32 teacher again (`final_teacher:
     teacher`), at `final_learning_rate` (a fine-tuning step; default `learning_rate`).

Each stage minimises

    L = CE(y, s) + alpha T^2 KL(softmax(t / T) || softmax(s / T))
        + lambda sum_l L_LSP(z^S_l, z^T_l)

with s, t the student's and teacher's logits (soft targets on every node of a node task,
every graph of a batch for a graph task) and L_LSP (`edgegnn.distill.lsp`) at the points
where the models compute graphs: node tasks compare the hidden states of the l-th graph
layers on the data edges; point clouds compare the node states each k-NN graph is built
from, on the union of the teacher's and the student's k-NN edges (deduplicated). Layers
are paired in order (as many as the shorter model has). Embeddings are L2-normalised,
and for the hamming kernel scaled to norm sqrt(C), so +-1 codes are used as they are
(s_ij = exp(-H_ij), H the Hamming distance). Stage 1 uses `lsp_kernel` (real
features), stage 2 `binary_lsp_kernel`.

T < 1 sharpens the soft targets: softmax(t / T) -> one-hot argmax t as T -> 0. A
weight-decayed GCN teacher on a citation graph is under-confident (Cora: mean max
softmax(t) = 0.44 over 7 classes); its T = 2 targets are near uniform (0.28) and pulled a
binary student 5-10 pt below the one trained on labels alone, T = 0.25 lifted it above.

`scratch: true` also trains the binary student from scratch (CE only, for as many epochs
as both stages together) for comparison. Early stopping keeps the weights with the best
validation accuracy (ties: lower loss) when the dataset has a validation split.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Optional

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn import engine
from edgegnn import layers as gl
from edgegnn.binary import knn
from edgegnn.binary.edge_conv import BinEdgeConv, XorEdgeConv
from edgegnn.binary.config import BinarizeConfig, BinarySpec
from edgegnn.binary.models import build_binary_model
from edgegnn.binary.summary import binary_summary
from edgegnn.distill import lsp
from edgegnn.distill.soft_targets import soft_target_loss
from edgegnn.models import feeds
from edgegnn.training.tasks import NodeTask, make_task
from edgegnn.training.trainer import has_validation, task_batches

_GRAPH_LAYERS = (gl.GCNConv, gl.SAGEConv, gl.GATConv, gl.MessagePassing, gl.GINConv,
                 gl.EdgeConv, BinEdgeConv, XorEdgeConv)


@dataclasses.dataclass
class BinarizeResult:
  """The binary student (training layout), its metrics, per-stage metrics and figures."""
  model: Optional[tf.keras.Model]
  spec: BinarySpec
  metrics: dict[str, Any]
  stages: list[dict[str, Any]]
  scratch_model: Optional[tf.keras.Model] = None


def graph_states(model: tf.keras.Model) -> list[Any]:
  """The node states where `model` computes graphs (see the module docstring), in order.

  Node models: outputs of every graph layer but the last (which gives the logits).
  k-NN models: inputs of every graph layer but the first (raw points), i.e. the outputs
  of the graph layers but the last.
  """
  found = [layer for layer in model.layers if isinstance(layer, _GRAPH_LAYERS)]
  return [layer.output for layer in found[:-1]]


def _knn_metrics(model: tf.keras.Model) -> list[tuple[str, int]]:
  """(metric, k) of the k-NN graph built from each of `graph_states(model)`."""
  found = [layer for layer in model.layers if isinstance(layer, _GRAPH_LAYERS)]
  result = []
  for layer in found[1:]:
    metric = getattr(layer, "metric", "euclidean")
    result.append((metric, int(getattr(layer, "k", 8))))
  return result


def _probe(model: tf.keras.Model) -> tf.keras.Model:
  return tf.keras.Model(model.inputs, [model.output["logits"]] + graph_states(model))


def _embedding(z: tf.Tensor, kernel: str) -> tf.Tensor:
  unit = tf.math.l2_normalize(z, axis=-1)
  if kernel == "hamming":
    return unit * tf.sqrt(tf.cast(tf.shape(z)[-1], z.dtype))
  return unit


def _union(source_a, target_a, source_b, target_b, num_nodes):
  """Deduplicated union of two edge lists (TF form of `lsp.union_edges`)."""
  key = tf.concat([target_a * num_nodes + source_a, target_b * num_nodes + source_b], 0)
  key, _ = tf.unique(key)
  return key % num_nodes, key // num_nodes


class _Stage:
  """One training run: student (+ optional frozen teacher) with the loss of the module."""

  def __init__(self, student, teacher, task, config: BinarizeConfig, kernel: str,
               seed: int, epochs: int, name: str, learning_rate: Optional[float] = None):
    self.student, self.teacher, self.task, self.config = student, teacher, task, config
    self.kernel, self.seed, self.epochs, self.name = kernel, seed, epochs, name
    self.learning_rate = learning_rate or config.learning_rate
    self.student_probe = _probe(student)
    self.teacher_probe = _probe(teacher) if teacher is not None else None
    self.student_names = feeds.model_input_names(student)
    self.teacher_names = feeds.model_input_names(teacher) if teacher is not None else []
    pairs = 0
    if teacher is not None and config.lsp_weight > 0:
      pairs = min(len(graph_states(student)), len(graph_states(teacher)))
    self.pairs = pairs
    self.student_knn = _knn_metrics(student)
    self.teacher_knn = _knn_metrics(teacher) if teacher is not None else []
    rate = self.learning_rate
    if config.lr_schedule == "cosine":
      steps = 1 if isinstance(task, NodeTask) else -(-len(task.split("train"))
                                                     // config.batch_size)
      rate = tf.keras.optimizers.schedules.CosineDecay(rate, steps * epochs)
    self.rate = rate  # A float or a schedule of the step.
    self.optimizer = tf.keras.optimizers.Adam(rate)

  def _lsp_terms(self, s_states, t_states, feed):
    total = 0.0
    for i in range(self.pairs):
      z_s = _embedding(s_states[i], self.kernel)
      z_t = _embedding(t_states[i], self.kernel)
      num_nodes = tf.shape(z_s)[0]
      if isinstance(self.task, NodeTask):
        source, target = feed["edge_source"], feed["edge_target"]
      else:
        membership = tf.transpose(tf.one_hot(feed["node_graph_index"],
                                             tf.reduce_max(feed["node_graph_index"]) + 1))
        candidates = tf.matmul(membership, membership, transpose_a=True)
        s_metric, s_k = self.student_knn[i]
        t_metric, t_k = self.teacher_knn[i]
        s_src, s_tgt = knn.knn_edges(tf.stop_gradient(s_states[i]), candidates, s_k, s_metric)
        t_src, t_tgt = knn.knn_edges(t_states[i], candidates, t_k, t_metric)
        source, target = _union(s_src, s_tgt, t_src, t_tgt, num_nodes)
      total += lsp.lsp_loss(z_s, z_t, source, target, num_nodes, kernel=self.kernel,
                            sigma=self.config.lsp_sigma)
    return total

  def _loss(self, outputs, batch: engine.Batch) -> tf.Tensor:
    """The module's loss of the student's training-mode `outputs` (logits, graph states)."""
    logits, s_states = outputs[0], outputs[1:]
    chosen = tf.gather(logits, batch.rows) if batch.rows is not None else logits
    loss = engine.cross_entropy(chosen, batch.labels)
    if self.teacher_probe is not None:
      t_outs = self.teacher_probe(feeds.select(batch.inputs, self.teacher_names),
                                  training=False)
      t_logits, t_states = t_outs[0], t_outs[1:]
      if self.config.kd_weight:
        loss += self.config.kd_weight * soft_target_loss(logits, t_logits,
                                                         self.config.temperature)
      if self.pairs:
        loss += self.config.lsp_weight * self._lsp_terms(s_states, t_states, batch.inputs)
    return loss

  def run(self) -> dict[str, Any]:
    tf.keras.utils.set_random_seed(self.seed)
    task, model = self.task, self.student
    early_stopping = (engine.EarlyStopping(lambda: engine.evaluate(model, task, "val"),
                                           self.config.patience)
                      if has_validation(task) else None)
    fitted = engine.fit(model, self._loss, task_batches(task, self.config.batch_size, self.seed),
                        epochs=self.epochs, optimizer=self.optimizer,
                        outputs_model=self.student_probe, early_stopping=early_stopping,
                        description=self.name)
    before = {}
    if self.config.reestimate_batch_norm:
      before = {f"{split}_accuracy_before_batch_norm": engine.evaluate(model, task, split)[0]
                for split in ("val", "test")}
      before["batch_norm_reestimated"] = engine.reestimate_batch_norm(
          model, engine.statistics_feeds(model, task, self.config.batch_size))
    metrics = {"stage": self.name, "epochs_run": fitted.epochs_run,
               "teacher": self.teacher.name if self.teacher is not None else None,
               "learning_rate": self.learning_rate,
               "seconds": round(fitted.seconds, 2),
               "val_history": [round(r["val_accuracy"], 4) for r in fitted.history
                               if "val_accuracy" in r]}
    metrics.update(before)
    for split in ("train", "val", "test"):
      metrics[f"{split}_accuracy"] = engine.evaluate(model, task, split)[0]
    return metrics


# The pipeline's name for `edgegnn.engine.predict` (logits of every node, or of the graphs
# `index`).
predict_logits = engine.predict


def _build(spec: BinarySpec, precision: str, dataset, task) -> tf.keras.Model:
  return build_binary_model(spec, precision=precision, num_features=dataset.num_features,
                            num_classes=dataset.num_classes,
                            batched=not isinstance(task, NodeTask))


def export_model(model: tf.keras.Model, spec: BinarySpec, dataset,
                 precision: str = "binary") -> tf.keras.Model:
  """The export form of a trained binary model (static shapes, as LCE needs): node
  models for the dataset's graph (N nodes, E edges), point-cloud models for one graph
  padded to `dataset.max_nodes` (dense layout: node_features + node_mask)."""
  if spec.task == "node":
    graph = dataset.graph
    export = build_binary_model(spec, precision=precision, num_features=dataset.num_features,
                                num_classes=dataset.num_classes, capacity=graph.num_nodes,
                                num_edges=graph.num_edges)
  else:
    export = build_binary_model(spec, precision=precision, num_features=dataset.num_features,
                                num_classes=dataset.num_classes, layout="dense",
                                capacity=dataset.max_nodes)
  export.set_weights(model.get_weights())
  return export


def binarize(teacher: Optional[tf.keras.Model], dataset, config: BinarizeConfig, *,
             seed: int = 0, fold: int = 0) -> BinarizeResult:
  """Distils `teacher` (a trained FP32 model of the zoo contract) into a binary model.

  Args:
    teacher: the FP32 teacher (training layout: the one `train` returns); None only
      with `staged: false`.
    dataset: the dataset the teacher was trained on.
    config: stages, loss weights and the binary architecture.
    seed, fold: random seed; fold of a graph dataset.

  Returns:
    `BinarizeResult`: `model` the staged binary student (None if not staged),
    `metrics` (test/val accuracy of the student, the teacher's, scratch's if run, and
    `binary_summary` figures of the export form), `stages` per-stage metrics.
  """
  spec = config.spec
  task = make_task(dataset, fold)
  if (task.kind == "node") != (spec.task == "node"):
    raise ValueError(f"binarize.model.architecture {spec.architecture!r} is a {spec.task}-"
                     f"level model but {dataset.name} is a {task.kind}-level dataset.")
  if config.staged and teacher is None:
    raise ValueError("binarize: the staged distillation needs a teacher model.")
  stages, metrics = [], {"seed": seed, "fold": fold}
  student = None
  if config.staged:
    metrics["teacher_test_accuracy"] = engine.evaluate(teacher, task, "test")[0]
    tf.keras.utils.set_random_seed(seed)
    intermediate = _build(spec, "binary_weights", dataset, task)
    stages.append(_Stage(intermediate, teacher, task, config, config.lsp_kernel, seed,
                         config.epochs, "binary_weights").run())
    tf.keras.utils.set_random_seed(seed)
    student = _build(spec, "binary", dataset, task)
    student.set_weights(intermediate.get_weights())
    final_teacher = intermediate if config.final_teacher == "intermediate" else teacher
    stages.append(_Stage(student, final_teacher, task, config, config.binary_lsp_kernel,
                         seed, config.epochs, "binary",
                         learning_rate=config.final_learning_rate).run())
    metrics.update({f"{s}_accuracy": stages[-1][f"{s}_accuracy"] for s in ("val", "test")})
    metrics["summary"] = {k: v for k, v in binary_summary(
        export_model(student, spec, dataset)).items() if k != "larq_summary"}
  scratch = None
  if config.scratch:
    tf.keras.utils.set_random_seed(seed)
    scratch = _build(spec, "binary", dataset, task)
    scratch_metrics = _Stage(scratch, None, task, config, config.binary_lsp_kernel, seed,
                             2 * config.epochs if config.staged else config.epochs,
                             "scratch").run()
    stages.append(scratch_metrics)
    metrics["scratch_test_accuracy"] = scratch_metrics["test_accuracy"]
    if not config.staged:
      metrics.update({f"{s}_accuracy": scratch_metrics[f"{s}_accuracy"]
                      for s in ("val", "test")})
      metrics["summary"] = {k: v for k, v in binary_summary(
          export_model(scratch, spec, dataset)).items() if k != "larq_summary"}
  return BinarizeResult(model=student if config.staged else scratch, spec=spec,
                        metrics=metrics, stages=stages, scratch_model=scratch)
