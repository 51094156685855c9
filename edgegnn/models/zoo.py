"""The model zoo: Keras functional models over the plain-tensor input contract.

Input contract (names are the SignatureDef names of every exported artifact):

| layout | inputs | notes |
|---|---|---|
| sparse | node_features [N, F] float32, edge_source [E] int32, edge_target [E] int32 | edge j: source -> target; converts to float TFLite (GATHER, UNSORTED_SEGMENT_SUM) |
| dense  | node_features [C, F] float32, adjacency [C, C] float32, node_mask [C] float32 | padded to capacity C; adjacency[t, s] = 1 for s -> t; converts to full int8 |
| neighbors | node_features [N, F] float32, neighbors [R, W] int32, neighbor_mask [R, W] float32, in_degree [N] int32; if max_neighbors > 16 also row_node [R] int32, overflow_rows [V, 1 + J] int32, overflow_index [N] int32 (+ node_mask [N] for graph tasks) | rows of W = min(max_neighbors, 16) in-neighbours; row t < N is node t's first, overflow rows follow (`edgegnn.data.Graph.neighbor_lists`); converts to full int8, fast on large sparse graphs |

Graph-level models trained on batches of merged graphs take `node_graph_index` [N] int32
as a fourth sparse input (`batched=True`); exported graph-level models classify one graph
per call. MLPs take `node_features` only (plus `node_mask` / `node_graph_index` for
graph-level pooling). The output is `{"logits": [N, classes]}` (node task) or
`{"logits": [G, classes]}` (graph task).

Models of one `ModelSpec` built for different layouts create the same layers in the same
order, so `dense.set_weights(sparse.get_weights())` moves trained weights between them.
"""
from __future__ import annotations

import functools
from typing import Optional

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn import layers as gl
from edgegnn.data.graph import neighbor_row_shape
from edgegnn.layers.sparse_features import SPARSE_FEATURE_INPUTS
from edgegnn.layers.structure import NEIGHBOR_INPUTS, NEIGHBOR_OVERFLOW_INPUTS
from edgegnn.models.spec import FEATURE_ENCODINGS, LAYOUTS, ModelSpec

TASKS = ("node", "graph")


def _feature_inputs(num_features: int, features: str, capacity: Optional[int]):
  if features == "dense":
    return {"node_features": tf.keras.Input([num_features], batch_size=capacity,
                                            name="node_features")}
  names = SPARSE_FEATURE_INPUTS if features == "sparse" else SPARSE_FEATURE_INPUTS[:2]
  return {name: tf.keras.Input([], dtype=tf.float32 if name == "feature_value" else tf.int32,
                               name=name) for name in names}


def _inputs(spec: ModelSpec, num_features: int, task: str, layout: str,
            capacity: Optional[int], num_edges: Optional[int], batched: bool,
            max_neighbors: Optional[int], features: str = "dense"):
  uses_graph = spec.architecture not in ("mlp", "edgeconv")
  inputs = _feature_inputs(num_features, features, capacity)
  if layout == "sparse":
    if uses_graph:
      for name in ("edge_source", "edge_target"):
        inputs[name] = tf.keras.Input([], batch_size=num_edges, dtype=tf.int32, name=name)
      if features != "dense":   # sizes the node set and spares counting degrees per call
        inputs["in_degree"] = tf.keras.Input([], dtype=tf.int32, name="in_degree")
    if task == "graph" and batched:
      inputs["node_graph_index"] = tf.keras.Input([], batch_size=capacity, dtype=tf.int32,
                                                  name="node_graph_index")
  elif layout == "dense":
    if uses_graph:
      inputs["adjacency"] = tf.keras.Input([capacity], batch_size=capacity, name="adjacency")
    if uses_graph or task == "graph":
      inputs["node_mask"] = tf.keras.Input([], batch_size=capacity, name="node_mask")
  else:
    if uses_graph:
      width, overflow = neighbor_row_shape(max_neighbors)
      rows = None if capacity is None else capacity + overflow * capacity + bool(overflow)
      inputs["neighbors"] = tf.keras.Input([width], batch_size=rows, dtype=tf.int32,
                                           name="neighbors")
      inputs["neighbor_mask"] = tf.keras.Input([width], batch_size=rows, name="neighbor_mask")
      inputs["in_degree"] = tf.keras.Input([], batch_size=capacity, dtype=tf.int32,
                                           name="in_degree")
      if overflow:
        inputs["row_node"] = tf.keras.Input([], batch_size=rows, dtype=tf.int32,
                                            name="row_node")
        inputs["overflow_rows"] = tf.keras.Input([overflow + 1], batch_size=capacity,
                                                 dtype=tf.int32, name="overflow_rows")
        inputs["overflow_index"] = tf.keras.Input([], batch_size=capacity, dtype=tf.int32,
                                                  name="overflow_index")
    if task == "graph":
      inputs["node_mask"] = tf.keras.Input([], batch_size=capacity, name="node_mask")
  return inputs


