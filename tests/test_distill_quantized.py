"""A Degree-Quant INT8 student distilled from a float teacher: `distill()` takes the prebuilt
fake-quant model, its quantizers run (and track ranges) in every distillation step, and the
distilled student's activations are on the INT8 grid."""
import numpy as np
import pytest

from edgegnn.distill import DistillConfig, distill, node_trainer
from edgegnn.models import ModelSpec, build_model
from edgegnn.quantization import QuantizationConfig
from edgegnn.quantization.calibration import _quantizers
from edgegnn.training import TrainConfig, train
import tensorflow as tf

SPEC = ModelSpec("gcn", hidden_units=16, weight_decay=5e-4, input_normalization="row")
DQ_INT8 = QuantizationConfig("dq", weight_bits=8, activation_bits=8)
EPOCHS = 12


def _build(cora, quantization):
  tf.keras.utils.set_random_seed(0)
  return build_model(SPEC, num_features=cora.num_features, num_classes=cora.num_classes,
                     task="node", quantization=quantization)


@pytest.fixture(scope="module")
def distilled(cora):
  teacher = train(SPEC, cora, TrainConfig(epochs=30, patience=0), seed=0,
                  progress=False).model
  student = _build(cora, DQ_INT8)
  result = distill(teacher, student, cora,
                   DistillConfig(method="kd", alpha=0.5, epochs=EPOCHS, patience=0), seed=0)
  return student, result


def test_distill_trains_the_given_fake_quant_student(distilled):
  student, result = distilled
  assert result.model is student
  quantizers = _quantizers(student)
  # GCN x 2 layers: conv0 input/message/aggregate/output, conv1 message/aggregate/output
  active = [q for q in quantizers if float(q.seen.numpy()) > 0]
  assert len(active) == 7, [q.name for q in active]
  # One range observation per distillation step; the kept (best-epoch) weights carry the
  # counter of that epoch, so every quantizer ran in each of the first best_epoch + 1 steps.
  best = result.metrics["best_epoch"]
  assert result.metrics["epochs_run"] == EPOCHS and best >= 1
  for quantizer in active:
    assert float(quantizer.seen.numpy()) == best + 1
    assert float(quantizer.hi.numpy()) > float(quantizer.lo.numpy())
  assert result.metrics["test_accuracy"] > 0.5


def test_distilled_student_activations_are_on_the_int8_grid(cora, distilled):
  student, _ = distilled
  hidden = node_trainer.node_outputs(student, cora, ["conv0"])["conv0"]
  levels = np.unique(hidden)
  assert 16 < len(levels) <= 256
  # Every value is an integer number of quantization steps above the range's lowest level.
  step = float(np.min(np.diff(levels)))
  offsets = (levels - levels[0]) / step
  np.testing.assert_allclose(offsets, np.round(offsets), atol=1e-2)
  assert offsets.max() <= 255.5
  # The float twin with the same weights is not on a grid (so the checks above can fail).
  float_twin = _build(cora, None)
  quantized_weights = {w.name: w for w in student.weights}
  for w in float_twin.weights:
    w.assign(quantized_weights[w.name])
  float_hidden = node_trainer.node_outputs(float_twin, cora, ["conv0"])["conv0"]
  assert len(np.unique(float_hidden)) > 1000
