"""The distillation entry point: `distill(teacher, student, dataset, config, seed)`.

    config = DistillConfig(method="glnn", alpha=0.0, temperature=1.0)
    result = distill(teacher_model, None, load("cora"), config, seed=0)
    result.model           # the trained student (a Keras model returning {"logits"})
    result.metrics         # train/val/test accuracy, teacher_test_accuracy, ...

The student is any functional Keras model of the zoo's input contract whose output dict
has "logits" (float, quantization-aware or binary): a prebuilt `tf.keras.Model`, a
`ModelSpec` (built with `build_model`), or None for methods that build their own
(glnn: `GLNN_STUDENT` MLP; cpf: the PLP + FT student). The teacher is a trained model of
the same contract (unused by gnn-sd).
"""
from __future__ import annotations

from typing import Optional, Union

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.data import GraphClassificationDataset, NodeClassificationDataset
from edgegnn.distill import cpf, gfkd, methods, node_trainer, self_distillation, soft_targets
from edgegnn.distill.config import GLNN_STUDENT, DistillConfig
from edgegnn.distill.lsp import lsp_loss
from edgegnn.models import ModelSpec, build_model
from edgegnn.engine import accuracy
from edgegnn.training.trainer import TrainResult

Student = Optional[Union[tf.keras.Model, ModelSpec]]


def cpf_student_arguments(dataset, config: DistillConfig) -> dict:
  """The keyword arguments of `cpf.build_cpf_student` besides the widths and the prior:
  the graph's node count and `config`'s cpf_* options (what a saved CPF student is rebuilt
  from; its prior is in its weights)."""
  return {"num_nodes": dataset.graph.num_nodes, "num_steps": config.cpf_steps,
          "confidence": config.cpf_confidence, "hidden_units": config.cpf_hidden_units,
          "dropout": config.cpf_dropout, "edge_dropout": config.cpf_edge_dropout}


def _build_student(student: Student, method: methods.Method, dataset, config: DistillConfig,
                   seed: int) -> tf.keras.Model:
  tf.keras.utils.set_random_seed(seed)
  if isinstance(student, tf.keras.Model):
    return student
  if student is None and method.name == "cpf":
    return cpf.build_cpf_student(
        dataset.num_features, dataset.num_classes,
        labelled_index=dataset.train_index, labels=dataset.labels[dataset.train_index],
        **cpf_student_arguments(dataset, config))
  if student is None and method.name == "glnn":
    student = GLNN_STUDENT
  if isinstance(student, ModelSpec):
    if method.name == "glnn" and student.architecture != "mlp":
      raise ValueError(f"glnn distils into an MLP student; got architecture "
                       f"{student.architecture!r}. Use method kd for a GNN student.")
    batched = dataset.task == "graph"
    return build_model(student, num_features=dataset.num_features,
                       num_classes=dataset.num_classes, task=dataset.task, layout="sparse",
                       batched=batched)
  raise ValueError(f"Method {method.name} needs a student (a tf.keras.Model or a ModelSpec); "
                   f"only {', '.join(m for m in methods.METHODS if methods.get(m).builds_student)}"
                   " build their own.")


def _soft_rows(dataset, which: str) -> Optional[np.ndarray]:
  if which == "all":
    return None
  train = np.zeros(dataset.graph.num_nodes, bool)
  train[dataset.train_index] = True
  return np.flatnonzero(~train if which == "unlabelled" else train).astype(np.int32)


def _conv_layers(model: tf.keras.Model) -> list[str]:
  names = [l.name for l in model.layers if l.name.startswith("conv") and l.name[4:].isdigit()]
  return sorted(names, key=lambda n: int(n[4:]))


