"""Named hidden states of a functional Keras model, for distillation at chosen layers.

`with_hidden_states(model, ["conv0"])` returns a model on the same inputs, sharing every
layer and weight with `model`, whose output dict is `{"logits": ..., "conv0": ...}` (the
output of the layer named "conv0"). Zoo models name their layers `conv{i}` (message
passing, post-activation), `dense{i}` (MLP), `readout{i}`, so no change to the zoo is
needed; any functional model whose layers are called once works (e.g. a quantization-
aware rebuild, if it keeps layer names). Training the returned model trains `model`.
"""
from __future__ import annotations

from typing import Sequence

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf


def hidden_layer_names(model: tf.keras.Model) -> list[str]:
  """Names of the layers whose outputs `with_hidden_states` can expose."""
  return [layer.name for layer in model.layers
          if not isinstance(layer, tf.keras.layers.InputLayer)]


def with_hidden_states(model: tf.keras.Model, names: Sequence[str]) -> tf.keras.Model:
  """A model with outputs {"logits": model's logits, name: output of layer `name`, ...}.

  Raises:
    ValueError: a name is not a layer of `model` (lists the valid ones), or names "logits".
  """
  outputs = model.output
  if not isinstance(outputs, dict) or "logits" not in outputs:
    raise ValueError(f"Model {model.name} must return a dict with 'logits'.")
  result = {"logits": outputs["logits"]}
  valid = hidden_layer_names(model)
  for name in names:
    if name == "logits" or name not in valid:
      raise ValueError(f"Model {model.name} has no hidden layer {name!r}; "
                       f"choose among {', '.join(v for v in valid if v != 'logits')}.")
    layer = model.get_layer(name)
    result[name] = layer.output
  return tf.keras.Model(inputs=model.input, outputs=result, name=f"{model.name}_hidden")
