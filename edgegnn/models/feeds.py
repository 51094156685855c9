"""Numpy feeds for the plain-tensor input contract (see `edgegnn.models.zoo`).

Turns `edgegnn.data.Graph`s into the dicts a Keras model or a TFLite signature takes.
numpy only: the same feeds are written as `.npy` sample inputs for devices.
"""
from __future__ import annotations

from typing import Iterable, Optional, Sequence

import numpy as np

from edgegnn.data import Graph, merge_graphs
from edgegnn.data.sparse import SparseFeatures
from edgegnn.models.spec import FEATURE_ENCODINGS


# Every input the contract can feed one graph, per layout, with its dtype (`graph_feed`).
_SPARSE_FEATURES = {"feature_node": "int32", "feature_index": "int32",
                    "feature_value": "float32"}
CONTRACT_INPUTS = {
    "sparse": {"node_features": "float32", "edge_source": "int32", "edge_target": "int32",
               "in_degree": "int32", **_SPARSE_FEATURES},
    "dense": {"node_features": "float32", "adjacency": "float32", "node_mask": "float32"},
    "neighbors": {"node_features": "float32", "neighbors": "int32",
                  "neighbor_mask": "float32", "in_degree": "int32", "row_node": "int32",
                  "overflow_rows": "int32", "overflow_index": "int32",
                  "node_mask": "float32", **_SPARSE_FEATURES},
}
# The inputs a message-passing model of each layout takes (an MLP: node_features only).
CORE_INPUTS = {"sparse": ("node_features", "edge_source", "edge_target"),
               "dense": ("node_features", "adjacency", "node_mask"),
               "neighbors": ("node_features", "neighbors", "neighbor_mask", "in_degree")}


def check_contract_inputs(inputs: dict[str, str], layout: str, where: str) -> None:
  """Raises ValueError unless `inputs` (name -> dtype of a model's inputs) are all inputs
  of `layout`'s contract with its dtypes, node features among them. The message names the
  inputs the contract does not know and the contract inputs the model lacks."""
  if layout not in CONTRACT_INPUTS:
    raise ValueError(f"Unknown layout {layout!r}; expected one of {sorted(CONTRACT_INPUTS)}.")
  contract = CONTRACT_INPUTS[layout]
  unknown = sorted(set(inputs) - set(contract))
  has_features = "node_features" in inputs or {"feature_node", "feature_index"} <= set(inputs)
  if unknown or not has_features:
    missing = [n for n in CORE_INPUTS[layout] if n not in inputs]
    listing = ", ".join(f"{n} {contract[n]}" for n in CORE_INPUTS[layout])
    raise ValueError(
        f"{where}: the model's inputs {sorted(inputs)} do not follow the {layout} layout's "
        f"input contract: missing {missing}" + (f", unknown {unknown}" if unknown else "")
        + f". A {layout} model takes {listing} (an MLP: node_features only; all inputs: "
        f"{sorted(contract)}, docs/data.md). Name each tf.keras.Input after the contract "
        "input it receives, e.g. tf.keras.Input([F], name=\"node_features\").")
  wrong = {n: d for n, d in inputs.items() if d != contract[n]}
  if wrong:
    raise ValueError(f"{where}: input dtypes {wrong} differ from the contract's "
                     f"{ {n: contract[n] for n in wrong} }; declare them with those dtypes.")


def sparse_feature_lists(graph: Graph) -> dict[str, np.ndarray]:
  """The sparse-feature inputs of `graph` (`edgegnn.layers.sparse_features`).

  feature_node (ascending), feature_index, feature_value: the non-zeros of the node
  features, row by row, plus one padding entry (node n, column F, value 0) for every
  node n without any, so that the node ids run 0, 1, ..., N-1 without gaps (TFLite's
  SEGMENT_SUM requires consecutive ids to differ by 0 or 1). From `graph.sparse_features`
  when the graph has them, else from the dense rows.
  """
  sparse = graph.sparse_features or SparseFeatures.from_dense(graph.node_features,
                                                              binary=False)
  node = sparse.row_ids().astype(np.int32)
  index = np.asarray(sparse.indices, np.int32)
  value = (np.ones(len(index), np.float32) if sparse.values is None
           else np.asarray(sparse.values, np.float32))
  node, index, value = pad_empty_nodes(node, index, value, graph.num_nodes,
                                       sparse.num_features)
  return {"feature_node": node, "feature_index": index, "feature_value": value}


