"""The LPGNAS supernet: every choice of the search space computed at once, each weighted by
the softmax of its architecture logits (a continuous relaxation, as in DARTS and LPGNAS).

Layer l with input x and architecture logits a (one vector per component):

    W~     = sum_q softmax(a_prec)_q  FQ_q(W)        q: w4a8 -> 4-bit, w8a8 -> 8-bit
                                                        symmetric weights, float16 -> W
    z      = (x W~) * sum_w softmax(a_width)_w  1[c < w]      (hidden layers; channel mask)
    h      = sum_k softmax(a_att)_k  sum_{s in N(t) u t} alpha^k_ts z_s + b
    h      = sum_f softmax(a_act)_f  f(h)                      (hidden layers)
    y      = sum_q softmax(a_prec)_q  A_q(h)        A: 8-bit fake quantization (int8
                                                        choices) or identity (float16)

The weights W, b, attention vectors and ranges are shared by all choices (one
`Dense(max width)` per layer, one `EdgeAttention` per kind). `expected_weight_bytes` is the
size term: the expectation of `space.genotype_bytes` under the same softmaxes (the choices
of different components taken as independent).
"""
from __future__ import annotations

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.layers import activations as activations_lib
from edgegnn.layers.attention import EdgeAttention
from edgegnn.layers.graph_inputs import RowNormalize
from edgegnn.quantization.fake_quant import ActivationQuantizer, fake_quant
from edgegnn.search import space as space_lib

_WEIGHT_BITS = {"w4a8": 4, "w8a8": 8, "float16": None}


class MixedLayer(tf.keras.layers.Layer):
  """One supernet layer (see the module docstring); `hidden` layers search width and
  activation, the output layer has `units` channels and no activation."""

  def __init__(self, space: space_lib.SearchSpace, units: int, hidden: bool, **kwargs):
    super().__init__(**kwargs)
    self.space, self.hidden = space, hidden
    self.units = space.max_width if hidden else units
    self.transform = tf.keras.layers.Dense(self.units, use_bias=False, name="transform")
    self.attentions = [EdgeAttention(kind, name=f"attention_{kind}")
                       for kind in space.attentions]
    self.output_quantizer = ActivationQuantizer(bits=8, name="output_quantizer")

  def build(self, input_shape):
    self.bias = self.add_weight(name="bias", shape=[self.units], initializer="zeros")
    init = tf.keras.initializers.Zeros()
    self.arch = {"attention": self.add_weight(name="arch_attention", initializer=init,
                                              shape=[len(self.space.attentions)]),
                 "precision": self.add_weight(name="arch_precision", initializer=init,
                                              shape=[len(self.space.precisions)])}
    if self.hidden:
      self.arch["activation"] = self.add_weight(name="arch_activation", initializer=init,
                                                shape=[len(self.space.activations)])
      self.arch["width"] = self.add_weight(name="arch_width", initializer=init,
                                           shape=[len(self.space.widths)])
    super().build(input_shape)

  def probabilities(self) -> dict[str, tf.Tensor]:
    return {name: tf.nn.softmax(logits) for name, logits in self.arch.items()}

  def _kernel(self, p_precision):
    kernel = self.transform.kernel
    bound = tf.stop_gradient(tf.reduce_max(tf.abs(kernel)))
    mixed = 0.0
    for i, precision in enumerate(self.space.precisions):
      bits = _WEIGHT_BITS[precision]
      q = kernel if bits is None else fake_quant(kernel, -bound, bound, bits,
                                                 narrow_range=True)
      mixed += p_precision[i] * q
    return mixed

  def width_mask(self, p_width) -> tf.Tensor:
    channels = tf.range(self.units)[None, :]
    widths = tf.constant(self.space.widths)[:, None]
    return tf.reduce_sum(p_width[:, None] * tf.cast(channels < widths, tf.float32), 0)

  def call(self, x, structure, training=None):
    p = self.probabilities()
    self.transform.build(x.shape) if not self.transform.built else None
    z = tf.matmul(x, self._kernel(p["precision"]))
    if self.hidden:
      z = z * self.width_mask(p["width"])
    z3 = z[:, None, :]                                            # one head: [N, 1, C]
    looped = structure.with_self_loops()
    pooled = 0.0
    for i, attention in enumerate(self.attentions):
      alpha = attention(z3, looped)
      pooled += p["attention"][i] * looped.weighted_neighbor_sum(alpha, z3)[:, 0, :]
    h = pooled + self.bias
    if self.hidden:
      h = tf.add_n([p["activation"][i] * activations_lib.get(name)(h)
                    for i, name in enumerate(self.space.activations)])
    quantized = self.output_quantizer(h, training=training)
    y = 0.0
    for i, precision in enumerate(self.space.precisions):
      y += p["precision"][i] * (h if precision == "float16" else quantized)
    return y


