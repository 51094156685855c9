"""Small end-to-end distillation runs on Cora with accuracy numbers, and student exports
through the deploy core (GLNN MLP to tflite-int8, CPF to tflite-float32) on ai-edge-litert."""
import dataclasses

import numpy as np
import pytest

from edgegnn.deploy import convert, runtimes
from edgegnn.distill import DistillConfig, distill
from edgegnn.distill.neighbourhood import InEdgeIndex
from edgegnn.models import ModelSpec, build_model, feeds, transfer_weights
from edgegnn.training import TrainConfig, train

GCN = ModelSpec("gcn", weight_decay=5e-4, input_normalization="row")
MLP = ModelSpec("mlp", hidden_units=256, num_layers=2, dropout=0.5)


@pytest.fixture(scope="module")
def teacher(cora):
  return train(GCN, cora, TrainConfig(epochs=100, patience=100), seed=0, progress=False)


@pytest.fixture(scope="module")
def glnn(cora, teacher):
  config = DistillConfig(method="glnn", alpha=0.0, temperature=0.5, epochs=60, patience=30)
  return distill(teacher.model, MLP, cora, config, seed=0)


def test_glnn_student_far_above_plain_mlp(cora, teacher, glnn):
  plain = train(MLP, cora, TrainConfig(epochs=60, patience=30), seed=0, progress=False)
  # measured (seed 0, this config): teacher 0.80-0.82, GLNN 0.77-0.80, plain MLP 0.55-0.58
  assert teacher.metrics["test_accuracy"] >= 0.78
  assert glnn.metrics["test_accuracy"] >= 0.74
  assert glnn.metrics["test_accuracy"] >= plain.metrics["test_accuracy"] + 0.12
  assert glnn.metrics["teacher_test_accuracy"] == teacher.metrics["test_accuracy"]
  assert glnn.metrics["method"] == "glnn"


def test_glnn_int8_export_agrees_on_litert(cora, glnn, tmp_path):
  graph = cora.graph
  one = transfer_weights(glnn.model, build_model(MLP, num_features=cora.num_features,
                                                 num_classes=cora.num_classes, capacity=1))
  calibration = [{"node_features": graph.node_features[[i]]} for i in cora.train_index]
  result = convert.convert(one, "tflite-int8", tmp_path / "glnn.int8.tflite", target="mobile",
                           representative_feeds=calibration)
  assert set(result.ops) <= {"QUANTIZE", "FULLY_CONNECTED", "DEQUANTIZE"}, result.ops
  assert result.ops["FULLY_CONNECTED"] == 2
  runtime = runtimes.open_runtime(result.path, "litert", num_threads=1)
  test = cora.test_index
  lite = np.stack([runtime.run({"node_features": graph.node_features[[v]]})["logits"][0]
                   for v in test])
  keras = glnn.model(feeds.select(feeds.graph_feed(graph), ["node_features"]))["logits"]
  keras = keras.numpy()[test]
  agreement = np.mean(lite.argmax(1) == keras.argmax(1))
  assert agreement >= 0.97, agreement
  lite_accuracy = np.mean(lite.argmax(1) == cora.labels[test])
  assert lite_accuracy >= glnn.metrics["test_accuracy"] - 0.01


@pytest.mark.slow
def test_cpf_student_trains_and_exports(cora, teacher, tmp_path):
  config = DistillConfig(method="cpf", temperature=0.5, epochs=60, patience=30)
  result = distill(teacher.model, None, cora, config, seed=0)
  # measured (seed 0, 60 epochs): about 0.81
  assert result.metrics["test_accuracy"] >= 0.78
  exported = convert.convert(result.model, "tflite-float32", tmp_path / "cpf.tflite",
                             target="mobile")
  runtime = runtimes.open_runtime(exported.path, "litert")
  lite = runtime.run(feeds.graph_feed(cora.graph))["logits"]
  keras = result.model(feeds.graph_feed(cora.graph))["logits"].numpy()
  assert np.mean(lite.argmax(1) == keras.argmax(1)) >= 0.995


def test_two_hop_subgraph_gives_the_teacher_prediction(cora, teacher):
  index = InEdgeIndex(cora.graph)
  full = teacher.model(feeds.graph_feed(cora.graph), training=False)["logits"].numpy()
  nodes = cora.test_index[:100]
  local = [teacher.model(index.k_hop(int(v), 2), training=False)["logits"].numpy()[0]
           for v in nodes]
  np.testing.assert_allclose(np.stack(local), full[nodes], rtol=1e-4, atol=1e-5)
  induced = [teacher.model(index.k_hop(int(v), 2, exact=False), training=False)["logits"]
             .numpy()[0] for v in nodes]
  assert np.mean(np.argmax(induced, 1) == full[nodes].argmax(1)) >= 0.8   # measured 0.87
  sub = index.k_hop(7, 2)
  assert np.array_equal(sub["node_features"][0], cora.graph.node_features[7])


DEEP_GCN = ModelSpec("gcn", hidden_units=16, num_layers=4, weight_decay=5e-4,
                     input_normalization="row")
SD_EPOCHS = 60


@pytest.fixture(scope="module")
def deep_plain(cora):
  config = TrainConfig(epochs=SD_EPOCHS, patience=100, learning_rate=0.02)
  return train(DEEP_GCN, cora, config, seed=0, progress=False).metrics


# The node gate runs in the default run (here and in tests/test_pipeline_distill.py); the
# layer gate's loss is checked against numpy in tests/test_distill_losses.py, and its two
# 60-epoch trainings here are slow.
@pytest.mark.parametrize("gate", [pytest.param("layer", marks=pytest.mark.slow), "node"])
def test_gnn_sd_trains_a_4_layer_gcn_and_beta_0_is_plain_training(cora, deep_plain, gate):
  config = DistillConfig(method="gnn-sd", sd_weight=0.0, sd_gate=gate, epochs=SD_EPOCHS,
                         learning_rate=0.02)
  zero = distill(None, DEEP_GCN, cora, config, seed=0).metrics
  # The distillation loop with the ADR term off is exactly edgegnn.training.train.
  for key in ("val_accuracy", "test_accuracy", "best_epoch"):
    assert zero[key] == deep_plain[key], key
  sd = distill(None, DEEP_GCN, cora, dataclasses.replace(config, sd_weight=1.0),
               seed=0).metrics
  # The term changes training and the 4-layer GCN still learns Cora. Measured (seed 0, 60
  # epochs): plain 0.802 test; beta 1 with the layer gate 0.674, node gate 0.691 (ADR slows
  # it down at this budget; docs/distillation.md has the 400-epoch rows).
  assert sd["val_accuracy"] != deep_plain["val_accuracy"]
  assert sd["test_accuracy"] >= 0.6, sd
