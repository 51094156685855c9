"""CPF student (Yang, Liu, Shi, WWW 2021): Parameterized Label Propagation + Feature
Transformation, combined by a trainable per-node gate, trained on a teacher's soft labels.

For node v with features x_v, in-neighbours N(v) (plus v itself when `add_self_loops`),
a learned confidence c_u of each node and a per-node gate g_v = sigmoid(gamma_v):

    c_u   = <a, dropout(x_u)>             (inductive: a in R^F)   or   c_u = theta_u (transductive)
    w_uv  = exp(c_u) / sum_{k in N(v)} exp(c_k)                       (edge confidence of u -> v)
    ft_v  = softmax(FT(dropout(x_v)))                                  (Feature Transformation)
    f_v^0 = y_v (one-hot) for labelled v,  1/C (uniform) otherwise
    f_v^k = g_v * sum_{u in N(v)} w_uv f_u^{k-1} + (1 - g_v) * ft_v,   k = 1..K
    f_v^k = y_v for labelled v (clamped after every step)

The layer returns log f^K (so softmax of its output is f^K; argmax is the prediction).
CPF trains it with soft-label cross-entropy to the teacher's probabilities on the nodes
that are not labelled training nodes (`soft_targets.soft_label_loss`).

The labelled set and its labels are non-trainable weights (`set_prior`), so the layer's
config stays small and save -> reload round-trips through `get_config` + weights. The
per-node gate (and transductive confidences) bind the layer to one graph of `num_nodes`.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.distill.config import CPF_CONFIDENCES
from edgegnn.distill.cpf_export import EXPORT_FORMATS, EXPORT_LAYOUT, check_export  # noqa: F401
from edgegnn.layers import _serialization
from edgegnn.layers.structure import structure_of

CONFIDENCES = CPF_CONFIDENCES


def default_feature_transform(num_classes: int, hidden_units: int = 0,
                              name: str = "feature_transform") -> tf.keras.Sequential:
  """FT: a linear map to classes (hidden_units=0, CPF's default) or a 2-layer ReLU MLP."""
  layers = []
  if hidden_units:
    layers.append(tf.keras.layers.Dense(hidden_units, activation="relu"))
  layers.append(tf.keras.layers.Dense(num_classes))
  return tf.keras.Sequential(layers, name=name)


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class ParameterizedLabelPropagation(tf.keras.layers.Layer):
  """CPF's PLP + FT student layer (formulas in the module doc).

  Call with `(node_features, graph)`: `graph` a `tfgnn.GraphTensor` (sparse layout) or an
  adjacency [N, N] (dense layout), with exactly `num_nodes` nodes.

  Args:
    num_nodes: N, nodes of the (one, transductive) graph: sizes the per-node gate.
    num_classes: C.
    num_steps: K propagation steps (CPF uses 10).
    confidence: "inductive" (c_u from features) or "transductive" (a free c_u per node).
    feature_transform: the FT map features -> class scores as an injected Keras layer
      (default `default_feature_transform(num_classes)`, linear).
    dropout: dropout on features (before confidence and FT).
    edge_dropout: dropout on the edge confidences w_uv.
    add_self_loops: lets a node keep part of its own label (needed for isolated nodes).
    eps: floor inside log f: the output is log(f + eps), >= log(eps) (-13.8 at the default).
      Kept representable in float16 (its smallest subnormal is 6e-8; 1e-8 rounds to 0 there
      and a float16 artifact would give -inf where f underflows).
  """

  def __init__(self, num_nodes: int, num_classes: int, num_steps: int = 10,
               confidence: str = "inductive",
               feature_transform: Optional[tf.keras.layers.Layer] = None,
               dropout: float = 0.0, edge_dropout: float = 0.0,
               add_self_loops: bool = True, eps: float = 1e-6, **kwargs):
    super().__init__(**kwargs)
    self.num_nodes = _serialization.check_units("num_nodes", num_nodes)
    self.num_classes = _serialization.check_units("num_classes", num_classes)
    self.num_steps = _serialization.check_units("num_steps", num_steps)
    if confidence not in CONFIDENCES:
      raise ValueError(f"confidence must be one of {', '.join(CONFIDENCES)}, got "
                       f"{confidence!r}; 'inductive' computes it from node features.")
    for name, value in (("dropout", dropout), ("edge_dropout", edge_dropout)):
      if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}.")
    if not eps > 0:
      raise ValueError(f"eps must be > 0, got {eps}.")
    self.confidence = confidence
    self.feature_transform = (_serialization.deserialize(feature_transform)
                              or default_feature_transform(num_classes))
    self.dropout = float(dropout)
    self.edge_dropout = float(edge_dropout)
    self.add_self_loops = add_self_loops
    self.eps = float(eps)
    self._feature_dropout = tf.keras.layers.Dropout(self.dropout)
    self._edge_dropout = tf.keras.layers.Dropout(self.edge_dropout)

  def build(self, input_shape):
    features_shape = input_shape[0]
    num_features = int(features_shape[-1])
    gain = np.sqrt(2.0)  # CPF: xavier normal with the ReLU gain
    if self.confidence == "inductive":
      self.confidence_kernel = self.add_weight(
          name="confidence_kernel", shape=[num_features, 1],
          initializer=tf.keras.initializers.VarianceScaling(gain ** 2, "fan_avg", "normal"))
    else:
      self.node_confidence = self.add_weight(
          name="node_confidence", shape=[self.num_nodes, 1],
          initializer=tf.keras.initializers.VarianceScaling(gain ** 2, "fan_avg", "normal"))
    self.gate_logits = self.add_weight(name="gate_logits", shape=[self.num_nodes, 1],
                                       initializer="zeros")
    self.prior_labels = self.add_weight(
        name="prior_labels", shape=[self.num_nodes, self.num_classes], trainable=False,
        initializer=tf.keras.initializers.Constant(1.0 / self.num_classes))
    self.label_mask = self.add_weight(name="label_mask", shape=[self.num_nodes, 1],
                                      trainable=False, initializer="zeros")
    self.feature_transform.build(features_shape)
    super().build(input_shape)

  def set_prior(self, labelled_index, labels) -> None:
    """Clamps nodes `labelled_index` to one-hot `labels`; every other node starts uniform."""
    labelled_index = np.asarray(labelled_index, np.int64)
    labels = np.asarray(labels, np.int64)
    if labelled_index.shape != labels.shape:
      raise ValueError(f"set_prior: {len(labelled_index)} indices for {len(labels)} labels.")
    if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
      raise ValueError(f"set_prior: labels must be in [0, {self.num_classes}).")
    prior = np.full([self.num_nodes, self.num_classes], 1.0 / self.num_classes, np.float32)
    prior[labelled_index] = np.eye(self.num_classes, dtype=np.float32)[labels]
    mask = np.zeros([self.num_nodes, 1], np.float32)
    mask[labelled_index] = 1.0
    self.prior_labels.assign(prior)
    self.label_mask.assign(mask)

  def gate(self) -> tf.Tensor:
    """g_v, [N, 1]: the weight of propagation against feature transformation."""
    return tf.sigmoid(self.gate_logits)

  def call(self, inputs, training=None):
    node_features, graph = inputs
    structure = structure_of(graph)
    if self.add_self_loops:
      structure = structure.with_self_loops()
    x = self._feature_dropout(node_features, training=training)
    if self.confidence == "inductive":
      node_scores = tf.matmul(x, self.confidence_kernel)                   # [N, 1]
    else:
      node_scores = self.node_confidence
    edge_weights = structure.softmax_at_target(structure.source_values(node_scores))
    edge_weights = self._edge_dropout(edge_weights, training=training)
    transformed = tf.nn.softmax(self.feature_transform(x, training=training), -1)
    gate, mask = self.gate(), self.label_mask
    clamped = mask * self.prior_labels
    labels = self.prior_labels
    for _ in range(self.num_steps):
      propagated = structure.weighted_neighbor_sum(edge_weights, labels[:, None, :])[:, 0, :]
      labels = gate * propagated + (1.0 - gate) * transformed
      labels = clamped + (1.0 - mask) * labels
    return tf.math.log(labels + self.eps)

  def get_config(self):
    return dict(super().get_config(), num_nodes=self.num_nodes, num_classes=self.num_classes,
                num_steps=self.num_steps, confidence=self.confidence,
                feature_transform=_serialization.serialize(self.feature_transform),
                dropout=self.dropout, edge_dropout=self.edge_dropout,
                add_self_loops=self.add_self_loops, eps=self.eps)


