"""Serialisation of injected sub-layers (a `transform`, `mlp` or `message_fn` argument)."""
from __future__ import annotations

from typing import Any, Optional

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf


def serialize(layer: Optional[tf.keras.layers.Layer]) -> Optional[dict[str, Any]]:
  return None if layer is None else tf.keras.layers.serialize(layer)


def deserialize(config: Any) -> Optional[tf.keras.layers.Layer]:
  if config is None or isinstance(config, tf.keras.layers.Layer):
    return config
  return tf.keras.layers.deserialize(config)


def check_units(name: str, value: int) -> int:
  if not isinstance(value, int) or isinstance(value, bool) or value < 1:
    raise ValueError(f"{name} must be a positive integer, got {value!r}.")
  return value
