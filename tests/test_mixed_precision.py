"""Per-layer precision that ships: int8 + float16 layers in one TFLite artifact, a binary
first layer + int8 output layer in one lce artifact, and TFLite's 16x8 mode; each runs on
its interpreter and agrees >= 0.97 with its Keras model, and `layer_bit_widths` reads every
layer's real precision from the flatbuffer."""
import numpy as np
import pytest

from edgegnn.binary.staged import BinarizeConfig, binarize, export_model, predict_logits
from edgegnn.deploy.convert import convert
from edgegnn.deploy.layer_bits import layer_bit_widths
from edgegnn.models import ModelSpec, build_model, feeds, transfer_weights
from edgegnn.quantization import QuantizationConfig
from edgegnn.quantization.layer_precision import apply_layer_precision
from edgegnn.runtime import open_runtime, read_model
from edgegnn.training import TrainConfig, make_task, train


def _agreement(model, artifact, feed, index):
  keras = model(feed)["logits"].numpy()[index].argmax(-1)
  tflite = open_runtime(artifact).run(feed)["logits"][index].argmax(-1)
  return float(np.mean(keras == tflite))


def _neighbors_build(spec, cora, trained, quantization=None):
  k = int(cora.graph.in_degree().max())
  model = build_model(spec, layout="neighbors", max_neighbors=k, quantization=quantization,
                      num_features=cora.num_features, num_classes=cora.num_classes)
  if quantization is not None:
    apply_layer_precision(model, quantization.layer_precisions)
  transfer_weights(trained, model)
  feed = feeds.select(feeds.graph_feed(cora.graph, "neighbors", max_neighbors=k),
                      feeds.model_input_names(model))
  return model, feed


def test_int8_and_float16_layers_in_one_artifact(cora, tmp_path):
  spec = ModelSpec("gcn", weight_decay=5e-4, input_normalization="row")
  quantization = QuantizationConfig.from_dict({"method": "dq", "layers": {"conv1": "float16"}})
  model = build_model(spec, num_features=cora.num_features, num_classes=cora.num_classes,
                      quantization=quantization)
  labels = apply_layer_precision(model, quantization.layer_precisions)
  assert labels == {"conv0": "w8a8", "conv1": "float16"}
  trained = train(spec, cora, TrainConfig(epochs=30, patience=30), seed=0, progress=False,
                  model=model).model
  export, feed = _neighbors_build(spec, cora, trained, quantization)
  result = convert(export, "tflite-int8-float16", tmp_path / "mixed.tflite", target="mobile")
  layers = layer_bit_widths(result.path)
  assert [(l["weight_shape"], l["precision"]) for l in layers] == [
      ([16, cora.num_features], "w8a8"), ([cora.num_classes, 16], "w16a32")]
  assert _agreement(export, result.path, feed, cora.test_index) >= 0.97


def test_binary_first_layer_and_int8_output_layer_in_one_lce_artifact(cora, tmp_path):
  config = BinarizeConfig.from_dict({
      "model": {"architecture": "gcn", "hidden_units": 32,
                "layer_precisions": ["binary", "int8"]},
      "epochs": 30, "staged": False, "scratch": True})
  result = binarize(None, cora, config, seed=0)
  export = export_model(result.model, config.spec, cora)
  artifact = convert(export, "lce", tmp_path / "binary_int8.tflite", target="arm-linux")
  assert artifact.runtime == "lce"
  layers = layer_bit_widths(artifact.path)
  assert [(l["op"], l["precision"]) for l in layers] == [
      ("LceBconv2d", "w1a1"), ("FULLY_CONNECTED", "w8a8")]
  reference = predict_logits(result.model, make_task(cora))[cora.test_index].argmax(-1)
  feed = feeds.select(feeds.graph_feed(cora.graph, "sparse"), feeds.model_input_names(export))
  logits = open_runtime(artifact.path).run(feed)["logits"][cora.test_index]
  assert np.mean(logits.argmax(-1) == reference) >= 0.97
  assert np.mean(logits.argmax(-1) == cora.labels[cora.test_index]) > 0.5


def test_int16_activations_with_int8_weights(cora, tmp_path):
  spec = ModelSpec("gcn", weight_decay=5e-4)
  trained = train(spec, cora, TrainConfig(epochs=30, patience=30), seed=0,
                  progress=False).model
  export, feed = _neighbors_build(spec, cora, trained)
  result = convert(export, "tflite-int16x8", tmp_path / "a16w8.tflite", target="mobile",
                   representative_feeds=[feed])
  assert {l["precision"] for l in layer_bit_widths(result.path)} == {"w8a16"}
  assert read_model(result.path).op_histogram.get("FULLY_CONNECTED") == 2
  assert _agreement(export, result.path, feed, cora.test_index) >= 0.97


@pytest.mark.parametrize("label", ["w4a4", "w8a4", "w2a2", "w8a16", "binary", "w16a8"])
def test_combinations_no_runtime_executes_are_refused_at_load(label):
  with pytest.raises(ValueError) as error:
    QuantizationConfig.from_dict({"method": "dq", "layers": {"conv0": label}})
  assert "w4a8" in str(error.value) and "float16" in str(error.value)   # alternatives named


def test_an_int8_layer_after_a_float16_one_is_refused(cora):
  quantization = QuantizationConfig.from_dict({"method": "qat", "layers": {"conv0": "float16"}})
  with pytest.raises(ValueError, match="conv1"):  # refused by the build itself
    build_model(ModelSpec("gcn"), num_features=cora.num_features,
                num_classes=cora.num_classes, quantization=quantization)
  model = build_model(ModelSpec("gcn"), num_features=cora.num_features,
                      num_classes=cora.num_classes,
                      quantization=QuantizationConfig.from_dict({"method": "qat"}))
  with pytest.raises(ValueError, match="conv1"):
    apply_layer_precision(model, quantization.layer_precisions)


def test_build_model_applies_the_configs_layer_precision(cora):
  # Every build (the training stages' and the export's) carries quantization.layers.
  quantization = QuantizationConfig.from_dict({"method": "dq", "layers": {"conv1": "float16"}})
  model = build_model(ModelSpec("gcn"), num_features=cora.num_features,
                      num_classes=cora.num_classes, quantization=quantization)
  assert apply_layer_precision(model, {}) == {"conv0": "w8a8", "conv1": "float16"}
  plain = build_model(ModelSpec("gcn"), num_features=cora.num_features,
                      num_classes=cora.num_classes,
                      quantization=QuantizationConfig.from_dict({"method": "dq"}))
  assert apply_layer_precision(plain, {}) == {"conv0": "w8a8", "conv1": "w8a8"}