def _graph_and_membership(inputs, task: str, layout: str, features):
  graph = membership = None
  if layout == "sparse":
    if "edge_source" in inputs and "in_degree" in inputs:
      graph = gl.GraphTensorFromPieces(node_features=False, name="graph")(
          [inputs["in_degree"], inputs["edge_source"], inputs["edge_target"],
           inputs["in_degree"]])
    elif "edge_source" in inputs:
      graph = gl.GraphTensorFromPieces(name="graph")(
          [features, inputs["edge_source"], inputs["edge_target"]])
    if task == "graph":
      if "node_graph_index" in inputs:
        membership = gl.Membership("node_graph_index", name="membership")(
            inputs["node_graph_index"])
      else:
        membership = gl.Membership("all_nodes", name="membership")(features)
  else:
    if layout == "dense":
      graph = inputs.get("adjacency")
    elif "neighbors" in inputs:
      graph = {k: inputs[k] for k in NEIGHBOR_INPUTS + NEIGHBOR_OVERFLOW_INPUTS if k in inputs}
    if task == "graph":
      membership = gl.Membership("node_mask", name="membership")(inputs["node_mask"])
  return graph, membership


class _Quantized:
  """Layer factories for a float model (quantization None) or a fake-quant one."""

  def __init__(self, quantization):
    self.config = quantization

  def dense(self, units, **kwargs):
    if self.config is None:
      return tf.keras.layers.Dense(units, **kwargs)
    from edgegnn.quantization import QuantDense  # pylint: disable=g-import-not-at-top
    return QuantDense(units, weight_bits=self.config.weight_bits,
                      noise_rate=self.config.quant_noise, **kwargs)

  def conv_kwargs(self, name: str, transforms=("transform",), units: int = 0) -> dict:
    if self.config is None:
      return {}
    from edgegnn.quantization import POINTS, LayerQuantization  # pylint: disable=g-import-not-at-top
    # Only the first layer quantizes its input; later inputs are quantized outputs already.
    points = POINTS if name in ("conv0", "edge_conv0") else tuple(p for p in POINTS
                                                                 if p != "input")
    kwargs = {t: self.dense(units, use_bias=False, name=t) for t in transforms}
    kwargs["quantization"] = LayerQuantization(
        bits=self.config.activation_bits, range_tracking=self.config.range_tracking,
        percentile=self.config.percentile, momentum=self.config.momentum, points=points,
        name=f"{name}_quantization")
    return kwargs

  def protect(self, graph):
    if self.config is None or not self.config.masked or graph is None:
      return None
    from edgegnn.quantization import ProtectiveMask  # pylint: disable=g-import-not-at-top
    return ProtectiveMask(self.config.p_min, self.config.p_max, name="protective_mask")(graph)


def _call(layer, h, graph, protect):
  return layer((h, graph) if protect is None else (h, graph, protect))


