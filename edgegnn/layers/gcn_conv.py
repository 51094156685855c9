"""GCNConv: the graph convolution of Kipf & Welling (ICLR 2017)."""
from __future__ import annotations

from typing import Optional

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.layers import _quantization_hook as hook
from edgegnn.layers import _serialization
from edgegnn.layers import activations
from edgegnn.layers.structure import structure_of


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class GCNConv(tf.keras.layers.Layer):
  r"""Graph convolution with symmetric degree normalisation.

  For node states X and adjacency A (with self-loops if `add_self_loops`):

    H = act( D^{-1/2} (A + I) D^{-1/2} X W + b ),   D_tt = 1 + in-degree(t)

  computed without an edge tensor as `scaled_neighbor_sum(n * XW, n)` over the structure
  with self-loops, with `n = D^{-1/2}`, so the sparse layout needs only GATHER +
  UNSORTED_SEGMENT_SUM and the dense layout one BATCH_MATMUL; the neighbour layout scales
  each entry by n_t before the sum (int8-friendly ranges). The self-loop term is
  one more entry of that sum rather than a separate product and ADD: in a full-int8
  artifact each separately quantized term adds rounding error at the output's scale.

  Call with `(node_states, graph)`; `graph` is a `tfgnn.GraphTensor` (sparse layout) or an
  adjacency [N, N] (dense layout).

  Args:
    units: output channels.
    activation: alias from `edgegnn.layers.activations` ("none", "relu", ...).
    use_bias: adds b.
    add_self_loops: uses A + I (the paper's renormalisation trick).
    transform: the linear map X -> XW as an injected Keras layer; defaults to
      `Dense(units, use_bias=False)`. Swap in a fake-quant or binary transform here.
    kernel_regularizer: regulariser of the default transform's kernel.
    quantization: injected quantization points (`edgegnn.quantization.LayerQuantization`);
      the layer is then called with `(node_states, graph, protect)`.
  """

  def __init__(self, units: int, activation: Optional[str] = "none", use_bias: bool = True,
               add_self_loops: bool = True,
               transform: Optional[tf.keras.layers.Layer] = None,
               kernel_regularizer=None,
               quantization: Optional[tf.keras.layers.Layer] = None, **kwargs):
    super().__init__(**kwargs)
    self.units = _serialization.check_units("units", units)
    activations.get(activation)  # rejects an unknown alias here, not in call()
    self.activation = activation
    self.use_bias = use_bias
    self.add_self_loops = add_self_loops
    self.kernel_regularizer = tf.keras.regularizers.get(kernel_regularizer)
    self.transform = _serialization.deserialize(transform) or tf.keras.layers.Dense(
        units, use_bias=False, kernel_regularizer=self.kernel_regularizer, name="transform")
    self.quantization = _serialization.deserialize(quantization)

  def build(self, input_shape):
    if self.use_bias:
      self.bias = self.add_weight(name="bias", shape=[self.units], initializer="zeros")
    super().build(input_shape)

  def call(self, inputs, training=None):
    node_states, graph, protect = hook.split_inputs(inputs)
    q = lambda x, point: hook.quantize(self.quantization, x, point, protect, training)
    structure = structure_of(graph)
    if self.add_self_loops:
      structure = structure.with_self_loops()
    values = q(self.transform(q(node_states, "input")), "message")
    norm = structure.degree_function(lambda degree: tf.math.rsqrt(tf.maximum(degree, 1.0)))
    result = structure.scaled_neighbor_sum(tf.expand_dims(norm, 1) * values, norm)
    result.set_shape(values.shape)  # the sparse layout's segment count is not static
    result = q(result, "aggregate")
    if self.use_bias:
      result += self.bias
    return q(activations.get(self.activation)(result), "output")

  def get_config(self):
    return dict(super().get_config(), units=self.units, activation=self.activation,
                use_bias=self.use_bias, add_self_loops=self.add_self_loops,
                transform=_serialization.serialize(self.transform),
                quantization=_serialization.serialize(self.quantization),
                kernel_regularizer=tf.keras.regularizers.serialize(self.kernel_regularizer)
                if self.kernel_regularizer else None)
