"""Node features given as their non-zeros, and the first linear map that reads only those.

Bag-of-words features are mostly zeros: Cora's 2708 x 1433 matrix has 49,216 non-zeros
(1.3 %), all 1.0. A dense first layer reads all 3.9 M entries and does N x F x units
multiply-adds on every call; a layer that gathers one weight row per non-zero does
nnz x units adds (Cora, 16 units: 0.8 M instead of 62 M).

The sparse-feature input contract (names are SignatureDef names):

| input | shape, dtype | meaning |
|---|---|---|
| feature_node | [nnz] int32 | the node of each non-zero, ascending, every node 0..N-1 present |
| feature_index | [nnz] int32 | its column, in [0, F]; F is padding (a zero weight row) |
| feature_value | [nnz] float32 | its value (absent in the binary variant, where every value is 1) |

Every node appears: the feed adds one padding entry (node n, column F, value 0) for each
node n without a non-zero. TFLite's SEGMENT_SUM needs it twice over: its segment count is
the largest id + 1, and consecutive ids may differ by 0 or 1 only (it fails otherwise).
`edgegnn.models.feeds.sparse_feature_lists` builds these arrays with numpy.
"""
from __future__ import annotations

from typing import Optional

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.layers import _serialization
from edgegnn.layers import activations
from edgegnn.layers.structure import reciprocal

SPARSE_FEATURE_INPUTS = ("feature_node", "feature_index", "feature_value")


def is_sparse_features(x) -> bool:
  return isinstance(x, dict) and "feature_index" in x


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class FeatureTransform(tf.keras.layers.Layer):
  r"""Y = act(norm(X) W + b) for node features X [N, F] given dense or as their non-zeros.

  Dense input: a matmul (FULLY_CONNECTED), as `tf.keras.layers.Dense`.
  Sparse input (a dict of the contract above, values v_k at (n_k, c_k)):

    (X W)_n = sum_{k: n_k = n} v_k W[c_k, :]

  computed as SEGMENT_SUM(GATHER(W', c) * v, n) with W' = W plus a zero row at index F
  (padding). The binary variant has no values and no MUL.

  With `row_normalize`, X is divided row-wise by s_n = max(sum_j X_nj, min_total) (GCN's
  feature preprocessing, `RowNormalize`). Because (X / s) W = (X W) / s, the division is
  applied to the F-times-narrower output instead of all N x F entries. Sparse input: s
  comes from the same gather, by a column of ones appended to W. Dense input: s is a
  SUM over the rows (a 17th matmul column would cost XNNPACK's 16-wide GEMM tiles twice
  the time: Cora 5.0 against 2.4 ms). Rows that sum to 0 stay 0.

  The weights are `kernel` [F, units] (and `bias` [units]) in that order, as in
  `Dense`, so a model trained with a Dense first layer moves its weights here unchanged.

  Args:
    units: output channels.
    num_features: F (the sparse input does not carry it).
    use_bias: adds b.
    activation: alias from `edgegnn.layers.activations`.
    row_normalize: divide each feature row by its sum first (see above).
    min_total: the smallest divisor s (`RowNormalize.min_total`).
    kernel_regularizer: regulariser of W.
  """

  def __init__(self, units: int, num_features: int, use_bias: bool = False,
               activation: Optional[str] = "none", row_normalize: bool = False,
               min_total: float = 1.0, kernel_regularizer=None, **kwargs):
    super().__init__(**kwargs)
    self.units = _serialization.check_units("units", units)
    self.num_features = _serialization.check_units("num_features", num_features)
    self.use_bias = bool(use_bias)
    activations.get(activation)
    self.activation = activation
    self.row_normalize = bool(row_normalize)
    if not min_total > 0:
      raise ValueError(f"min_total must be > 0, got {min_total!r}.")
    self.min_total = float(min_total)
    self.kernel_regularizer = tf.keras.regularizers.get(kernel_regularizer)

  def build(self, input_shape):
    self.kernel = self.add_weight(name="kernel", shape=[self.num_features, self.units],
                                  regularizer=self.kernel_regularizer)
    if self.use_bias:
      self.bias = self.add_weight(name="bias", shape=[self.units], initializer="zeros")
    super().build(input_shape)

  def call(self, inputs):
    if is_sparse_features(inputs):
      table = self.kernel
      if self.row_normalize:   # the row sums as a last column
        table = tf.concat([table, tf.ones([self.num_features, 1], table.dtype)], 1)
      padded = tf.concat([table, tf.zeros([1, table.shape[1]], table.dtype)], 0)
      rows = tf.gather(padded, tf.cast(inputs["feature_index"], tf.int32))
      if "feature_value" in inputs:
        rows = rows * tf.expand_dims(tf.cast(inputs["feature_value"], rows.dtype), -1)
      product = tf.math.segment_sum(rows, tf.cast(inputs["feature_node"], tf.int32))
      if self.row_normalize:
        total = product[:, self.units:]
        product = product[:, :self.units]
    else:
      product = tf.matmul(inputs, self.kernel)
      if self.row_normalize:
        total = tf.reduce_sum(inputs, axis=-1, keepdims=True)
    if self.row_normalize:
      product = product * reciprocal(tf.maximum(total, self.min_total))
    if self.use_bias:
      product += self.bias
    return activations.get(self.activation)(product)

  def get_config(self):
    return dict(super().get_config(), units=self.units, num_features=self.num_features,
                use_bias=self.use_bias, activation=self.activation,
                row_normalize=self.row_normalize, min_total=self.min_total,
                kernel_regularizer=tf.keras.regularizers.serialize(self.kernel_regularizer)
                if self.kernel_regularizer else None)
