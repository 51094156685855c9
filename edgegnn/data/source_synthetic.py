"""The `synthetic` dataset source: a generated node-classification graph
(`edgegnn.data.synthetic.synthetic_dataset`) described by its parameters, so a pipeline can
train on a graph of any size without a file.

    dataset: {format: synthetic, num_nodes: 1000000, avg_degree: 10, num_classes: 7, seed: 0}

The same parameters and seed give the same arrays. The generator's own random split
(train / val / test 0.6 / 0.2 / 0.2) is the source's split unless `split:` is set.
"""
from __future__ import annotations

from typing import Any, Mapping

from edgegnn.data.source_build import RawGraph, SourceError

# key -> (type, required); the generator's defaults apply to absent keys.
INTEGER_KEYS = ("num_nodes", "num_classes", "num_features", "communities", "seed")
NUMBER_KEYS = ("avg_degree", "words_per_node", "feature_signal", "power_law_exponent",
               "homophily")
KEYS = INTEGER_KEYS + NUMBER_KEYS


def check(spec: Mapping[str, Any], where: str) -> None:
  """Raises SourceError naming the key unless `spec` holds the generator's parameters
  with the right types (ranges are checked by the generator when the graph is built)."""
  if "num_nodes" not in spec:
    raise SourceError(f"{where}: format synthetic needs `num_nodes` (an integer >= 2).")
  for key in INTEGER_KEYS:
    value = spec.get(key)
    if key in spec and (isinstance(value, bool) or not isinstance(value, int)):
      raise SourceError(f"{where}: `{key}` must be an integer, got {value!r}.")
  for key in NUMBER_KEYS:
    value = spec.get(key)
    if key in spec and (isinstance(value, bool) or not isinstance(value, (int, float))):
      raise SourceError(f"{where}: `{key}` must be a number, got {value!r}.")


def default_name(spec: Mapping[str, Any]) -> str:
  return f"synthetic-{spec['num_nodes']}-seed{spec.get('seed', 0)}"


def read_synthetic(spec: Mapping[str, Any]) -> RawGraph:
  """The generated graph's arrays (sparse bag-of-words features, labels, split)."""
  from edgegnn.data.synthetic import synthetic_dataset  # pylint: disable=g-import-not-at-top
  where = f"dataset {spec.get('name', 'synthetic')} (format synthetic)"
  try:
    dataset = synthetic_dataset(**{k: spec[k] for k in KEYS if k in spec})
  except ValueError as e:
    raise SourceError(f"{where}: {e}") from None
  graph = dataset.graph
  return RawGraph(where=where, features=None, sparse=graph.sparse_features,
                  edge_source=graph.edge_source, edge_target=graph.edge_target,
                  labels=dataset.labels,
                  splits={"train": dataset.train_index, "val": dataset.val_index,
                          "test": dataset.test_index})