def _first_transforms(transforms, units: int, first) -> dict:
  """The first layer's linear maps as `FeatureTransform`s (sparse features or deferred
  row normalisation; `first` holds num_features and row_normalize), else none."""
  if first is None:
    return {}
  return {t: gl.FeatureTransform(units, name=t, **first) for t in transforms}


def _node_layers(spec: ModelSpec, num_classes: int, i: int, last: bool, q: _Quantized,
                 first=None):
  """The i-th message-passing layer of a node-level model (`first`: see
  `_first_transforms`; used for i = 0 only)."""
  units = num_classes if last else spec.hidden_units
  act = "none" if last else spec.activation
  name = f"conv{i}"
  first = first if i == 0 else None
  if spec.architecture == "gcn":
    return gl.GCNConv(units, activation=act, name=name, **q.conv_kwargs(name, units=units),
                      **_first_transforms(("transform",), units, first))
  if spec.architecture == "sage":
    transforms = ("self_transform", "neighbor_transform")
    return gl.SAGEConv(units, activation=act, name=name, **q.conv_kwargs(
        name, transforms, units), **_first_transforms(transforms, units, first))
  if spec.architecture in ("gat", "mp"):
    heads = spec.output_heads if last else spec.num_heads
    kwargs = dict(num_heads=heads, activation=act, concat_heads=not last,
                  attention_dropout=spec.attention_dropout, name=name,
                  **q.conv_kwargs(name, units=heads * units),
                  **_first_transforms(("transform",), heads * units, first))
    if spec.architecture == "gat":
      return gl.GATConv(units, **kwargs)
    return gl.MessagePassing(units, attention=spec.attention, **kwargs)
  if spec.architecture == "gin":
    if last:
      return None
    kwargs = q.conv_kwargs(name, transforms=())
    return gl.GINConv(units, mlp=gl.gin_conv.default_mlp(units, spec.batch_norm, f"{name}_mlp",
                                                         dense=q.dense),
                      learn_epsilon=spec.learn_epsilon, name=name, **kwargs)
  raise ValueError(f"model.architecture {spec.architecture!r} has no node-level form; "
                   "use gcn, gat, sage, gin, mp or mlp for node classification.")


def _node_body(spec: ModelSpec, num_classes: int, h, graph, training_dropout, q: _Quantized,
               first=None):
  protect = q.protect(graph)
  for i in range(spec.num_layers):
    last = i == spec.num_layers - 1
    if i or first is None:   # a serving build (first) has no dropout on its input
      h = training_dropout(i)(h)
    if spec.architecture == "mlp":
      units = num_classes if last else spec.hidden_units
      if i == 0 and first is not None:
        h = gl.FeatureTransform(units, use_bias=True,
                                activation="none" if last else spec.activation,
                                name=f"dense{i}", **first)(h)
        continue
      h = q.dense(units, activation=None if last else gl.activations.get(spec.activation),
                  name=f"dense{i}")(h)
      continue
    layer = _node_layers(spec, num_classes, i, last, q, first)
    h = q.dense(num_classes, name=f"dense{i}")(h) if layer is None else _call(layer, h, graph,
                                                                            protect)
  return h


