"""MessagePassing: the configurable attention layer of the LPGNAS search space."""
from __future__ import annotations

from typing import Optional

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.layers import _quantization_hook as hook
from edgegnn.layers import _serialization
from edgegnn.layers import activations
from edgegnn.layers import attention as attention_lib
from edgegnn.layers.structure import structure_of


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class MessagePassing(tf.keras.layers.Layer):
  r"""Multi-head attention message passing with a choice of attention and activation.

  With per-head states z_s = (W x_s) reshaped to [H, C] and coefficients alpha_ts of the
  chosen `attention` kind (see `edgegnn.layers.attention`), over N(t) plus a self-loop:

    h'_{t,h} = sum_{s in N(t) u {t}} alpha_{ts,h} z_{s,h}
    h'_t     = act( concat_h h'_{t,h} + b )   (or the mean over heads if not concat_heads)

  This spans the LPGNAS / GraphNAS space: attention in const, gcn, gat, sym-gat, cos,
  linear, gene-linear; activation in none, sigmoid, tanh, softplus, relu, leaky_relu,
  relu6, elu.

  Call with `(node_states, graph)`: `graph` a `tfgnn.GraphTensor` or an adjacency [N, N].

  Args:
    units: channels per head.
    num_heads: H.
    attention: attention alias.
    activation: activation alias.
    concat_heads: concatenates heads (H * units outputs) or averages them (units).
    attention_dropout: dropout rate on alpha during training.
    use_bias: adds b.
    transform: injected linear map x -> W x with H * units outputs; defaults to
      `Dense(num_heads * units, use_bias=False)`.
    kernel_regularizer: regulariser of the default transform's kernel.
    quantization: injected quantization points (`edgegnn.quantization.LayerQuantization`);
      the layer is then called with `(node_states, graph, protect)`.
  """

  def __init__(self, units: int, num_heads: int = 1, attention: str = "gat",
               activation: Optional[str] = "none", concat_heads: bool = True,
               attention_dropout: float = 0.0, use_bias: bool = True,
               transform: Optional[tf.keras.layers.Layer] = None,
               kernel_regularizer=None,
               quantization: Optional[tf.keras.layers.Layer] = None, **kwargs):
    super().__init__(**kwargs)
    self.units = _serialization.check_units("units", units)
    self.num_heads = _serialization.check_units("num_heads", num_heads)
    activations.get(activation)  # rejects an unknown alias here, not in call()
    self.activation = activation
    self.attention = attention
    self.score = attention_lib.get(attention, name="attention")
    if not 0.0 <= attention_dropout < 1.0:
      raise ValueError(f"attention_dropout must be in [0, 1), got {attention_dropout}.")
    self.attention_dropout = attention_dropout
    self.concat_heads = concat_heads
    self.use_bias = use_bias
    self.kernel_regularizer = tf.keras.regularizers.get(kernel_regularizer)
    self.transform = _serialization.deserialize(transform) or tf.keras.layers.Dense(
        num_heads * units, use_bias=False, kernel_regularizer=self.kernel_regularizer,
        name="transform")
    self.dropout = tf.keras.layers.Dropout(attention_dropout)
    self.quantization = _serialization.deserialize(quantization)

  @property
  def output_units(self) -> int:
    return self.num_heads * self.units if self.concat_heads else self.units

  def build(self, input_shape):
    if self.use_bias:
      self.bias = self.add_weight(name="bias", shape=[self.output_units], initializer="zeros")
    super().build(input_shape)

  def call(self, inputs, training=None):
    node_states, graph, protect = hook.split_inputs(inputs)
    q = lambda x, point: hook.quantize(self.quantization, x, point, protect, training)
    structure = structure_of(graph).with_self_loops()
    z = tf.reshape(q(self.transform(q(node_states, "input")), "message"),
                   [-1, self.num_heads, self.units])
    alpha = self.dropout(q(self.score(z, structure), "attention"), training=training)
    pooled = q(structure.weighted_neighbor_sum(alpha, z), "aggregate")   # [N, H, C]
    if self.concat_heads:
      result = tf.reshape(pooled, [-1, self.num_heads * self.units])
    else:
      result = tf.reduce_mean(pooled, axis=1)
    if self.use_bias:
      result += self.bias
    return q(activations.get(self.activation)(result), "output")

  def get_config(self):
    return dict(super().get_config(), units=self.units, num_heads=self.num_heads,
                attention=self.attention, activation=self.activation,
                concat_heads=self.concat_heads, attention_dropout=self.attention_dropout,
                use_bias=self.use_bias, transform=_serialization.serialize(self.transform),
                quantization=_serialization.serialize(self.quantization),
                kernel_regularizer=tf.keras.regularizers.serialize(self.kernel_regularizer)
                if self.kernel_regularizer else None)
