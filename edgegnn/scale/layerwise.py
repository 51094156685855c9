"""Layer-wise full-graph inference: a node model's exact logits for every node of a graph
too large for one call, one layer at a time over chunks of target nodes.

For layer l and a chunk T of target nodes, the chunk's graph holds T, every in-neighbour
of T and all their in-edges, each node with its FULL-graph in-degree; the layer runs on
it (inference mode) and keeps the rows of T. After all chunks, layer l's outputs for all
N nodes are the next layer's inputs. So the result equals one call of the model on the
whole graph (tested against it), while the largest tensor is a chunk's neighbourhood:
memory O(N * hidden + chunk neighbourhood), time O(layers * (N + E)).

Covers the node models of `edgegnn.models.build_model` in the sparse and neighbors
layouts with dense, sparse or binary features: message-passing layers (gcn, sage, gat, mp,
gin) and row-wise layers (Dense, QuantDense, FeatureTransform, RowNormalize); dropout,
the protective mask and the input layers are inference-time identities.
"""
from __future__ import annotations

from typing import Callable, Optional, Union

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn import layers as gl
from edgegnn.data.graph import Graph
from edgegnn.data.sampling import InNeighbours
from edgegnn.layers.structure import SparseStructure
from edgegnn.models.feeds import sparse_feature_lists

_IDENTITY = (tf.keras.layers.InputLayer, tf.keras.layers.Dropout, gl.GraphTensorFromPieces)
_ROW_WISE = (tf.keras.layers.Dense, gl.FeatureTransform, gl.RowNormalize)
_MESSAGE_PASSING = (gl.GCNConv, gl.SAGEConv, gl.GATConv, gl.MessagePassing, gl.GINConv)

DEFAULT_CHUNK = 32768

States = Union[np.ndarray, Callable[[np.ndarray], object]]


def _model_layers(model: tf.keras.Model) -> list[tf.keras.layers.Layer]:
  """The layers that change node states, in order; raises for a model outside the scope."""
  from edgegnn.quantization import ProtectiveMask  # pylint: disable=g-import-not-at-top
  kept = []
  for layer in model.layers:
    if isinstance(layer, _IDENTITY + (ProtectiveMask,)):
      continue
    if isinstance(layer, tf.keras.layers.Activation) and layer.name == "logits":
      continue
    if not isinstance(layer, _ROW_WISE + _MESSAGE_PASSING):
      raise ValueError(f"layer-wise inference covers node models of gcn, sage, gat, mp, gin "
                       f"and mlp; {model.name} has layer {layer.name} "
                       f"({type(layer).__name__}). Evaluate it with one full-graph call.")
    kept.append(layer)
  if "node_graph_index" in model.input or "node_mask" in model.input:
    raise ValueError(f"layer-wise inference is for node-level models; {model.name} is "
                     "graph-level or padded (dense layout).")
  return kept


def _feature_rows(graph: Graph, sparse_input: bool) -> Callable[[np.ndarray], object]:
  """nodes -> the first layer's input for those nodes: dense rows, or their non-zero
  lists for a model that takes sparse features."""
  def rows(nodes: np.ndarray):
    if sparse_input:
      part = (graph.sparse_features.take(nodes) if graph.sparse_features is not None
              else None)
      sub = Graph(None if part is not None else graph.node_features[nodes],
                  np.zeros(0, np.int32), np.zeros(0, np.int32), sparse_features=part)
      return {k: tf.constant(v) for k, v in sparse_feature_lists(sub).items()}
    if graph.node_features is not None:
      return tf.constant(graph.node_features[nodes])
    return tf.constant(graph.sparse_features.take(nodes).to_dense())
  return rows


def _gather(states: States, nodes: np.ndarray):
  return states(nodes) if callable(states) else tf.constant(states[nodes])


def _row_wise(layer, states: States, num_nodes: int, chunk: int) -> np.ndarray:
  parts = []
  for start in range(0, num_nodes, chunk):
    nodes = np.arange(start, min(start + chunk, num_nodes))
    parts.append(layer(_gather(states, nodes), training=False).numpy())
  return np.concatenate(parts)


def _message_passing(layer, states: States, index: InNeighbours, chunk: int) -> np.ndarray:
  num_nodes = index.num_nodes
  local = np.full(num_nodes, -1, np.int64)
  parts = []
  for start in range(0, num_nodes, chunk):
    targets = np.arange(start, min(start + chunk, num_nodes))
    positions, owner = index.edge_positions(targets)
    sources = index.sources[positions]
    outside = np.unique(sources[(sources < start) | (sources >= targets[-1] + 1)])
    nodes = np.concatenate([targets, outside])
    local[nodes] = np.arange(len(nodes))
    structure = SparseStructure(tf.constant(local[sources], tf.int32),
                                tf.constant(owner, tf.int32), tf.constant(len(nodes)),
                                tf.constant(index.degree[nodes], tf.float32))
    local[nodes] = -1
    out = layer((_gather(states, nodes), structure), training=False)
    parts.append(out.numpy()[:len(targets)])
  return np.concatenate(parts)


def layerwise_logits(model: tf.keras.Model, graph: Graph, chunk: int = DEFAULT_CHUNK,
                     index: Optional[InNeighbours] = None) -> np.ndarray:
  """float32 [N, C]: `model`'s inference logits for every node of `graph` (module doc).

  Args:
    model: a node model from `build_model` (sparse or neighbors layout).
    graph: the full graph (dense or CSR features).
    chunk: target nodes per chunk.
    index: the graph's `InNeighbours`, if already built (it is the same for every call).
  """
  if chunk < 1:
    raise ValueError(f"chunk must be >= 1, got {chunk}.")
  stages = _model_layers(model)
  index = index or InNeighbours(graph)
  sparse_input = "feature_index" in model.input
  states: States = _feature_rows(graph, sparse_input)
  for layer in stages:
    if isinstance(layer, _MESSAGE_PASSING):
      states = _message_passing(layer, states, index, chunk)
    else:
      states = _row_wise(layer, states, graph.num_nodes, chunk)
  return np.asarray(states, np.float32)


def layerwise_accuracy(model: tf.keras.Model, dataset, split: str,
                       chunk: int = DEFAULT_CHUNK, logits: Optional[np.ndarray] = None,
                       index: Optional[InNeighbours] = None) -> tuple[float, float]:
  """(accuracy, mean cross-entropy) on `split` ("train", "val", "test") of a node
  dataset, from layer-wise logits (computed unless given)."""
  rows = {"train": dataset.train_index, "val": dataset.val_index,
          "test": dataset.test_index}[split]
  if logits is None:
    logits = layerwise_logits(model, dataset.graph, chunk, index)
  picked, labels = logits[rows], dataset.labels[rows]
  shifted = picked - picked.max(1, keepdims=True)
  log_p = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
  loss = float(-log_p[np.arange(len(rows)), labels].mean())
  return float(np.mean(picked.argmax(1) == labels)), loss
