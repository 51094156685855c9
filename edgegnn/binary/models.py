"""Binary model builders: binary GCN / SAGE (citation graphs) and BinEdgeConv / XorEdgeConv
DGCNN (point clouds), over the zoo's plain-tensor input contract.

| architecture | task | layers |
|---|---|---|
| gcn | node | `num_layers` binary GCN layers (last one -> logits) |
| sage | node | `num_layers` binary SAGE layers |
| bin_edgeconv | graph | `num_layers` BinEdgeConv (real node states, euclidean k-NN) -> DGCNN head |
| xor_edgeconv | graph | BinEdgeConv with sign output, then XorEdgeConv layers (binary node states, Hamming k-NN) -> DGCNN head |

DGCNN head: concat of the layer outputs -> embed `BinaryLinear(embed_units)` -> act ->
mean+max readout -> `BinaryLinear(hidden_units)` -> act -> dropout ->
`BinaryLinear(num_classes, bias)` (binary, or real-valued with `classifier: float`).
The k-NN graphs are computed inside the model from
the node states, so an artifact takes raw points (`node_features` + `node_mask`, dense
layout, one padded graph per call).

The same spec built in the three precisions (float, binary_weights, binary) creates the
same weights in the same order, so the staged distillation initialises each stage from
the previous one with `set_weights`. The first point-cloud layer sees raw (x, y,
intensity) coordinates and is capped at binary_weights (real inputs, binary kernel: a
float CONV_2D after conversion); every other linear map is fully binary (LceBconv2d).
"""
from __future__ import annotations

from typing import Optional

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn import layers as gl
from edgegnn.binary import quantizers
from edgegnn.binary.edge_conv import BinEdgeConv, XorEdgeConv
from edgegnn.binary.config import ARCHITECTURES, BinarySpec  # noqa: F401
from edgegnn.binary.linear import BinaryLinear
from edgegnn.binary.node_conv import binary_gcn_conv, binary_sage_conv


def _capped(precision: str, cap: str) -> str:
  order = quantizers.PRECISIONS
  return order[min(order.index(precision), order.index(cap))]


def _inputs(spec: BinarySpec, num_features: int, layout: str, capacity: Optional[int],
            num_edges: Optional[int], batched: bool):
  inputs = {"node_features": tf.keras.Input([num_features], batch_size=capacity,
                                            name="node_features")}
  if spec.task == "node":
    if layout != "sparse":
      raise ValueError("Binary node models use the sparse layout (edge lists).")
    for name in ("edge_source", "edge_target"):
      inputs[name] = tf.keras.Input([], batch_size=num_edges, dtype=tf.int32, name=name)
  elif layout == "sparse":
    if batched:
      inputs["node_graph_index"] = tf.keras.Input([], batch_size=capacity, dtype=tf.int32,
                                                  name="node_graph_index")
  else:
    inputs["node_mask"] = tf.keras.Input([], batch_size=capacity, name="node_mask")
  return inputs


def _int8_conv(spec: BinarySpec, units: int, activation: str, after_int8: bool, name: str):
  """A quantization-aware int8 GCN / SAGE layer (min/max ranges): int8 weights and
  activations; it quantizes its input unless the previous layer was int8 too."""
  from edgegnn.quantization import POINTS, LayerQuantization, QuantDense  # pylint: disable=g-import-not-at-top
  points = tuple(p for p in POINTS if p != "input") if after_int8 else POINTS
  quantization = LayerQuantization(bits=8, range_tracking="minmax", points=points,
                                   name=f"{name}_quantization")
  if spec.architecture == "gcn":
    return gl.GCNConv(units, activation=activation, name=name, quantization=quantization,
                      transform=QuantDense(units, use_bias=False, name="transform"))
  return gl.SAGEConv(units, activation=activation, name=name, quantization=quantization,
                     self_transform=QuantDense(units, use_bias=False, name="self_transform"),
                     neighbor_transform=QuantDense(units, use_bias=False,
                                                   name="neighbor_transform"))


def _node_body(spec: BinarySpec, precision: str, num_classes: int, inputs):
  graph = gl.GraphTensorFromPieces(name="graph")(
      [inputs["node_features"], inputs["edge_source"], inputs["edge_target"]])
  factory = binary_gcn_conv if spec.architecture == "gcn" else binary_sage_conv
  layer_precisions = spec.layer_precisions or ("binary",) * spec.num_layers
  h = inputs["node_features"]
  for i in range(spec.num_layers):
    last = i == spec.num_layers - 1
    units, act = (num_classes, "none") if last else (spec.hidden_units, spec.activation)
    h = tf.keras.layers.Dropout(spec.input_dropout if i == 0 else spec.dropout,
                                name=f"dropout{i}")(h)
    if layer_precisions[i] == "int8":
      after_int8 = i > 0 and layer_precisions[i - 1] == "int8"
      h = _int8_conv(spec, units, act, after_int8, f"conv{i}")((h, graph))
      continue
    h = factory(units, precision=precision, activation=act, quantizer=spec.quantizer,
                input_offset=spec.input_offset if i == 0 else None,
                name=f"conv{i}")((h, graph))
  return h