def _graph_body(spec: ModelSpec, num_classes: int, h, graph, membership, training_dropout,
                q: _Quantized):
  if spec.architecture == "edgeconv":
    candidates = gl.KnnCandidates(name="knn_candidates")(membership)
    states = []
    for i in range(spec.num_layers):
      h = gl.EdgeConv(spec.hidden_units, k=spec.k, name=f"edge_conv{i}")((h, candidates))
      states.append(h)
    h = tf.keras.layers.Concatenate(name="concat_layers")(states) if len(states) > 1 else h
    h = tf.keras.layers.Dense(2 * spec.hidden_units, activation="relu", name="embed")(h)
    pooled = gl.GraphReadout(spec.readout, name="readout")((h, membership))
    pooled = tf.keras.layers.Dense(spec.hidden_units, activation="relu", name="head")(pooled)
    return tf.keras.layers.Dense(num_classes, name="classifier")(training_dropout(-1)(pooled))
  protect = q.protect(graph)
  readouts = [gl.GraphReadout(spec.readout, name="readout0")((h, membership))]
  for i in range(spec.num_layers):
    if spec.architecture == "gin":
      name = f"conv{i}"
      layer = gl.GINConv(spec.hidden_units,
                         mlp=gl.gin_conv.default_mlp(spec.hidden_units, spec.batch_norm,
                                                     f"{name}_mlp", dense=q.dense),
                         learn_epsilon=spec.learn_epsilon, name=name,
                         **q.conv_kwargs(name, transforms=()))
      h = _call(layer, h, graph, protect)
    elif spec.architecture == "mlp":
      h = q.dense(spec.hidden_units, activation=gl.activations.get(spec.activation),
                  name=f"dense{i}")(h)
    else:
      h = _call(_node_layers(spec, num_classes, i, False, q), h, graph, protect)
    readouts.append(gl.GraphReadout(spec.readout, name=f"readout{i + 1}")((h, membership)))
  pooled = tf.keras.layers.Concatenate(name="concat_readouts")(readouts)
  return q.dense(num_classes, name="classifier")(training_dropout(-1)(pooled))


# Architectures whose first operation on the node features is a linear map.
_FIRST_LINEAR = ("gcn", "sage", "gat", "mp", "mlp")


def _check_features(spec: ModelSpec, features: str, task: str, layout: str, quantization):
  if features not in FEATURE_ENCODINGS:
    raise ValueError(f"features must be one of {FEATURE_ENCODINGS}, got {features!r}.")
  if features == "dense":
    return
  if task != "node" or spec.architecture not in _FIRST_LINEAR:
    raise ValueError(
        f"features: {features} serves node-level {', '.join(_FIRST_LINEAR)} models, whose "
        f"first operation on the features is a linear map; {spec.architecture} on a {task} "
        "task aggregates raw features first. Use features: dense.")
  if layout not in ("sparse", "neighbors"):
    raise ValueError(f"features: {features} takes the sparse or neighbors layout (a "
                     f"variable number of non-zeros), not {layout}.")
  if quantization is not None:
    raise ValueError(f"features: {features} builds float models; export a quantized model "
                     "in the neighbors or dense layout with features: dense for int8.")


