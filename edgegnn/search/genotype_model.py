"""A searched genotype as a Keras model of the zoo's input contract (any layout), float or
quantization-aware (Degree-Quant / QAT) at the genotype's per-layer precisions.

Layer i is a single-head `MessagePassing` with the genotype's attention, activation and
width; quantized, its transform is a `QuantDense` and its activations go through a
`LayerQuantization`, then `apply_layer_precision` sets each layer to its w4a8 / w8a8 /
float16 choice. A layer quantizes its input when it is the first one or follows a float16
layer (its input then has no int8 range yet).

    model = build_genotype_model(genotype, num_features=1433, num_classes=7,
                                 quantization=QuantizationConfig("dq"))
    train(ModelSpec("mp", weight_decay=5e-4), cora, TrainConfig(), model=model)
"""
from __future__ import annotations

from typing import Optional

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn import layers as gl
from edgegnn.models import zoo
from edgegnn.models.spec import ModelSpec
from edgegnn.quantization import POINTS, LayerQuantization, ProtectiveMask, QuantDense
from edgegnn.quantization.layer_precision import apply_layer_precision, parse
from edgegnn.search.space import Genotype


def export_format(genotype: Genotype) -> str:
  """The TFLite format of a genotype's quantized model: tflite-int8 when every layer is
  integer, tflite-int8-float16 when int8 and float16 layers mix, tflite-float16 if none is
  integer."""
  floats = [layer.precision == "float16" for layer in genotype.layers]
  if all(floats):
    return "tflite-float16"
  return "tflite-int8-float16" if any(floats) else "tflite-int8"


def build_genotype_model(genotype: Genotype, *, num_features: int, num_classes: int,
                         layout: str = "sparse", max_neighbors: Optional[int] = None,
                         quantization=None, dropout: float = 0.5,
                         row_normalize: bool = True) -> tf.keras.Model:
  """Builds `genotype` for the plain-tensor contract (`edgegnn.models.zoo`, node task).

  Args:
    genotype: the layers (the last one must have `num_classes` units).
    num_features, num_classes: input width and classes.
    layout: sparse (training), neighbors (int8 export; needs max_neighbors) or dense.
    quantization: a `QuantizationConfig` (method dq / qat; its range settings are used, the
      bits come from the genotype), or None for the float model.
    dropout: on every layer's input (training only).
    row_normalize: normalise feature rows inside the model.
  """
  if genotype.layers[-1].units != num_classes:
    raise ValueError(f"The genotype's last layer has {genotype.layers[-1].units} units; the "
                     f"dataset has {num_classes} classes.")
  spec = ModelSpec("mp")
  inputs = zoo._inputs(spec, num_features, "node", layout, None, None, False,  # pylint: disable=protected-access
                       max_neighbors)
  h = inputs["node_features"]
  if row_normalize:
    h = gl.RowNormalize(name="row_normalize")(h)
  graph, _ = zoo._graph_and_membership(inputs, "node", layout, h)  # pylint: disable=protected-access
  protect = None
  if quantization is not None and quantization.masked:
    protect = ProtectiveMask(quantization.p_min, quantization.p_max,
                             name="protective_mask")(graph)
  previous = None
  for i, choice in enumerate(genotype.layers):
    kwargs = {}
    if quantization is not None:
      takes_input = i == 0 or previous == "float16"
      kwargs["transform"] = QuantDense(choice.units, weight_bits=quantization.weight_bits,
                                       use_bias=False, name="transform")
      kwargs["quantization"] = LayerQuantization(
          bits=8, range_tracking=quantization.range_tracking,
          percentile=quantization.percentile, momentum=quantization.momentum,
          points=POINTS if takes_input else tuple(p for p in POINTS if p != "input"),
          name=f"conv{i}_quantization")
    h = tf.keras.layers.Dropout(dropout, name=f"dropout{i}")(h)
    layer = gl.MessagePassing(choice.units, num_heads=1, attention=choice.attention,
                              activation=choice.activation, name=f"conv{i}", **kwargs)
    h = layer((h, graph) if protect is None else (h, graph, protect))
    previous = choice.precision
  logits = tf.keras.layers.Activation("linear", dtype="float32", name="logits")(h)
  model = tf.keras.Model(inputs=inputs, outputs={"logits": logits},
                         name=f"genotype_node_{layout}")
  if quantization is not None:
    apply_layer_precision(model, {f"conv{i}": parse(c.precision, f"genotype.conv{i}")
                                  for i, c in enumerate(genotype.layers)})
  return model
