"""How message-passing layers call an injected quantization sub-layer.

A layer built with `quantization=LayerQuantization(...)` (see `edgegnn.quantization`) is
called with `(node_states, graph, protect)`, where `protect` [N] is Degree-Quant's
protective mask, and fake-quantizes its input, messages, aggregate and output. Without
one, `quantize` is the identity and the layer is the float layer.
"""
from __future__ import annotations

from typing import Any, Optional


def split_inputs(inputs) -> tuple[Any, Any, Optional[Any]]:
  """(node_states, graph) or (node_states, graph, protect) -> the three, protect or None."""
  if len(inputs) == 3:
    return tuple(inputs)
  node_states, graph = inputs
  return node_states, graph, None


def quantize(quantization, x, point: str, protect=None, training=None):
  """x fake-quantized at `point` by the injected `quantization` layer (identity if None)."""
  if quantization is None:
    return x
  return quantization(x, point=point, protect=protect, training=training)