def build_model(spec: ModelSpec, *, num_features: int, num_classes: int, task: str = "node",
                layout: str = "sparse", capacity: Optional[int] = None,
                num_edges: Optional[int] = None, batched: bool = False,
                max_neighbors: Optional[int] = None, quantization=None,
                features: str = "dense", serving: bool = False) -> tf.keras.Model:
  """Builds the Keras model of `spec` for the plain-tensor input contract.

  Args:
    spec: architecture and hyper-parameters.
    num_features: F, node feature width.
    num_classes: output classes.
    task: "node" (per-node logits) or "graph" (per-graph logits).
    layout: "sparse" (edge lists), "dense" (padded adjacency; needs `capacity`) or
      "neighbors" (padded in-neighbour lists; needs `max_neighbors`).
    capacity: static node count (padded) of the inputs; None keeps it dynamic (sparse,
      neighbors).
    num_edges: static edge count for the sparse layout (LCE needs static shapes).
    batched: graph task, sparse layout: adds the `node_graph_index` input so one call
      classifies a batch of merged graphs (training); otherwise one graph per call.
    max_neighbors: the largest in-degree the neighbors layout accepts (at least that of
      the graphs it will be fed); it sets the row width and overflow columns
      (`edgegnn.data.graph.neighbor_row_shape`).
    quantization: an `edgegnn.quantization.QuantizationConfig`: fake-quantized weights
      (`QuantDense`) and activations (`LayerQuantization` in every message-passing layer),
      plus Degree-Quant's `ProtectiveMask` for method "dq". None builds the float model.
    features: how node features are given: "dense" (`node_features` [N, F]), "sparse"
      (their non-zeros: `feature_node`, `feature_index`, `feature_value`) or "binary" (the
      same without values: every non-zero is 1). See `edgegnn.layers.sparse_features`;
      the sparse layout then also takes `in_degree` [N] int32. Node-level float models of
      gcn, sage, gat, mp and mlp; the first layer reads only the non-zeros.
    serving: a build for float export rather than training: no dropout layers on the
      input and, in the sparse layout, row normalisation applied after the first linear
      map (see `FeatureTransform`), so an artifact never multiplies all N x F feature
      entries. Not for full int8: the deferred product's int8 range would span every
      node's unnormalised row sum. Weights are those of the training build
      (`transfer_weights`).
  """
  if task not in TASKS:
    raise ValueError(f"task must be one of {TASKS}, got {task!r}.")
  if layout not in LAYOUTS:
    raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}.")
  if layout == "dense" and not capacity:
    raise ValueError("The dense layout needs a node capacity (capacity=C pads every graph "
                     "to C nodes).")
  if layout == "neighbors" and not max_neighbors:
    raise ValueError("The neighbors layout needs max_neighbors=K (at least the largest "
                     "in-degree of the graphs it will be fed).")
  if task == "node" and spec.architecture == "edgeconv":
    raise ValueError("edgeconv (DGCNN) is a graph-level model; use task='graph'.")
  if quantization is not None and spec.architecture == "edgeconv":
    raise ValueError("quantization (qat / dq) covers gcn, gat, sage, gin, mp and mlp; "
                     "edgeconv has no quantized form yet (binarize it instead).")
  _check_features(spec, features, task, layout, quantization)
  inputs = _inputs(spec, num_features, task, layout, capacity, num_edges, batched,
                   max_neighbors, features)
  first = None   # the first layer as a FeatureTransform (see _first_transforms)
  if features != "dense" or (serving and layout == "sparse" and task == "node"
                             and spec.input_normalization == "row" and quantization is None
                             and spec.architecture in _FIRST_LINEAR):
    first = {"num_features": num_features, "row_normalize": spec.input_normalization == "row"}
    h = {k: inputs[k] for k in SPARSE_FEATURE_INPUTS if k in inputs} or inputs["node_features"]
  else:
    h = inputs["node_features"]
    if spec.input_normalization == "row":
      h = gl.RowNormalize(name="row_normalize")(h)
  graph, membership = _graph_and_membership(inputs, task, layout, h)

  def dropout(i):
    return tf.keras.layers.Dropout(spec.dropout, name=f"dropout{i if i >= 0 else '_head'}")

  if task == "node":
    logits = _node_body(spec, num_classes, h, graph, dropout, _Quantized(quantization), first)
    if layout == "dense" and "node_mask" in inputs:
      logits = tf.keras.layers.Multiply(name="mask_padding")(
          [logits, tf.keras.layers.Reshape([1], name="node_mask_column")(inputs["node_mask"])])
  else:
    logits = _graph_body(spec, num_classes, h, graph, membership, dropout,
                         _Quantized(quantization))
  logits = tf.keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
  model = tf.keras.Model(inputs=inputs, outputs={"logits": logits},
                         name=f"{spec.architecture}_{task}_{layout}")
  if quantization is not None and quantization.layers:
    # Per-layer precision (quantization.layers) on every build: training and export alike.
    from edgegnn.quantization.layer_precision import apply_layer_precision  # pylint: disable=g-import-not-at-top
    apply_layer_precision(model, quantization.layer_precisions)
  return model


def transfer_weights(source: tf.keras.Model, target: tf.keras.Model) -> tf.keras.Model:
  """Copies weights between two builds of one spec (e.g. sparse -> dense layout)."""
  src, dst = source.get_weights(), target.get_weights()
  if len(src) != len(dst) or any(a.shape != b.shape for a, b in zip(src, dst)):
    raise ValueError(f"Models {source.name} and {target.name} are not builds of the same "
                     "spec: their weight lists differ.")
  target.set_weights(src)
  return target