def pad_empty_nodes(node: np.ndarray, index: np.ndarray, value: Optional[np.ndarray],
                    num_nodes: int, num_features: int):
  """(node, index, value) with one padding entry (n, num_features, 0) for every node n in
  [0, num_nodes) that has none, kept in node order (`value` may be None)."""
  empty = np.flatnonzero(np.bincount(node, minlength=num_nodes) == 0).astype(np.int32)
  if not len(empty):
    return node, index, value
  order = np.argsort(np.concatenate([node, empty]), kind="stable")
  node = np.concatenate([node, empty])[order]
  index = np.concatenate([index, np.full(len(empty), num_features, np.int32)])[order]
  if value is not None:
    value = np.concatenate([value, np.zeros(len(empty), np.float32)])[order]
  return node, index, value


def check_feature_encoding(where: str, features: str, layout: str, formats, target) -> None:
  """Raises ValueError unless an artifact can take `features` in this layout, these
  formats and target (`where` prefixes the message)."""
  if features not in FEATURE_ENCODINGS:
    raise ValueError(f"{where}.features must be one of {FEATURE_ENCODINGS}, got {features!r}.")
  if features == "dense":
    return
  if layout not in ("sparse", "neighbors"):
    raise ValueError(f"{where}: features {features} takes layout sparse or neighbors, not "
                     f"{layout}.")
  fixed = [f for f in formats if f in ("tflite-int8", "lce")]
  if fixed or target == "mcu":
    raise ValueError(f"{where}: features {features} exports float formats (tflite-float32, "
                     "tflite-float16, tflite-dynamic-int8): its segment sums have no int8 "
                     f"kernel. Export {fixed or 'the mcu target'} in another stage with "
                     "features: dense.")


def check_binary_features(dataset) -> None:
  """Raises ValueError unless every node feature of `dataset` is 0 or 1 (what an artifact
  with `features: binary` assumes: it takes no values)."""
  graphs = [dataset.graph] if dataset.task == "node" else list(dataset.graphs)
  for graph in graphs:
    values = (graph.sparse_features.values if graph.sparse_features is not None
              else graph.node_features[graph.node_features != 0])
    if values is not None and np.any(values != 1):
      raise ValueError(f"features: binary needs 0/1 node features; {dataset.name} has other "
                       "values. Use features: sparse (the artifact then takes feature_value).")


class GraphFeed(dict):
  """A graph's inputs by name; inputs that only some artifacts take (the sparse-feature
  lists, the sparse layout's `in_degree`) are derived from the graph when first read, so
  `select(feed, model_input_names(model))` serves every variant of the contract."""

  def __init__(self, *args, graph: Optional[Graph] = None, layout: str = "sparse",
               capacity: Optional[int] = None, **kwargs):
    # dict's own signature first: tf.nest rebuilds dict subclasses with type(feed)(items).
    super().__init__(*args, **kwargs)
    self._graph = graph
    self._layout = layout
    self._capacity = capacity

  def __missing__(self, name: str) -> np.ndarray:
    if self._graph is None:
      raise KeyError(name)
    if name in ("feature_node", "feature_index", "feature_value"):
      self.update(sparse_feature_lists(self._graph))
    elif name == "node_features":   # N x F floats: only for artifacts that take them
      self[name] = self._graph.padded_features(
          None if self._layout == "sparse" else self._capacity).astype(np.float32)
    elif name == "in_degree" and self._layout == "sparse":
      self[name] = self._graph.in_degree().astype(np.int32)
    else:
      raise KeyError(name)
    return self[name]


def _dense_rows(graph: Graph, capacity: Optional[int]) -> dict[str, np.ndarray]:
  """node_features now if the graph holds dense rows; a graph with sparse features only
  gets them on first use (`GraphFeed`), so a sparse-feature artifact never needs them."""
  if graph.node_features is None:
    return {}
  return {"node_features": graph.padded_features(capacity).astype(np.float32)}