class Supernet(tf.keras.Model):
  """The supernet over a whole graph: `call(features, source, target)` -> logits [N, C]."""

  def __init__(self, space: space_lib.SearchSpace, num_features: int, num_classes: int,
               dropout: float = 0.5, row_normalize: bool = True, **kwargs):
    super().__init__(**kwargs)
    self.space, self.num_features, self.num_classes = space, num_features, num_classes
    self.normalize = RowNormalize(name="row_normalize") if row_normalize else None
    self.dropout = tf.keras.layers.Dropout(dropout)
    self.mixed = [MixedLayer(space, num_classes, hidden=i < space.num_layers - 1,
                             name=f"conv{i}") for i in range(space.num_layers)]

  def call(self, inputs, training=None):
    from edgegnn.layers.structure import SparseStructure  # pylint: disable=g-import-not-at-top
    features, source, target = inputs
    structure = SparseStructure(source, target, tf.shape(features)[0])
    h = self.normalize(features) if self.normalize is not None else features
    for layer in self.mixed:
      h = layer(self.dropout(h, training=training), structure, training=training)
    return h

  def architecture_variables(self) -> list[tf.Variable]:
    return [v for layer in self.mixed for v in layer.arch.values()]

  def weight_variables(self) -> list[tf.Variable]:
    arch = {id(v) for v in self.architecture_variables()}
    return [v for v in self.trainable_variables if id(v) not in arch]

  def expected_weight_bytes(self) -> tf.Tensor:
    """E[genotype_bytes] under the current softmaxes."""
    total, inputs = 0.0, float(self.num_features)
    vectors = tf.constant([space_lib.ATTENTION_VECTORS[k] for k in self.space.attentions],
                          tf.float32)
    bits = tf.constant([space_lib.STORED_BITS[q] for q in self.space.precisions], tf.float32)
    for layer in self.mixed:
      p = layer.probabilities()
      units = (tf.reduce_sum(p["width"] * tf.constant(self.space.widths, tf.float32))
               if layer.hidden else float(layer.units))
      weights = space_lib.layer_weights(inputs, units, tf.reduce_sum(p["attention"] * vectors))
      total += weights * tf.reduce_sum(p["precision"] * bits) / 8.0 + 4.0 * units
      inputs = units
    return total

  def genotype(self) -> space_lib.Genotype:
    """The argmax choice of every component of every layer (activation and precision of a
    hidden layer: the most probable executable pair, `space.executable`)."""
    layers = []
    for layer in self.mixed:
      probs = {k: v.numpy() for k, v in layer.probabilities().items()}
      p = {k: int(v.argmax()) for k, v in probs.items()}
      activation, precision = "none", self.space.precisions[p["precision"]]
      if layer.hidden:   # the most probable pair that TFLite executes
        pairs = [(probs["activation"][a] * probs["precision"][q], act, prec)
                 for a, act in enumerate(self.space.activations)
                 for q, prec in enumerate(self.space.precisions)
                 if space_lib.executable(act, prec)]
        _, activation, precision = max(pairs, key=lambda pair: pair[0])
      layers.append(space_lib.LayerChoice(
          attention=self.space.attentions[p["attention"]], activation=activation,
          units=self.space.widths[p["width"]] if layer.hidden else layer.units,
          precision=precision))
    return space_lib.Genotype(tuple(layers))

  def probability_table(self) -> list[dict]:
    """Per layer, every component's choices with their softmax probabilities."""
    names = {"attention": self.space.attentions, "activation": self.space.activations,
             "width": self.space.widths, "precision": self.space.precisions}
    return [{component: {str(choice): round(float(prob), 4)
                         for choice, prob in zip(names[component], probs.numpy())}
             for component, probs in layer.probabilities().items()}
            for layer in self.mixed]