def _graph_body(spec: BinarySpec, precision: str, num_classes: int, inputs, layout: str):
  if layout == "sparse":
    source = "node_graph_index" if "node_graph_index" in inputs else "all_nodes"
    membership = gl.Membership(source, name="membership")(
        inputs.get("node_graph_index", inputs["node_features"]))
  else:
    membership = gl.Membership("node_mask", name="membership")(inputs["node_mask"])
  candidates = gl.KnnCandidates(name="knn_candidates")(membership)
  h = inputs["node_features"]
  states = []
  common = dict(k=spec.k, activation=spec.activation, quantizer=spec.quantizer)
  for i in range(spec.num_layers):
    if i == 0:
      layer = BinEdgeConv(spec.hidden_units, precision=_capped(precision, "binary_weights"),
                          metric="euclidean",
                          output_sign=spec.architecture == "xor_edgeconv",
                          name=f"conv{i}", **common)
    elif spec.architecture == "bin_edgeconv":
      layer = BinEdgeConv(spec.hidden_units, precision=precision, metric="euclidean",
                          name=f"conv{i}", **common)
    else:
      layer = XorEdgeConv(spec.hidden_units, precision=precision, metric=spec.metric,
                          name=f"conv{i}", **common)
    h = layer((h, candidates))
    states.append(h)
  h = tf.keras.layers.Concatenate(name="concat_layers")(states) if len(states) > 1 else h
  act = gl.activations.get("relu")
  h = BinaryLinear(spec.embed_units, precision=precision, quantizer=spec.quantizer,
                   name="embed")(h)
  h = tf.keras.layers.Activation(act, name="embed_act")(h)
  pooled = gl.GraphReadout("mean+max", name="readout")((h, membership))
  pooled = BinaryLinear(spec.hidden_units, precision=precision, quantizer=spec.quantizer,
                        name="head")(pooled)
  pooled = tf.keras.layers.Activation(act, name="head_act")(pooled)
  pooled = tf.keras.layers.Dropout(spec.dropout, name="dropout_head")(pooled)
  if spec.classifier == "float":  # BN(h) W Gamma + b: real inputs, no tanh squashing.
    return BinaryLinear(num_classes, precision="float", use_bias=True, real_inputs="identity",
                        quantizer=spec.quantizer, name="classifier")(pooled)
  return BinaryLinear(num_classes, precision=precision, use_bias=True,
                      quantizer=spec.quantizer, name="classifier")(pooled)


def build_binary_model(spec: BinarySpec, *, precision: str = "binary", num_features: int,
                       num_classes: int, layout: Optional[str] = None,
                       capacity: Optional[int] = None, num_edges: Optional[int] = None,
                       batched: bool = False) -> tf.keras.Model:
  """Builds `spec` in `precision` for the plain-tensor input contract.

  Args:
    spec: the binary architecture.
    precision: float, binary_weights or binary.
    num_features, num_classes: input width and classes.
    layout: node models: "sparse" (edge lists). Graph models: "sparse" (training on merged
      graphs with `batched=True`) or "dense" (one graph padded to `capacity`, with
      `node_mask`: the export form). Defaults: sparse for node, dense if a capacity is
      given for graph models.
    capacity: static node count (LCE export needs static shapes).
    num_edges: static edge count of a node model's export.
    batched: graph models, sparse layout: adds `node_graph_index` (training batches).
  """
  quantizers.check_precision(precision)
  if layout is None:
    layout = "dense" if (spec.task == "graph" and capacity) else "sparse"
  if layout not in ("sparse", "dense"):
    raise ValueError(f"layout must be 'sparse' or 'dense', got {layout!r}.")
  if layout == "dense" and not capacity:
    raise ValueError("The dense layout needs a node capacity (capacity=C).")
  inputs = _inputs(spec, num_features, layout, capacity, num_edges, batched)
  if spec.task == "node":
    logits = _node_body(spec, precision, num_classes, inputs)
  else:
    logits = _graph_body(spec, precision, num_classes, inputs, layout)
  logits = tf.keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
  return tf.keras.Model(inputs=inputs, outputs={"logits": logits},
                        name=f"{spec.architecture}_{precision}_{layout}")


def binary_layers(model: tf.keras.Model) -> list[BinaryLinear]:
  """Every `BinaryLinear` of `model`, nested ones included, in creation order."""
  return [layer for layer in model.submodules if isinstance(layer, BinaryLinear)]
