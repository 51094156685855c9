"""Activation functions by string alias (the LPGNAS search space).

`get(name)` is the one place aliases resolve; an unknown name is rejected with the list
of valid ones.

| alias | f(x) |
|---|---|
| none | x |
| sigmoid | 1 / (1 + exp(-x)) |
| tanh | tanh(x) |
| softplus | log(1 + exp(x)) |
| relu | max(x, 0) |
| leaky_relu | max(x, 0.2 x) |
| relu6 | min(max(x, 0), 6) |
| elu | x if x > 0 else exp(x) - 1 |
"""
from __future__ import annotations

from typing import Callable, Union

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

_ACTIVATIONS: dict[str, Callable[[tf.Tensor], tf.Tensor]] = {
    "none": tf.identity,
    "sigmoid": tf.sigmoid,
    "tanh": tf.tanh,
    "softplus": tf.nn.softplus,
    "relu": tf.nn.relu,
    "leaky_relu": lambda x: tf.nn.leaky_relu(x, alpha=0.2),
    "relu6": tf.nn.relu6,
    "elu": tf.nn.elu,
}

ACTIVATIONS = tuple(_ACTIVATIONS)


def get(name: Union[str, None]) -> Callable[[tf.Tensor], tf.Tensor]:
  """Returns the activation for `name` (None means "none")."""
  key = "none" if name is None else str(name).lower()
  if key not in _ACTIVATIONS:
    raise ValueError(f"Unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)}.")
  return _ACTIVATIONS[key]
