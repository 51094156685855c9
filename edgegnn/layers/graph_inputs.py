"""Layers that turn the plain-tensor input contract into graph structures."""
from __future__ import annotations

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf
import tensorflow_gnn as tfgnn

from edgegnn.layers.structure import DEGREE_FEATURE, EDGE_SET, NODE_SET, reciprocal


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class GraphTensorFromPieces(tf.keras.layers.Layer):
  """Builds a one-component `tfgnn.GraphTensor` from `(node_features, edge_source,
  edge_target)`: node set "nodes" (feature "hidden_state"), edge set "edges".

  A fourth piece, `in_degree` [N] int32, is stored as the node feature "in_degree"; the
  sparse structure then reads node degrees from it instead of counting the edges on every
  call (`SparseStructure.from_graph_tensor`). When the features are given as their
  non-zeros (`edgegnn.layers.sparse_features`), build the layer with
  `node_features=False` and pass `in_degree` in the first place too: it sizes the node set,
  and no "hidden_state" is stored.

  Args:
    node_features: whether the first input is the node features (else only its length N
      is used).

  Building the GraphTensor inside the model keeps the model's inputs plain tensors, which
  is what TFLite converts (TF-GNN's own TFLite tests do the same).
  """

  def __init__(self, node_features: bool = True, **kwargs):
    super().__init__(**kwargs)
    self.node_features = bool(node_features)

  def call(self, inputs):
    node_features, edge_source, edge_target = inputs[:3]
    in_degree = inputs[3] if len(inputs) > 3 else None
    num_nodes = tf.shape(node_features)[0:1]
    num_edges = tf.shape(edge_source)[0:1]
    features = {}
    if self.node_features:
      features[tfgnn.HIDDEN_STATE] = node_features
    if in_degree is not None:
      features[DEGREE_FEATURE] = tf.cast(in_degree, tf.int32)
    return tfgnn.GraphTensor.from_pieces(
        node_sets={NODE_SET: tfgnn.NodeSet.from_fields(sizes=num_nodes, features=features)},
        edge_sets={EDGE_SET: tfgnn.EdgeSet.from_fields(
            sizes=num_edges,
            adjacency=tfgnn.Adjacency.from_indices(
                source=(NODE_SET, tf.cast(edge_source, tf.int32)),
                target=(NODE_SET, tf.cast(edge_target, tf.int32))))})

  def get_config(self):
    return dict(super().get_config(), node_features=self.node_features)


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class RowNormalize(tf.keras.layers.Layer):
  """GCN's feature preprocessing, kept inside the model so a deployed artifact takes raw
  features:

    x'_i = x_i / max(sum_j x_ij, min_total)      (rows summing to 0 stay 0).

  `min_total` bounds the reciprocal. With bag-of-words or other count features every
  non-empty row sums to >= 1, so the default 1.0 changes nothing in float; it matters for
  full-int8 artifacts, where the reciprocal tensor gets one int8 scale: with a tiny floor
  an empty feature row (CiteSeer has 48) makes it 1e6 and every real row's scale rounds
  to 0 (agreement 0.18 on CiteSeer). For real-valued features whose rows sum below 1,
  set `min_total` to their smallest positive row sum.

  Args:
    min_total: the smallest divisor, > 0.
  """

  def __init__(self, min_total: float = 1.0, **kwargs):
    super().__init__(**kwargs)
    if not min_total > 0:
      raise ValueError(f"min_total must be > 0, got {min_total!r}.")
    self.min_total = float(min_total)

  def call(self, node_features):
    total = tf.reduce_sum(node_features, axis=-1, keepdims=True)
    return node_features * reciprocal(tf.maximum(total, self.min_total))

  def get_config(self):
    return dict(super().get_config(), min_total=self.min_total)


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class Membership(tf.keras.layers.Layer):
  """The readout membership matrix M [G, N] from `node_graph_index` [N] (a batch of merged
  graphs) or from `node_mask` [N] (one padded graph, G = 1)."""

  def __init__(self, source: str = "node_mask", **kwargs):
    super().__init__(**kwargs)
    if source not in ("node_mask", "node_graph_index", "all_nodes"):
      raise ValueError(f"Unknown membership source {source!r}.")
    self.source = source

  def call(self, tensor):
    if self.source == "node_graph_index":
      index = tf.cast(tensor, tf.int32)
      return tf.transpose(tf.one_hot(index, tf.reduce_max(index) + 1, dtype=tf.float32))
    if self.source == "all_nodes":
      return tf.ones_like(tensor[None, :, 0])
    return tf.cast(tensor, tf.float32)[None, :]

  def get_config(self):
    return dict(super().get_config(), source=self.source)


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class KnnCandidates(tf.keras.layers.Layer):
  """The [N, N] candidate mask of `EdgeConv` from a membership matrix M [G, N]:
  C = M^T M (1 where two nodes are real nodes of the same graph)."""

  def call(self, membership):
    return tf.matmul(membership, membership, transpose_a=True)
