"""Precisions of a binary network and the sign quantizers (straight-through estimators).

A model is built in one of three precisions; the staged distillation walks through them
(FP32 teacher -> binary weights / real activations -> fully binary):

| precision | kernel used | input of a linear map | node-state "sign" |
|---|---|---|---|
| float | W | x | tanh(x) |
| binary_weights | q(W) | x | tanh(x) |
| binary | q(W) | q(x) | q(x) |

`tanh` is the real-valued stand-in for sign in the non-binary precisions (the
pseudo-quantiser of Bahri et al., CVPR 2021), so the same weights move between stages.

Sign quantizers (forward pass identical, q(x) = +1 if x >= 0 else -1; they differ in the
straight-through gradient dq/dx they use in the backward pass):

| alias | dq/dx |
|---|---|
| ste_sign | 1 if abs(x) <= 1 else 0 (the clipped straight-through estimator) |
| approx_sign | 2 - 2 abs(x) if abs(x) <= 1 else 0 (Bi-Real Net) |
| swish_sign | beta (2 - beta x tanh(beta x / 2)) / (1 + cosh(beta x)), beta = 5 (BNN+) |

They are larq's quantizers: their forward pass lowers to the sign pattern the LCE
converter turns into LceQuantize / LceBconv2d. `get()` is the one place aliases resolve.
"""
from __future__ import annotations

from typing import Callable

from edgegnn import _keras_env  # noqa: F401
import larq as lq
import tensorflow as tf

PRECISIONS = ("float", "binary_weights", "binary")
QUANTIZERS = ("ste_sign", "approx_sign", "swish_sign")

_QUANTIZERS: dict[str, Callable[[], lq.quantizers.QuantizerFunctionWrapper]] = {
    "ste_sign": lambda: lq.quantizers.SteSign(clip_value=1.0),
    "approx_sign": lambda: lq.quantizers.get("approx_sign"),
    "swish_sign": lambda: lq.quantizers.SwishSign(beta=5.0),
}


def check_precision(precision: str) -> str:
  """Returns `precision` if it is one of PRECISIONS, else raises a ValueError naming them."""
  if precision not in PRECISIONS:
    raise ValueError(f"Unknown precision {precision!r}; expected one of {', '.join(PRECISIONS)}.")
  return precision


def get(name: str):
  """The larq sign quantizer for alias `name`; unknown names are rejected."""
  if name not in _QUANTIZERS:
    raise ValueError(f"Unknown sign quantizer {name!r}; expected one of {', '.join(QUANTIZERS)}.")
  return _QUANTIZERS[name]()


def node_sign(x: tf.Tensor, precision: str, quantizer: str = "ste_sign") -> tf.Tensor:
  """The "sign" of node states in `precision`: q(x) when binary, tanh(x) otherwise."""
  if check_precision(precision) == "binary":
    return get(quantizer)(x)
  return tf.tanh(x)
