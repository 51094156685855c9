"""Training on sampled subgraphs through `edgegnn.engine.fit` (`edgegnn.scale`)."""
import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import numpy as np
import pytest
import tensorflow as tf

from edgegnn.data.loading import load
from edgegnn.data.sampling import NeighbourSampler, SamplingConfig
from edgegnn.models import ModelSpec, build_model
from edgegnn.scale import layerwise_accuracy, sampled_batches, train_sampled

SPEC = ModelSpec(architecture="gcn", hidden_units=16, dropout=0.5, weight_decay=5e-4,
                 input_normalization="row")


@pytest.fixture(scope="module")
def cora():
  return load("cora")


def _model(dataset, sampler, layout="neighbors"):
  tf.keras.utils.set_random_seed(0)
  return build_model(SPEC, num_features=dataset.num_features, num_classes=dataset.num_classes,
                     layout=layout, max_neighbors=sampler.max_in_degree)


def test_batches_carry_seed_rows_labels_targets_and_full_degrees(cora):
  sampler = NeighbourSampler(cora.graph, (10, 10), seed=1)
  model = _model(cora, sampler)
  teacher = np.random.default_rng(0).normal(size=(cora.graph.num_nodes, 7)).astype(np.float32)
  batches = list(sampled_batches(sampler, cora.labels, cora.train_index, 64, model,
                                 {"teacher_logits": teacher})(0))
  assert [len(b.rows) for b in batches] == [64, 64, 12]
  again = list(sampler.epoch(cora.train_index, 64, 0))   # the same draws for epoch 0
  seen = []
  for batch, sample in zip(batches, again):
    seeds = sample.seed_ids
    seen.extend(seeds.tolist())
    np.testing.assert_array_equal(batch.rows, np.arange(len(seeds)))
    np.testing.assert_array_equal(batch.labels, cora.labels[seeds])
    np.testing.assert_array_equal(batch.targets["teacher_logits"], teacher[seeds])
    np.testing.assert_array_equal(batch.inputs["in_degree"],
                                  cora.graph.in_degree()[sample.node_ids])
    assert set(batch.inputs) == set(model.input)
  assert sorted(seen) == sorted(cora.train_index.tolist())


def test_sampled_training_learns_and_keeps_best_validation(cora):
  config = SamplingConfig(fanouts=(10, 10), batch_size=35, inference_chunk=1000)
  sampler = NeighbourSampler(cora.graph, config.fanouts, seed=0)
  tf.keras.utils.set_random_seed(0)
  model = build_model(ModelSpec(architecture="gcn", hidden_units=16, dropout=0.0),
                      num_features=cora.num_features, num_classes=cora.num_classes,
                      layout="neighbors", max_neighbors=sampler.max_in_degree)
  before = layerwise_accuracy(model, cora, "val")[0]
  result = train_sampled(model, cora, sampler, config, epochs=15, learning_rate=0.05)
  assert result.epochs_run == 15 and len(result.history) == 15
  best = max(r["val_accuracy"] for r in result.history)
  assert layerwise_accuracy(model, cora, "val")[0] == pytest.approx(best)   # best kept
  assert best > before + 0.3 and best > 0.65
  assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]


def test_models_that_count_degrees_or_mismatch_depth_are_refused(cora):
  sampler = NeighbourSampler(cora.graph, (10, 10), seed=0)
  with pytest.raises(ValueError, match="layout: neighbors"):
    train_sampled(_model(cora, sampler, layout="sparse"), cora, sampler, SamplingConfig(),
                  epochs=1, learning_rate=0.01)
  with pytest.raises(ValueError, match="one fan-out per layer"):
    train_sampled(_model(cora, sampler), cora, sampler, SamplingConfig(fanouts=(5, 5, 5)),
                  epochs=1, learning_rate=0.01)


def test_stage_entry_point_trains_quantized_and_reports_whole_graph_accuracy(cora):
  from edgegnn.quantization import QuantizationConfig
  from edgegnn.scale import train_sampled_model
  from edgegnn.training import TrainConfig
  result = train_sampled_model(SPEC, cora, SamplingConfig(batch_size=70), TrainConfig(epochs=2),
                               seed=3, quantization=QuantizationConfig())
  assert "protective_mask" in [layer.name for layer in result.model.layers]
  assert result.metrics["epochs_run"] == 2 and result.metrics["sampling"]["fanouts"] == (10, 10)
  for split in ("train", "val", "test"):
    assert result.metrics[f"{split}_accuracy"] == pytest.approx(
        layerwise_accuracy(result.model, cora, split)[0])
  with pytest.raises(ValueError, match="node-classification"):
    train_sampled_model(SPEC, load("mutag"), SamplingConfig(), TrainConfig(epochs=1))
