"""Cross-validation of graph classifiers: the last-epoch figure and the GIN paper protocol."""
import numpy as np
import pytest

from edgegnn.models import ModelSpec
from edgegnn.training import CrossValidationResult, TrainConfig, cross_validate, train
from edgegnn.training import accuracy_targets


def test_both_figures_on_hand_built_curves():
  # 3 folds x 4 epochs of test accuracy a_f(e).
  curves = np.array([[0.5, 0.8, 0.9, 0.7],
                     [0.6, 0.7, 0.8, 0.9],
                     [0.4, 0.9, 0.7, 0.8]])
  cv = CrossValidationResult(seed=0, folds=[0, 1, 2], fold_curves=curves)
  np.testing.assert_allclose(cv.curve, [0.5, 0.8, 0.8, 0.8])
  assert cv.best_epoch == 1                        # earliest of the tied best epochs
  assert cv.best_mean_epoch_accuracy == pytest.approx(0.8)
  assert cv.best_mean_epoch_std == pytest.approx(np.std([0.8, 0.7, 0.9]))
  assert cv.last_epoch_accuracy == pytest.approx(0.8)
  assert cv.last_epoch_std == pytest.approx(np.std([0.7, 0.9, 0.8]))
  summary = cv.to_dict()
  assert summary["fold_last_epoch"] == [0.7, 0.9, 0.8] and summary["epochs"] == 4


def test_cross_validate_records_every_epoch_of_every_fold(mutag):
  spec = ModelSpec("gin", hidden_units=8, num_layers=2)
  config = TrainConfig(epochs=3, batch_size=64)
  cv = cross_validate(spec, mutag, config, seed=0, folds=[3])
  assert cv.fold_curves.shape == (1, 3) and cv.folds == [3]
  # The last point of a fold's curve is that fold's final test accuracy.
  single = train(spec, mutag, config, seed=0, fold=3, progress=False)
  assert cv.fold_curves[0, -1] == pytest.approx(single.metrics["test_accuracy"])
  assert "test_accuracy" not in single.history[-1]     # only recorded when asked for
  test_size = len(mutag.split(3)[1])
  np.testing.assert_allclose(cv.fold_curves[0] * test_size,
                             np.round(cv.fold_curves[0] * test_size), atol=1e-9)


def test_cross_validate_needs_folds(cora):
  with pytest.raises(ValueError, match="graph-classification dataset with folds"):
    cross_validate(ModelSpec("gcn"), cora, TrainConfig(epochs=1))


def test_accuracy_target_cases_are_named_and_validated():
  assert list(accuracy_targets.CASES) == ["gcn-cora", "gat-cora", "sage-cora", "gcn-citeseer",
                                          "gin-mutag", "gin-proteins"]
  with pytest.raises(ValueError, match="Unknown accuracy-target case 'gin-nci1'.*gin-mutag"):
    accuracy_targets.get("gin-nci1")
  gin = accuracy_targets.get("gin-mutag")
  assert (gin.spec.hidden_units, gin.spec.num_layers, gin.spec.readout) == (32, 4, "sum")
  assert (gin.config.learning_rate, gin.config.lr_decay_every, gin.config.batch_size) == (
      0.01, 50, 32)
  assert gin.metric == "paper"
  with pytest.raises(ValueError, match="metric"):
    accuracy_targets.TargetCase("x", "mutag", gin.spec, gin.config, 0.5, metric="best")
