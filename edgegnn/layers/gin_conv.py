"""GINConv: the graph isomorphism network layer (Xu et al., ICLR 2019)."""
from __future__ import annotations

from typing import Optional

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.layers import _quantization_hook as hook
from edgegnn.layers import _serialization
from edgegnn.layers.structure import structure_of


def default_mlp(units: int, batch_norm: bool = True, name: str = "mlp",
                dense=tf.keras.layers.Dense) -> tf.keras.Sequential:
  """GIN's two-layer MLP: Dense -> [BN] -> ReLU -> Dense -> [BN] -> ReLU.

  `dense` builds the linear layers (e.g. a fake-quant `QuantDense`).
  """
  layers = []
  for i in range(2):   # named, so two builds of one spec share variable names
    layers.append(dense(units, use_bias=not batch_norm, name=f"{name}_dense{i}"))
    if batch_norm:
      layers.append(tf.keras.layers.BatchNormalization(name=f"{name}_batch_norm{i}"))
    layers.append(tf.keras.layers.ReLU(name=f"{name}_relu{i}"))
  return tf.keras.Sequential(layers, name=name)


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class GINConv(tf.keras.layers.Layer):
  r"""Graph isomorphism convolution with sum aggregation:

    h'_t = MLP( (1 + eps) x_t + sum_{s in N(t)} x_s )

  `eps` is learned when `learn_epsilon` (GIN), else fixed at `epsilon` (GIN-0 with 0).

  Call with `(node_states, graph)`: `graph` a `tfgnn.GraphTensor` or an adjacency [N, N].

  Args:
    units: output channels of the default MLP.
    mlp: injected Keras layer applied after aggregation (default `default_mlp(units)`).
    epsilon: initial / fixed eps.
    learn_epsilon: makes eps a trainable scalar.
    quantization: injected quantization points (`edgegnn.quantization.LayerQuantization`);
      the layer is then called with `(node_states, graph, protect)`.
  """

  def __init__(self, units: int, mlp: Optional[tf.keras.layers.Layer] = None,
               epsilon: float = 0.0, learn_epsilon: bool = False,
               quantization: Optional[tf.keras.layers.Layer] = None, **kwargs):
    super().__init__(**kwargs)
    self.units = _serialization.check_units("units", units)
    self.mlp = _serialization.deserialize(mlp) or default_mlp(units)
    self.epsilon_init = float(epsilon)
    self.learn_epsilon = learn_epsilon
    self.quantization = _serialization.deserialize(quantization)

  def build(self, input_shape):
    self.epsilon = self.add_weight(name="epsilon", shape=[],
                                   initializer=tf.keras.initializers.Constant(self.epsilon_init),
                                   trainable=self.learn_epsilon)
    super().build(input_shape)

  def call(self, inputs, training=None):
    node_states, graph, protect = hook.split_inputs(inputs)
    q = lambda x, point: hook.quantize(self.quantization, x, point, protect, training)
    node_states = q(node_states, "input")
    structure = structure_of(graph)
    pooled = q((1.0 + self.epsilon) * node_states + structure.neighbor_sum(node_states),
               "aggregate")
    return q(self.mlp(pooled, training=training), "output")

  def get_config(self):
    return dict(super().get_config(), units=self.units, mlp=_serialization.serialize(self.mlp),
                epsilon=self.epsilon_init, learn_epsilon=self.learn_epsilon,
                quantization=_serialization.serialize(self.quantization))
