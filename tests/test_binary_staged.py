"""The binarize stage: its config dataclass and the staged distillation end to end."""
import numpy as np
import pytest

from edgegnn import data
import tensorflow as tf  # after edgegnn (Keras 2)

from edgegnn.binary import BinEdgeConv, XorEdgeConv
from edgegnn.binary.staged import BinarizeConfig, binarize, graph_states
from edgegnn.distill.soft_targets import soft_target_loss
from edgegnn.models import ModelSpec
from edgegnn.training import TrainConfig, train


def test_config_rejects_unknown_keys_and_bad_values():
  with pytest.raises(ValueError, match="Did you mean 'lsp_weight'"):
    BinarizeConfig.from_dict({"lsp_wieght": 1.0})
  with pytest.raises(ValueError, match="binarize.model.architecture"):
    BinarizeConfig.from_dict({"model": {"architecture": "gat"}})
  with pytest.raises(ValueError, match="Did you mean 'hidden_units'"):
    BinarizeConfig.from_dict({"model": {"hiden_units": 8}})
  with pytest.raises(ValueError, match="Unknown LSP kernel"):
    BinarizeConfig.from_dict({"binary_lsp_kernel": "cosine"})
  with pytest.raises(ValueError, match="binarize.final_teacher"):
    BinarizeConfig.from_dict({"final_teacher": "fp32"})
  with pytest.raises(ValueError, match="binarize.final_learning_rate"):
    BinarizeConfig.from_dict({"final_learning_rate": 0.0})
  with pytest.raises(ValueError, match="binarize.lr_schedule"):
    BinarizeConfig.from_dict({"lr_schedule": "step"})
  with pytest.raises(ValueError, match="binarize.model.classifier"):
    BinarizeConfig.from_dict({"model": {"architecture": "bin_edgeconv",
                                        "classifier": "int8"}})
  with pytest.raises(ValueError, match="nothing to do"):
    BinarizeConfig.from_dict({"staged": False})
  with pytest.raises(TypeError, match="binarize.epochs must be an integer"):
    BinarizeConfig.from_dict({"epochs": "ten"})
  config = BinarizeConfig.from_dict({"model": {"architecture": "xor_edgeconv", "k": 4}})
  assert config.spec.k == 4 and config.spec.task == "graph"
  assert BinarizeConfig.from_dict(config.to_dict()) == config


def test_staged_distillation_runs_both_stages_and_the_scratch_baseline(cora):
  teacher = train(ModelSpec("gcn", input_normalization="row"), cora, TrainConfig(epochs=5),
                  progress=False).model
  config = BinarizeConfig.from_dict({"model": {"architecture": "gcn", "hidden_units": 16},
                                     "epochs": 3, "scratch": True})
  result = binarize(teacher, cora, config, seed=0)
  assert [s["stage"] for s in result.stages] == ["binary_weights", "binary", "scratch"]
  assert result.stages[2]["epochs_run"] == 6  # both stages' budget
  # Stage 2 distils the intermediate (the cascade, the default); scratch has no teacher.
  assert [s["teacher"] for s in result.stages] == [teacher.name, "gcn_binary_weights_sparse",
                                                   None]
  assert [s["learning_rate"] for s in result.stages] == [0.01, 0.01, 0.01]
  assert result.metrics["test_accuracy"] == result.stages[1]["test_accuracy"]
  assert 0.0 <= result.metrics["scratch_test_accuracy"] <= 1.0
  assert result.metrics["summary"]["binarized_mac_ratio"] == 1.0
  assert all(l.precision == "binary" for l in result.model.submodules
             if hasattr(l, "binary_inputs"))
  with pytest.raises(ValueError, match="node-level model"):
    binarize(teacher, data.load("mutag"), config)


def test_graph_states_are_where_the_knn_graphs_are_built():
  from edgegnn.binary import BinarySpec, build_binary_model
  model = build_binary_model(BinarySpec("xor_edgeconv", hidden_units=8, num_layers=3),
                             num_features=3, num_classes=2, batched=True)
  states = graph_states(model)
  assert [s.name.split("/")[0] for s in states] == ["conv0", "conv1"]
  assert isinstance(model.get_layer("conv0"), BinEdgeConv)
  assert isinstance(model.get_layer("conv2"), XorEdgeConv)


def test_final_teacher_and_learning_rate_of_stage_two(cora):
  teacher = train(ModelSpec("gcn", input_normalization="row"), cora, TrainConfig(epochs=2),
                  progress=False).model
  config = BinarizeConfig.from_dict({"model": {"architecture": "gcn", "hidden_units": 8},
                                     "epochs": 1, "final_teacher": "teacher",
                                     "final_learning_rate": 0.001})
  stages = binarize(teacher, cora, config, seed=0).stages
  assert [s["teacher"] for s in stages] == [teacher.name, teacher.name]
  assert [s["learning_rate"] for s in stages] == [0.01, 0.001]


