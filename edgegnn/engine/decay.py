"""Which variables weight decay applies to: one rule for every method.

A trainable variable is decayed when its own name (the last path component, without the
`:0`) ends in `kernel` or `vector`: the weight matrices of dense, convolution, binary and
sparse-feature layers (`kernel`, CPF's `confidence_kernel`) and GAT's attention vectors
(`source_vector`, `target_vector`, `general_vector`). Biases, batch-norm scales and
offsets, GIN's epsilon, binary scales, CPF's gates and quantizer ranges are not. A GAT
teacher and a GAT student are thereby decayed alike.
"""
from __future__ import annotations

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

DECAYED_SUFFIXES = ("kernel", "vector")


def variable_leaf_name(variable: tf.Variable) -> str:
  """`conv0/gat/source_vector:0` -> `source_vector`."""
  return variable.name.split("/")[-1].split(":")[0]


def decayed_variables(model: tf.Module) -> list[tf.Variable]:
  """The trainable variables of `model` that weight decay applies to (module doc)."""
  return [v for v in model.trainable_variables
          if variable_leaf_name(v).endswith(DECAYED_SUFFIXES)]


def l2_penalty(variables) -> tf.Tensor:
  """sum_W ||W||^2 / 2 over `variables` (0 when there are none)."""
  variables = list(variables)
  if not variables:
    return tf.constant(0.0)
  return tf.add_n([tf.nn.l2_loss(v) for v in variables])
