"""Local structure preserving (LSP) distillation (Yang et al., CVPR 2020).

The local structure of node i is a distribution over its in-neighbours j (edges j -> i):

    LS_ij = exp(s(z_i, z_j) / tau) / sum_{k in N(i)} exp(s(z_i, z_k) / tau)

with a similarity kernel s of the embeddings z (chosen by alias, see `KERNELS`) and a
kernel temperature tau > 0 (1 in the paper; tau < 1 sharpens both local structures alike):

| kernel | s(z_i, z_j) |
|---|---|
| distance | -||z_i - z_j||^2 (the seed's SIM, negated so that nearer means more similar) |
| rbf | exp(-||z_i - z_j||^2 / (2 sigma^2)) |
| linear | <z_i, z_j> |
| hamming | exp(-H(z_i, z_j)), H = (C - <z_i, z_j>) / 2, the Hamming distance of +-1 codes |
| unit_distance | -||u_i - u_j||^2 = 2 cos(z_i, z_j) - 2, u = z / ||z|| (0 for a zero row) |

The LSP loss is a KL divergence between the student's and the teacher's local structures,
averaged over the nodes that have at least one in-neighbour. The direction is an option
(`DIRECTIONS`):

    student_teacher (default, the paper's text):
      L_LSP = 1/|V'| sum_i KL(LS^S_i || LS^T_i) = 1/|V'| sum_i sum_j LS^S_ij (log LS^S_ij - log LS^T_ij)
    teacher_student (what the authors' public code computes):
      L_LSP = 1/|V'| sum_i KL(LS^T_i || LS^S_i) = 1/|V'| sum_i sum_j LS^T_ij (log LS^T_ij - log LS^S_ij)

and training minimises L = CE + lambda * L_LSP. The default follows the paper's equation;
teacher_student weighs each neighbour by the teacher's probability (mass-covering: the
student is penalised for missing a neighbour the teacher attends to), student_teacher by
the student's own (mode-seeking).

Why `unit_distance` (the `DistillConfig` default): `distance` is not scale invariant. A
student can lower KL(LS^S || LS^T) toward a flat teacher structure by shrinking its
embeddings (all neighbour distances -> 0), which at the logits works against the
cross-entropy. On Cora the GAT teacher's local structure is close to uniform under both
kernels (docs/distillation.md, `--teacher-structure`), and with `distance` at conv0 and the
logits a hidden-8 GCN student lost 4 pt to the same GCN without KD (seed 0). Unit rows
compare directions only: the kernel lies in [-4, 0] for both models whatever their width
(8 vs 64) and scale, and rescaling cannot lower the loss.

Gradients flow into the student only (the teacher's embeddings are wrapped in `tf.stop_gradient`). For models with a dynamic
graph (EdgeConv) compare both on the union of their edges (`union_edges`, the "virtual
edges" of the paper).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.distill.config import LSP_DIRECTIONS, LSP_KERNELS


def _squared_distance(z_i, z_j):
  return tf.reduce_sum(tf.square(z_i - z_j), axis=-1)


_KERNELS: dict[str, Callable[..., tf.Tensor]] = {
    "distance": lambda z_i, z_j, sigma: -_squared_distance(z_i, z_j),
    "rbf": lambda z_i, z_j, sigma: tf.exp(-_squared_distance(z_i, z_j) / (2.0 * sigma ** 2)),
    "linear": lambda z_i, z_j, sigma: tf.reduce_sum(z_i * z_j, axis=-1),
    "hamming": lambda z_i, z_j, sigma: tf.exp(
        -(tf.cast(tf.shape(z_i)[-1], z_i.dtype) - tf.reduce_sum(z_i * z_j, axis=-1)) / 2.0),
    "unit_distance": lambda z_i, z_j, sigma: -_squared_distance(
        tf.math.l2_normalize(z_i, -1), tf.math.l2_normalize(z_j, -1)),
}

KERNELS = LSP_KERNELS
DIRECTIONS = LSP_DIRECTIONS
assert tuple(_KERNELS) == KERNELS


def get_kernel(name: str) -> Callable[..., tf.Tensor]:
  """Returns the similarity kernel for alias `name`; unknown names are rejected."""
  if name not in _KERNELS:
    raise ValueError(f"Unknown LSP kernel {name!r}; expected one of {', '.join(KERNELS)}.")
  return _KERNELS[name]


def local_structure(embeddings: tf.Tensor, edge_source: tf.Tensor, edge_target: tf.Tensor,
                    num_nodes, kernel: str = "distance", sigma: float = 1.0,
                    log: bool = True, temperature: float = 1.0) -> tf.Tensor:
  """Per-edge (log-)probabilities LS_ij of the edge j -> i (j = source, i = target), [E]."""
  similarity_fn = get_kernel(kernel)
  _check_temperature(temperature)
  z_i = tf.gather(embeddings, edge_target)
  z_j = tf.gather(embeddings, edge_source)
  scores = similarity_fn(z_i, z_j, sigma) / temperature
  peak = tf.math.unsorted_segment_max(scores, edge_target, num_nodes)
  shifted = scores - tf.stop_gradient(tf.gather(peak, edge_target))
  normaliser = tf.math.unsorted_segment_sum(tf.exp(shifted), edge_target, num_nodes)
  log_probs = shifted - tf.math.log(tf.gather(normaliser, edge_target))
  return log_probs if log else tf.exp(log_probs)


def _check_temperature(temperature: float) -> None:
  if not temperature > 0:
    raise ValueError(f"LSP kernel temperature must be > 0, got {temperature}; 1 is the "
                     "paper's kernel.")


def check_direction(direction: str) -> None:
  """Rejects an unknown KL direction, naming the valid ones."""
  if direction not in DIRECTIONS:
    raise ValueError(f"Unknown LSP direction {direction!r}; expected one of "
                     f"{', '.join(DIRECTIONS)}.")


def lsp_loss(student: tf.Tensor, teacher: tf.Tensor, edge_source, edge_target, num_nodes,
             kernel: str = "distance", sigma: float = 1.0, temperature: float = 1.0,
             direction: str = "student_teacher") -> tf.Tensor:
  """L_LSP: mean over nodes with in-neighbours of KL(LS^S_i || LS^T_i) (direction
  student_teacher) or KL(LS^T_i || LS^S_i) (teacher_student); see module doc."""
  get_kernel(kernel)
  check_direction(direction)
  edge_source = tf.convert_to_tensor(edge_source, tf.int32)
  edge_target = tf.convert_to_tensor(edge_target, tf.int32)
  log_s = local_structure(student, edge_source, edge_target, num_nodes, kernel, sigma,
                          temperature=temperature)
  log_t = local_structure(tf.stop_gradient(teacher), edge_source, edge_target, num_nodes,
                          kernel, sigma, temperature=temperature)
  if direction == "student_teacher":
    per_edge = tf.exp(log_s) * (log_s - log_t)
  else:
    per_edge = tf.exp(log_t) * (log_t - log_s)
  per_node = tf.math.unsorted_segment_sum(per_edge, edge_target, num_nodes)
  has_neighbours = tf.math.unsorted_segment_max(tf.ones_like(per_edge), edge_target, num_nodes)
  has_neighbours = tf.cast(has_neighbours > 0, per_node.dtype)
  return tf.reduce_sum(per_node * has_neighbours) / tf.maximum(tf.reduce_sum(has_neighbours), 1.0)


def union_edges(source_a, target_a, source_b, target_b) -> tuple[np.ndarray, np.ndarray]:
  """The union of two edge lists (e.g. teacher's and student's k-NN graphs), deduplicated."""
  source = np.concatenate([np.asarray(source_a), np.asarray(source_b)]).astype(np.int64)
  target = np.concatenate([np.asarray(target_a), np.asarray(target_b)]).astype(np.int64)
  key = np.unique(target * (max(source.max(initial=0), target.max(initial=0)) + 1) + source)
  width = max(source.max(initial=0), target.max(initial=0)) + 1
  return (key % width).astype(np.int32), (key // width).astype(np.int32)
