"""The JSON sidecar next to each artifact: names, shapes, dtypes, quantization, layout."""
import json

import numpy as np
import pytest

from edgegnn.deploy import runtimes, sidecar, tflite_file
from edgegnn.deploy.convert import convert
from edgegnn.deploy.layer_bits import layer_bit_widths
from edgegnn.models import ModelSpec, build_model, feeds


@pytest.fixture(scope="module")
def int8_artifact(tmp_path_factory, mutag):
  """A full-int8 dense GIN for MUTAG with int8 inputs/outputs (the mcu target)."""
  model = build_model(ModelSpec("gin", hidden_units=16, num_layers=2), layout="dense",
                      capacity=mutag.max_nodes, num_features=mutag.num_features,
                      num_classes=2, task="graph")
  names = feeds.model_input_names(model)
  rep = [feeds.select(feeds.graph_feed(g, "dense", mutag.max_nodes), names)
         for g in mutag.graphs[:20]]
  path = tmp_path_factory.mktemp("sidecar") / "gin.tflite-int8.tflite"
  convert(model, "tflite-int8", path, target="mcu", representative_feeds=rep)
  return path


def test_sidecar_matches_the_flatbuffer(int8_artifact, mutag):
  written = sidecar.write_sidecar(int8_artifact, fmt="tflite-int8", task="graph",
                                  dataset="mutag", num_classes=2, layout="dense",
                                  capacity=mutag.max_nodes)
  assert written.name == "gin.tflite-int8.tflite.json"
  data = sidecar.read_sidecar(int8_artifact)
  assert data == json.loads(written.read_text())
  info = tflite_file.read_model(int8_artifact)
  assert data["schema"] == "edgegnn.sidecar/1" and data["bytes"] == info.file_bytes
  assert data["signature"] == "serving_default"
  assert [i["name"] for i in data["inputs"]] == [io.name for io in info.inputs]
  assert sorted(i["name"] for i in data["inputs"]) == ["adjacency", "node_features",
                                                         "node_mask"]
  features = next(i for i in data["inputs"] if i["name"] == "node_features")
  assert features["shape"] == [mutag.max_nodes, mutag.num_features]
  assert features["dtype"] == "int8"
  q = info.input("node_features").quantization
  assert features["quantization"] == {"scale": [float(q.scale[0])],
                                      "zero_point": [int(q.zero_point[0])],
                                      "quantized_dimension": 0}
  logits, = data["outputs"]
  assert logits["name"] == "logits" and logits["dtype"] == "int8" and logits["shape"] == [1, 2]
  assert data["label_names"] == ["0", "1"] and data["num_classes"] == 2
  assert (data["layout"], data["capacity"], data["max_neighbors"]) == ("dense", 28, None)
  assert "tflm" in data["runtimes"] and "litert" in data["runtimes"]
  # An app quantizing with the sidecar's numbers gets the tensor the runtime would feed.
  x = feeds.graph_feed(mutag.graphs[0], "dense", mutag.max_nodes)["node_features"]
  by_hand = np.clip(np.round(x / features["quantization"]["scale"][0])
                    + features["quantization"]["zero_point"][0], -128, 127).astype(np.int8)
  np.testing.assert_array_equal(by_hand, runtimes.quantize(x, info.input("node_features")))


def test_int8_layer_bits(int8_artifact):
  bits = layer_bit_widths(int8_artifact)
  assert len(bits) >= 4  # two GIN MLPs of two dense layers each, plus the readout
  assert {(b["weight_bits"], b["activation_bits"]) for b in bits} == {(8, 8)}


def test_bad_label_names_and_missing_sidecar(int8_artifact, tmp_path):
  with pytest.raises(ValueError, match="label_names has 3 entries for 2 classes"):
    sidecar.describe(int8_artifact, num_classes=2, label_names=["a", "b", "c"])
  with pytest.raises(FileNotFoundError, match="nothing.tflite.json: no sidecar"):
    sidecar.read_sidecar(tmp_path / "nothing.tflite")