def graph_feed(graph: Graph, layout: str = "sparse", capacity: Optional[int] = None,
               num_edges: Optional[int] = None,
               max_neighbors: Optional[int] = None) -> dict[str, np.ndarray]:
  """Every input the contract can name for one graph, in `layout` (a `GraphFeed`: the
  sparse-feature lists, the sparse layout's `in_degree` and, for a graph with sparse
  features only, its dense rows are derived on first use).

  Sparse: node_features, edge_source, edge_target (padded with self-less dummy edges is
  never done: a sparse artifact with a static edge count must be exported for that count).
  Dense: node_features, adjacency, node_mask padded to `capacity`; a graph larger than
  the capacity raises `CapacityError`, it is never truncated.
  Neighbors: node_features, neighbors, neighbor_mask, in_degree, node_mask and, for
  in-degrees above 16, row_node, overflow_rows, overflow_index (`Graph.neighbor_lists`),
  for in-degrees up to `max_neighbors` (default: this graph's largest); a node with more
  in-edges raises `CapacityError`.
  """
  if layout == "sparse":
    if num_edges is not None and graph.num_edges != num_edges:
      raise ValueError(f"The artifact takes exactly {num_edges} edges; this graph has "
                       f"{graph.num_edges}. Export with num_edges unset (dynamic) or use "
                       "the dense layout.")
    if capacity is not None and graph.num_nodes != capacity:
      raise ValueError(f"The artifact takes exactly {capacity} nodes; this graph has "
                       f"{graph.num_nodes}.")
    return GraphFeed({**_dense_rows(graph, None),
                      "edge_source": graph.edge_source.astype(np.int32),
                      "edge_target": graph.edge_target.astype(np.int32)},
                     graph=graph, layout=layout)
  if layout == "dense":
    return GraphFeed({**_dense_rows(graph, capacity),
                      "adjacency": graph.dense_adjacency(capacity).astype(np.float32),
                      "node_mask": graph.node_mask(capacity).astype(np.float32)},
                     graph=graph, layout=layout, capacity=capacity)
  if layout == "neighbors":
    if max_neighbors is None:
      max_neighbors = max(int(graph.in_degree().max(initial=0)), 1)
    return GraphFeed({**_dense_rows(graph, capacity),
                      **graph.neighbor_lists(max_neighbors, capacity),
                      "node_mask": graph.node_mask(capacity).astype(np.float32)},
                     graph=graph, layout=layout, capacity=capacity)
  raise ValueError(f"Unknown layout {layout!r}; expected 'sparse', 'dense' or 'neighbors'.")


def layout_sizes(dataset, layout: str, capacity: Optional[int] = None,
                 max_neighbors: Optional[int] = None) -> tuple[Optional[int], Optional[int]]:
  """(capacity, max_neighbors) for exporting `dataset`'s graphs in `layout`.

  Defaults: dense pads to the largest graph (node task: the graph itself); neighbors
  gives every node as many slots as the dataset's largest in-degree, and pads graph-task
  graphs to the largest graph too (static shapes: int8 calibration and LCE need them).
  """
  graphs = [dataset.graph] if dataset.task == "node" else list(dataset.graphs)
  pads = layout == "dense" or (layout == "neighbors" and dataset.task == "graph")
  if pads and capacity is None:
    capacity = max(g.num_nodes for g in graphs)
  if layout == "neighbors" and max_neighbors is None:
    max_neighbors = max(1, max(int(g.in_degree().max(initial=0)) for g in graphs))
  return capacity, max_neighbors


def batch_feed(graphs: Sequence[Graph]) -> dict[str, np.ndarray]:
  """A batch of graphs merged into one disjoint graph plus `node_graph_index`."""
  merged, index = merge_graphs(graphs)
  feed = graph_feed(merged)
  feed["node_graph_index"] = index.astype(np.int32)
  return feed


def select(feed: dict[str, np.ndarray], names: Iterable[str]) -> dict[str, np.ndarray]:
  """The entries of `feed` a model takes (its input names), in that order."""
  selected, missing = {}, []
  for name in names:
    try:
      selected[name] = feed[name]
    except KeyError:
      missing.append(name)
  if missing:
    raise ValueError(f"The model needs inputs {missing} that this feed lacks "
                     f"(feed has {sorted(feed)}).")
  return selected


def model_input_names(model) -> list[str]:
  """Input names of a functional Keras model built by `build_model`."""
  inputs = model.input
  return list(inputs) if isinstance(inputs, dict) else [t.name.split(":")[0] for t in inputs]
