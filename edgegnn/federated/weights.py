"""The global model as it crosses the wire: an ordered list of arrays and their roles.

`WeightLayout` describes `model.get_weights()`: the name, shape and dtype of every array
and whether it is trained by gradients (optimised on the server by the Flower strategy)
or a statistic (BatchNorm moving mean / variance, quantiser ranges: averaged, never
stepped by a server optimizer). `check` refuses any list that is not exactly such a
weight list: it is the gate every client update passes before it is sent.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np


class WireError(ValueError):
  """A client tried to send something that is not a model update of the agreed layout."""


@dataclasses.dataclass(frozen=True)
class WeightLayout:
  """Names, shapes, dtypes and roles of a model's weight list.

  Attributes:
    names: variable names, in `get_weights()` order.
    shapes: array shapes.
    dtypes: numpy dtype names.
    trainable: True for variables updated by gradients.
    variance_pairs: (moving_variance index, moving_mean index) of each BatchNorm.
  """
  names: tuple[str, ...]
  shapes: tuple[tuple[int, ...], ...]
  dtypes: tuple[str, ...]
  trainable: tuple[bool, ...]
  variance_pairs: tuple[tuple[int, int], ...]

  @classmethod
  def from_model(cls, model) -> "WeightLayout":
    trainable_ids = {id(v) for v in model.trainable_weights}
    names = tuple(v.name for v in model.weights)
    pairs = []
    for i, name in enumerate(names):
      if name.endswith("moving_variance:0"):
        mean_name = name.replace("moving_variance:0", "moving_mean:0")
        if mean_name in names:
          pairs.append((i, names.index(mean_name)))
    return cls(names=names, shapes=tuple(tuple(v.shape.as_list()) for v in model.weights),
               dtypes=tuple(v.dtype.as_numpy_dtype().dtype.name for v in model.weights),
               trainable=tuple(id(v) in trainable_ids for v in model.weights),
               variance_pairs=tuple(pairs))

  @property
  def trainable_indices(self) -> list[int]:
    return [i for i, t in enumerate(self.trainable) if t]

  @property
  def statistic_indices(self) -> list[int]:
    return [i for i, t in enumerate(self.trainable) if not t]

  @property
  def num_bytes(self) -> int:
    return int(sum(np.prod(s, dtype=np.int64) * np.dtype(d).itemsize
                   for s, d in zip(self.shapes, self.dtypes)))

  def split(self, weights: Sequence[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(trainable arrays, statistic arrays), each in layout order."""
    return ([weights[i] for i in self.trainable_indices],
            [weights[i] for i in self.statistic_indices])

  def merge(self, trainable: Sequence[np.ndarray],
            statistics: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Inverse of `split`."""
    out: list = [None] * len(self.names)
    for i, w in zip(self.trainable_indices, trainable):
      out[i] = w
    for i, w in zip(self.statistic_indices, statistics):
      out[i] = w
    return out

  def check(self, weights: Sequence[np.ndarray]) -> None:
    """Raises WireError unless `weights` are arrays of exactly this layout."""
    if len(weights) != len(self.names):
      raise WireError(f"An update must hold the model's {len(self.names)} weight arrays, "
                      f"got {len(weights)} arrays.")
    for name, shape, dtype, w in zip(self.names, self.shapes, self.dtypes, weights):
      if not isinstance(w, (np.ndarray, np.generic)) or tuple(w.shape) != shape or w.dtype.name != dtype:
        got = (f"{type(w).__name__} {getattr(w, 'shape', '?')} {getattr(w, 'dtype', '?')}")
        raise WireError(f"Array for {name} must be {dtype} {shape}; got {got}. Only model "
                        "weights may leave a client.")


def weighted_mean(arrays: Sequence[np.ndarray], num_examples: Sequence[int]) -> np.ndarray:
  r"""w_bar = sum_k n_k w_k / sum_k n_k."""
  n = np.asarray(num_examples, np.float64)
  stacked = np.stack([np.asarray(a, np.float64) for a in arrays])
  return np.tensordot(n / n.sum(), stacked, axes=1)


def pool_statistics(layout: WeightLayout, client_weights: Sequence[Sequence[np.ndarray]],
                    num_examples: Sequence[int]) -> list[np.ndarray]:
  r"""Aggregates the non-trainable arrays of K client updates (layout's statistic order).

  Means (and any other statistic) are example-weighted:  mu = sum_k n_k mu_k / n.
  A BatchNorm variance is pooled by the law of total variance, so that the global
  statistic is that of the union of the clients' data, not the mean of per-client
  variances (which misses the spread between client means):

      sigma^2 = sum_k n_k (sigma_k^2 + mu_k^2) / n  -  mu^2

  Integer statistics are rounded back to their dtype.
  """
  variance_of = dict(layout.variance_pairs)
  out = {}
  for i in layout.statistic_indices:
    values = [w[i] for w in client_weights]
    if i in variance_of:
      j = variance_of[i]
      means = [w[j] for w in client_weights]
      second = weighted_mean([v + np.square(m.astype(np.float64)) for v, m in zip(values, means)],
                             num_examples)
      pooled = np.maximum(second - np.square(weighted_mean(means, num_examples)), 0.0)
    else:
      pooled = weighted_mean(values, num_examples)
    dtype = np.dtype(layout.dtypes[i])
    out[i] = np.rint(pooled).astype(dtype) if dtype.kind in "iu" else pooled.astype(dtype)
  return [out[i] for i in layout.statistic_indices]