def build_cpf_student(num_features: int, num_classes: int, num_nodes: int, labelled_index,
                      labels, *, num_steps: int = 10, confidence: str = "inductive",
                      hidden_units: int = 0, dropout: float = 0.5, edge_dropout: float = 0.0,
                      input_normalization: str = "none") -> tf.keras.Model:
  """A CPF student on the zoo's sparse input contract (node_features, edge_source,
  edge_target) returning {"logits": log f^K}, with the prior set from `labels`.

  Args:
    labelled_index: training nodes whose labels are clamped (never the test nodes).
    labels: their class ids.
    input_normalization: "row" divides each feature row by its sum (as the teachers do).
  """
  from edgegnn import layers as gl  # pylint: disable=g-import-not-at-top
  inputs = {"node_features": tf.keras.Input([num_features], name="node_features"),
            "edge_source": tf.keras.Input([], dtype=tf.int32, name="edge_source"),
            "edge_target": tf.keras.Input([], dtype=tf.int32, name="edge_target")}
  h = inputs["node_features"]
  if input_normalization == "row":
    h = gl.RowNormalize(name="row_normalize")(h)
  elif input_normalization != "none":
    raise ValueError(f"input_normalization must be 'row' or 'none', got {input_normalization!r}.")
  graph = gl.GraphTensorFromPieces(name="graph")([h, inputs["edge_source"],
                                                  inputs["edge_target"]])
  plp = ParameterizedLabelPropagation(
      num_nodes, num_classes, num_steps=num_steps, confidence=confidence,
      feature_transform=default_feature_transform(num_classes, hidden_units),
      dropout=dropout, edge_dropout=edge_dropout, name="plp")
  logits = plp((h, graph))
  logits = tf.keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
  model = tf.keras.Model(inputs=inputs, outputs={"logits": logits}, name="cpf_student")
  plp.set_prior(labelled_index, labels)
  return model
