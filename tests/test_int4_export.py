"""4-bit weights with 8-bit activations (W4A8) export to an integer artifact with packed
INT4 weights that agrees with its Keras model; 4-bit activations (W4A4) are refused before
converting, naming the fixes."""
import numpy as np
import pytest

from edgegnn import data
from edgegnn.runtime import tflite_file
from edgegnn.deploy.convert import convert
from edgegnn.deploy.layer_bits import layer_bit_widths
from edgegnn.runtime import open_runtime
from edgegnn.models import ModelSpec, build_model, feeds, transfer_weights
from edgegnn.quantization import QuantizationConfig
from edgegnn.quantization.config import check_integer_export
from edgegnn.training import TrainConfig, train


def test_w4a8_gcn_exports_and_agrees(tmp_path):
  cora = data.load("cora")
  spec = ModelSpec("gcn", weight_decay=5e-4, input_normalization="row")
  quantization = QuantizationConfig(method="dq", weight_bits=4, activation_bits=8)
  kwargs = dict(num_features=cora.num_features, num_classes=cora.num_classes,
                quantization=quantization)
  trained = train(spec, cora, TrainConfig(epochs=30, patience=30), seed=0, progress=False,
                  model=build_model(spec, **kwargs)).model
  graph = cora.graph
  k = int(graph.in_degree().max())
  model = transfer_weights(trained, build_model(spec, layout="neighbors", max_neighbors=k,
                                                **kwargs))
  feed = feeds.select(feeds.graph_feed(graph, "neighbors", max_neighbors=k),
                      feeds.model_input_names(model))
  result = convert(model, "tflite-int8", tmp_path / "w4a8.tflite", target="mobile",
                   representative_feeds=[feed])
  assert not tflite_file.float_compute_ops(tflite_file.read_model(result.path))
  # The converter packs the 4-bit weights as INT4 (two per byte), not int8.
  assert [l["precision"] for l in layer_bit_widths(result.path)] == ["w4a8", "w4a8"]
  keras = model(feed)["logits"].numpy()[cora.test_index].argmax(-1)
  tflite = open_runtime(result.path).run(feed)["logits"][cora.test_index].argmax(-1)
  assert np.mean(keras == tflite) >= 0.97


def test_w4a4_integer_export_refused():
  config = QuantizationConfig(method="qat", weight_bits=4, activation_bits=4)
  with pytest.raises(ValueError, match="activation_bits: 8"):
    check_integer_export(config, ["tflite-int8"], "export(x)")
  check_integer_export(config, ["tflite-float32"], "export(x)")   # float formats are fine
