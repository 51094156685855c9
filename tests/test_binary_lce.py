"""LCE export of the binary models: every fully binary linear map is an LceBconv2d, no
binarized map is left as a float FULLY_CONNECTED / CONV_2D, and the artifact agrees with
the Keras model on >= 97 % of test predictions on the LCE interpreter."""
import numpy as np
import pytest

from edgegnn import binary, data
from edgegnn.binary.staged import BinarizeConfig, binarize, export_model, predict_logits
from edgegnn.deploy import convert as convert_lib
from edgegnn.deploy import tflite_file
from edgegnn.deploy import verify as verify_lib
from edgegnn.models import feeds
from edgegnn.training import make_task

WEIGHT_OPS = ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D", "BATCH_MATMUL")


def weight_ops(info):
  """Float matmul/conv ops that multiply by a constant (a stored weight matrix)."""
  tensors = info.subgraphs[0].tensors
  return [op for op in info.subgraphs[0].operators if op.name in WEIGHT_OPS
          and any(i >= 0 and tensors[i].is_constant for i in op.inputs[:2])]


def check_lowering(model, info):
  layers = binary.binary_layers(model)
  fully_binary = [l for l in layers if l.binary_inputs]
  real_inputs = [l for l in layers if not l.binary_inputs]
  assert info.op_histogram.get("LceBconv2d", 0) == len(fully_binary)
  # Only the documented real-input maps (the first point-cloud layer; the classifier with
  # classifier: float) stay float.
  assert len(weight_ops(info)) == len(real_inputs)


@pytest.mark.parametrize("architecture", binary.ARCHITECTURES)
def test_every_binary_map_lowers_to_lce_bconv2d(architecture, tmp_path):
  spec = binary.BinarySpec(architecture, hidden_units=16, embed_units=16, num_layers=3, k=4)
  _check_architecture(spec, tmp_path)


@pytest.mark.parametrize("architecture", [
    pytest.param("bin_edgeconv", marks=pytest.mark.slow), "xor_edgeconv"])
def test_a_float_classifier_is_the_one_extra_float_map(architecture, tmp_path):
  spec = binary.BinarySpec(architecture, hidden_units=16, embed_units=16, num_layers=3, k=4,
                           classifier="float")
  model = _check_architecture(spec, tmp_path, expected_real=2)
  assert model.get_layer("classifier").precision == "float"


def _check_architecture(spec, tmp_path, expected_real=None):
  if spec.task == "node":
    model = binary.build_binary_model(spec, num_features=40, num_classes=3, capacity=30,
                                      num_edges=60)
  else:
    model = binary.build_binary_model(spec, num_features=3, num_classes=3, capacity=20)
  result = convert_lib.convert(model, "lce", tmp_path / "m.tflite", target="arm-linux")
  info = tflite_file.read_model(result.path)
  check_lowering(model, info)
  assert result.runtime == "lce"
  if expected_real is None:
    expected_real = 0 if spec.task == "node" else 1
  assert sum(not l.binary_inputs for l in binary.binary_layers(model)) == expected_real
  return model


def _verify(model, spec, ds, test_index, reference, tmp_path):
  export = export_model(model, spec, ds)
  result = convert_lib.convert(export, "lce", tmp_path / "binary.tflite", target="arm-linux")
  check_lowering(export, tflite_file.read_model(result.path))
  layout = "sparse" if spec.task == "node" else "dense"
  capacity = ds.graph.num_nodes if spec.task == "node" else ds.max_nodes
  return verify_lib.verify(result.path, dataset=ds, test_index=test_index,
                           reference_logits=reference,
                           input_names=feeds.model_input_names(export), layout=layout,
                           capacity=capacity, runtime="lce", floor=0.97)


def test_trained_binary_gcn_agrees_with_keras_on_the_lce_interpreter(cora, tmp_path):
  config = BinarizeConfig.from_dict({"model": {"architecture": "gcn", "hidden_units": 32},
                                     "epochs": 30, "staged": False, "scratch": True})
  result = binarize(None, cora, config, seed=0)
  task = make_task(cora)
  reference = predict_logits(result.model, task)[cora.test_index]
  checked = _verify(result.model, config.spec, cora, cora.test_index, reference, tmp_path)
  assert checked.agreement >= 0.97 and checked.runtime == "lce"
  assert checked.test_accuracy > 0.35
  assert result.metrics["summary"]["binarized_mac_ratio"] == 1.0


# Each case trains on 1,437 point clouds. An xor_edgeconv model starts with a BinEdgeConv
# layer, so its case covers both layer kinds in the default run; bin_edgeconv is slow.
@pytest.mark.parametrize("architecture", [
    pytest.param("bin_edgeconv", marks=pytest.mark.slow), "xor_edgeconv"])
def test_trained_point_cloud_model_agrees_with_keras_on_the_lce_interpreter(architecture,
                                                                           tmp_path):
  ds = data.load("digits_points")
  config = BinarizeConfig.from_dict({
      "model": {"architecture": architecture, "hidden_units": 16, "embed_units": 32,
                "num_layers": 2, "k": 6},
      "epochs": 2, "staged": False, "scratch": True, "batch_size": 64})
  result = binarize(None, ds, config, seed=0)
  task = make_task(ds)
  test_index = task.split("test")
  reference = predict_logits(result.model, task, test_index)
  checked = _verify(result.model, config.spec, ds, test_index, reference, tmp_path)
  assert checked.agreement >= 0.97
  assert checked.examples == len(test_index)
