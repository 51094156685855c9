"""Soft-target knowledge distillation (Hinton, Vinyals, Dean 2015).

With teacher logits t, student logits s, temperature T and p_T(z) = softmax(z / T):

    L_soft = T^2 * 1/|R| sum_{v in R} KL(p_T(t_v) || p_T(s_v))
           = T^2 * 1/|R| sum_v sum_c p_T(t_v)_c (log p_T(t_v)_c - log p_T(s_v)_c)

    L_KD = alpha * CE(s_L, y_L) + (1 - alpha) * L_soft

R are the rows that get soft targets (all nodes for GLNN, the batch for graph tasks),
L the labelled rows. The T^2 factor keeps the soft gradients' scale independent of T
(d L_soft / d s ~ 1/T). The teacher side is wrapped in `tf.stop_gradient`.
"""
from __future__ import annotations

from typing import Optional

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf


def _check(temperature: float, alpha: Optional[float] = None) -> None:
  if not temperature > 0:
    raise ValueError(f"temperature must be > 0, got {temperature}; 1 is plain soft labels.")
  if alpha is not None and not 0.0 <= alpha <= 1.0:
    raise ValueError(f"alpha (weight of the label loss) must be in [0, 1], got {alpha}.")


def soft_target_loss(student_logits: tf.Tensor, teacher_logits: tf.Tensor,
                     temperature: float = 1.0) -> tf.Tensor:
  """L_soft = T^2 * mean_v KL(p_T(t_v) || p_T(s_v)) (see module doc); a scalar."""
  _check(temperature)
  teacher_log_p = tf.nn.log_softmax(tf.stop_gradient(teacher_logits) / temperature, -1)
  student_log_p = tf.nn.log_softmax(student_logits / temperature, -1)
  kl = tf.reduce_sum(tf.exp(teacher_log_p) * (teacher_log_p - student_log_p), -1)
  return temperature ** 2 * tf.reduce_mean(kl)


def soft_label_loss(student_log_probs: tf.Tensor, teacher_probs: tf.Tensor) -> tf.Tensor:
  """Cross-entropy with soft targets: -mean_v sum_c q_vc log p_vc (CPF's objective)."""
  return -tf.reduce_mean(tf.reduce_sum(tf.stop_gradient(teacher_probs) * student_log_probs, -1))


def kd_loss(student_logits: tf.Tensor, teacher_logits: tf.Tensor, labels: tf.Tensor,
            temperature: float = 1.0, alpha: float = 0.5,
            label_rows: Optional[tf.Tensor] = None,
            soft_rows: Optional[tf.Tensor] = None) -> tf.Tensor:
  """L_KD = alpha * CE(s[label_rows], labels) + (1 - alpha) * L_soft(s[soft_rows], t[soft_rows]).

  Args:
    student_logits: [N, C] student logits.
    teacher_logits: [N, C] teacher logits (no gradient flows into them).
    labels: int class ids of the `label_rows` (or of all rows when None).
    temperature: T > 0.
    alpha: weight of the label cross-entropy in [0, 1].
    label_rows: row indices with labels (None: all rows).
    soft_rows: row indices with soft targets (None: all rows).
  """
  _check(temperature, alpha)
  gather = lambda x, rows: x if rows is None else tf.gather(x, rows)
  total = tf.constant(0.0)
  if alpha > 0:
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(
        tf.cast(labels, tf.int32), gather(student_logits, label_rows))
    total += alpha * tf.reduce_mean(ce)
  if alpha < 1:
    total += (1.0 - alpha) * soft_target_loss(
        gather(student_logits, soft_rows), gather(teacher_logits, soft_rows), temperature)
  return total