def test_cosine_schedule_decays_each_stage_to_zero(cora):
  config = BinarizeConfig.from_dict({"model": {"architecture": "gcn", "hidden_units": 8},
                                     "epochs": 4, "staged": False, "scratch": True,
                                     "learning_rate": 0.02, "lr_schedule": "cosine"})
  from edgegnn.binary import staged
  from edgegnn.training import make_task
  task = make_task(cora)
  model = staged._build(config.spec, "binary", cora, task)
  stage = staged._Stage(model, None, task, config, "hamming", 0, 4, "scratch")
  rate = stage.rate  # lr_t = lr (1 + cos(pi t / 4)) / 2, one step/epoch
  for t, expected in [(0, 0.02), (1, 0.01 * (1 + np.cos(np.pi / 4))), (2, 0.01), (4, 0.0)]:
    assert float(rate(t)) == pytest.approx(expected, abs=1e-7)
  metrics = stage.run()
  assert metrics["epochs_run"] == 4 and len(metrics["val_history"]) == 4
  assert int(stage.optimizer.iterations) == 4


def test_soft_targets_are_t_squared_kl_and_sharpen_below_one():
  rng = np.random.default_rng(0)
  student, teacher = rng.normal(size=(5, 7)), rng.normal(size=(5, 7))
  for t in (0.25, 1.0, 2.0):
    p = np.exp(teacher / t) / np.exp(teacher / t).sum(-1, keepdims=True)
    log_q = student / t - np.log(np.exp(student / t).sum(-1, keepdims=True))
    expected = t * t * np.mean(np.sum(p * (np.log(p) - log_q), -1))
    got = float(soft_target_loss(tf.constant(student), tf.constant(teacher), t))
    np.testing.assert_allclose(got, expected, rtol=1e-6)
  assert float(soft_target_loss(tf.constant(teacher), tf.constant(teacher), 0.25)) == \
      pytest.approx(0.0, abs=1e-9)


def test_reestimated_batch_norm_statistics_are_those_of_the_training_graph(cora):
  from edgegnn.engine import statistics_feeds
  from edgegnn.training import make_task, reestimate_batch_norm
  config = BinarizeConfig.from_dict({"model": {"architecture": "gcn", "hidden_units": 8},
                                     "epochs": 2, "staged": False, "scratch": True,
                                     "reestimate_batch_norm": True})
  result = binarize(None, cora, config, seed=0)
  metrics = result.stages[0]
  norms = [l for l in result.model.submodules
           if isinstance(l, tf.keras.layers.BatchNormalization)]
  assert metrics["batch_norm_reestimated"] == len(norms) > 0
  assert 0.0 <= metrics["val_accuracy_before_batch_norm"] <= 1.0
  assert 0.0 <= metrics["test_accuracy_before_batch_norm"] <= 1.0
  # A node task has one feed, the whole graph: the statistics are its batch statistics,
  # mu = mean_n x_n and sigma^2 = mean_n (x_n - mu)^2, so re-estimating again (same
  # weights, same feed) leaves them unchanged, and a training-mode pass with momentum 0
  # gives the same values.
  stats = [(n.moving_mean.numpy(), n.moving_variance.numpy()) for n in norms]
  feeds_ = statistics_feeds(result.model, make_task(cora), 32)
  assert len(feeds_) == 1
  reestimate_batch_norm(result.model, feeds_)
  for n, (mean, variance) in zip(norms, stats):
    np.testing.assert_allclose(n.moving_mean.numpy(), mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(n.moving_variance.numpy(), variance, rtol=1e-5, atol=1e-6)
    assert n.momentum == 0.9  # restored
  plain = binarize(None, cora, BinarizeConfig.from_dict(
      dict(config.to_dict(), reestimate_batch_norm=False)), seed=0).stages[0]
  assert "batch_norm_reestimated" not in plain
  # Training is unchanged: the option only moves the statistics afterwards.
  assert plain["val_history"] == metrics["val_history"]
  assert plain["val_accuracy"] == metrics["val_accuracy_before_batch_norm"]


def test_statistics_feeds_of_a_graph_task_are_the_training_batches():
  from edgegnn.engine import statistics_feeds
  from edgegnn.binary import BinarySpec, build_binary_model
  from edgegnn.training import make_task
  ds = data.load("mutag")
  task = make_task(ds)
  model = build_binary_model(BinarySpec("bin_edgeconv", hidden_units=8, num_layers=2),
                             num_features=ds.num_features, num_classes=ds.num_classes,
                             batched=True)
  batches = list(statistics_feeds(model, task, 16))
  train = len(task.split("train"))
  assert len(batches) == -(-train // 16)
  assert sum(int(b["node_graph_index"].max()) + 1 for b in batches) == train