def _node_objective(method: methods.Method, config: DistillConfig, dataset,
                    teacher: Optional[tf.keras.Model], student: tf.keras.Model):
  """(objective, student hidden layers it reads)."""
  graph = dataset.graph
  source = tf.constant(graph.edge_source, tf.int32)
  target = tf.constant(graph.edge_target, tf.int32)
  num_nodes = graph.num_nodes
  train_rows = tf.constant(dataset.train_index, tf.int32)
  train_labels = tf.constant(dataset.labels[dataset.train_index], tf.int32)

  def soft_rows():   # the rows of config.soft_nodes (kd, glnn, lsp)
    rows = _soft_rows(dataset, config.soft_nodes)
    return None if rows is None else tf.constant(rows)

  def ce(logits):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        train_labels, tf.gather(logits, train_rows)))

  if method.name in ("kd", "glnn"):
    teacher_logits = tf.constant(node_trainer.node_outputs(teacher, dataset)["logits"])
    kd_rows = soft_rows()
    return (lambda out: soft_targets.kd_loss(
        out["logits"], teacher_logits, train_labels, config.temperature, config.alpha,
        label_rows=train_rows, soft_rows=kd_rows)), ()

  if method.name == "cpf":
    teacher_probs = tf.nn.softmax(
        node_trainer.node_outputs(teacher, dataset)["logits"] / config.temperature, -1)
    rows = tf.constant(_soft_rows(dataset, "unlabelled"))
    targets = tf.gather(teacher_probs, rows)
    return (lambda out: soft_targets.soft_label_loss(
        tf.nn.log_softmax(tf.gather(out["logits"], rows), -1), targets)), ()

  if method.name == "lsp":
    pairs = config.lsp_pairs()
    teacher_out = node_trainer.node_outputs(teacher, dataset, [t for _, t in pairs])
    teacher_states = {t: tf.constant(teacher_out[t]) for _, t in pairs}
    teacher_logits = tf.constant(teacher_out["logits"])
    lsp_rows = soft_rows()

    def lsp_objective(out):
      loss = config.alpha * ce(out["logits"])
      if config.alpha < 1:
        loss += (1 - config.alpha) * soft_targets.soft_target_loss(
            out["logits"] if lsp_rows is None else tf.gather(out["logits"], lsp_rows),
            teacher_logits if lsp_rows is None else tf.gather(teacher_logits, lsp_rows),
            config.temperature)
      for s, t in pairs:
        loss += config.lsp_weight * lsp_loss(out[s], teacher_states[t], source, target,
                                             num_nodes, config.lsp_kernel, config.lsp_sigma,
                                             config.lsp_temperature, config.lsp_direction)
      return loss
    return lsp_objective, tuple(s for s, _ in pairs)

  if method.name == "gnn-sd":
    layers = list(config.sd_layers) or _conv_layers(student)[:-1]   # hidden layers
    if len(layers) < 2:
      raise ValueError(f"gnn-sd needs at least two layers to retain discrepancy; student "
                       f"{student.name} offers {layers}. Set distill.sd_layers.")

    def sd_objective(out):
      ndr = [self_distillation.neighborhood_discrepancy(
                 out[name], source, target, num_nodes, self_loops=config.sd_self_loops)
             for name in layers]
      return ce(out["logits"]) + config.sd_weight * self_distillation.adr_loss(
          ndr, config.sd_gate)
    return sd_objective, tuple(layers)
  raise AssertionError(method.name)


def distill(teacher: Optional[tf.keras.Model], student: Student, dataset,
            config: DistillConfig, *, seed: int = 0, fold: int = 0,
            progress: bool = False) -> TrainResult:
  """Trains a student with `config.method` and returns it with its metrics.

  Args:
    teacher: the trained teacher (inference only; None for gnn-sd).
    student: a prebuilt Keras model, a `ModelSpec`, or None (glnn, cpf build theirs).
    dataset: `NodeClassificationDataset` (kd, lsp, glnn, cpf, gnn-sd) or
      `GraphClassificationDataset` (gfkd: only the teacher and generated graphs reach the
      student's training; the dataset's fold `fold` test graphs are used to evaluate).
    config: the method and its hyper-parameters.
    seed: seeds the student's initialisation and training.
    fold: the test fold of a graph dataset.

  Returns:
    TrainResult(model=student, metrics={..., "method", "teacher_test_accuracy"}, history).
  """
  method = methods.get(config.method)
  if method.needs_teacher and teacher is None:
    raise ValueError(f"Method {method.name} distils a teacher; pass a trained teacher model.")
  if method.task == "node" and not isinstance(dataset, NodeClassificationDataset):
    raise ValueError(f"Method {method.name} is for node classification; use gfkd for "
                     "graph classification datasets.")
  if method.task == "graph" and not isinstance(dataset, GraphClassificationDataset):
    raise ValueError(f"Method {method.name} is for graph classification datasets.")
  model = _build_student(student, method, dataset, config, seed)
  if method.task == "graph":
    result = gfkd.distill_graph_free(teacher, model, dataset, config, seed=seed, fold=fold)
  else:
    objective, hidden = _node_objective(method, config, dataset, teacher, model)
    result = node_trainer.fit_node_student(
        model, dataset, objective, epochs=config.epochs, learning_rate=config.learning_rate,
        weight_decay=config.weight_decay, patience=config.patience, hidden=hidden, seed=seed,
        progress=progress, description=method.name)
    if teacher is not None:
      logits = node_trainer.node_outputs(teacher, dataset)["logits"]
      result.metrics["teacher_test_accuracy"] = accuracy(
          logits[dataset.test_index], dataset.labels[dataset.test_index])
  result.metrics["method"] = method.name
  return result
