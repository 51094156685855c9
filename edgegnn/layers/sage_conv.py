"""SAGEConv: GraphSAGE with the mean aggregator (Hamilton et al., NeurIPS 2017)."""
from __future__ import annotations

from typing import Optional

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.layers import _quantization_hook as hook
from edgegnn.layers import _serialization
from edgegnn.layers import activations
from edgegnn.layers.structure import reciprocal, structure_of


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class SAGEConv(tf.keras.layers.Layer):
  r"""GraphSAGE convolution, mean aggregator:

    h'_t = act( W_self x_t + W_neigh (1/|N(t)|) sum_{s in N(t)} x_s + b )

  optionally L2-normalised. W_neigh is applied before the mean (it is linear), so the
  aggregation runs on `units` channels, not the input width.

  Call with `(node_states, graph)`: `graph` a `tfgnn.GraphTensor` or an adjacency [N, N].

  Args:
    units: output channels.
    activation: activation alias.
    use_bias: adds b.
    normalize: L2-normalises h'_t.
    self_transform, neighbor_transform: injected linear maps (default
      `Dense(units, use_bias=False)` each).
    kernel_regularizer: regulariser of the default transforms' kernels.
    quantization: injected quantization points (`edgegnn.quantization.LayerQuantization`);
      the layer is then called with `(node_states, graph, protect)`.
  """

  def __init__(self, units: int, activation: Optional[str] = "none", use_bias: bool = True,
               normalize: bool = False,
               self_transform: Optional[tf.keras.layers.Layer] = None,
               neighbor_transform: Optional[tf.keras.layers.Layer] = None,
               kernel_regularizer=None,
               quantization: Optional[tf.keras.layers.Layer] = None, **kwargs):
    super().__init__(**kwargs)
    self.units = _serialization.check_units("units", units)
    activations.get(activation)  # rejects an unknown alias here, not in call()
    self.activation = activation
    self.use_bias = use_bias
    self.normalize = normalize
    self.kernel_regularizer = tf.keras.regularizers.get(kernel_regularizer)
    self.self_transform = _serialization.deserialize(self_transform) or tf.keras.layers.Dense(
        units, use_bias=False, kernel_regularizer=self.kernel_regularizer, name="self_transform")
    self.neighbor_transform = (
        _serialization.deserialize(neighbor_transform) or tf.keras.layers.Dense(
            units, use_bias=False, kernel_regularizer=self.kernel_regularizer,
            name="neighbor_transform"))
    self.quantization = _serialization.deserialize(quantization)

  def build(self, input_shape):
    if self.use_bias:
      self.bias = self.add_weight(name="bias", shape=[self.units], initializer="zeros")
    super().build(input_shape)

  def call(self, inputs, training=None):
    node_states, graph, protect = hook.split_inputs(inputs)
    q = lambda x, point: hook.quantize(self.quantization, x, point, protect, training)
    node_states = q(node_states, "input")
    structure = structure_of(graph)
    inverse_degree = structure.degree_function(
        lambda degree: reciprocal(tf.maximum(degree, 1.0)))
    neighbors = structure.scaled_neighbor_sum(q(self.neighbor_transform(node_states), "message"),
                                              inverse_degree)
    result = q(self.self_transform(node_states) + q(neighbors, "aggregate"), "output")
    if self.use_bias:
      result += self.bias
    result = activations.get(self.activation)(result)
    if self.normalize:
      result = tf.math.l2_normalize(result, axis=-1)
    return result

  def get_config(self):
    return dict(super().get_config(), units=self.units, activation=self.activation,
                use_bias=self.use_bias, normalize=self.normalize,
                self_transform=_serialization.serialize(self.self_transform),
                neighbor_transform=_serialization.serialize(self.neighbor_transform),
                quantization=_serialization.serialize(self.quantization),
                kernel_regularizer=tf.keras.regularizers.serialize(self.kernel_regularizer)
                if self.kernel_regularizer else None)
