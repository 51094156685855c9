"""The foundation issue's accuracy targets: mean test accuracy of the Keras model.

Slow (tens of minutes on 2 cores): run with `.venv/bin/python -m pytest -m slow`.
"""
import numpy as np
import pytest

from edgegnn import data
from edgegnn.models import ModelSpec
from edgegnn.training import TrainConfig, train

pytestmark = pytest.mark.slow

PLANETOID = dict(weight_decay=5e-4, input_normalization="row")
CASES = [
    ("cora", ModelSpec("gcn", **PLANETOID), TrainConfig(epochs=200, patience=100), 0.805),
    ("cora", ModelSpec("gat", hidden_units=8, num_heads=8, dropout=0.6, attention_dropout=0.6,
                       activation="elu", **PLANETOID),
     TrainConfig(epochs=300, patience=100, learning_rate=0.005), 0.820),
    ("cora", ModelSpec("sage", hidden_units=16, **PLANETOID),
     TrainConfig(epochs=200, patience=100), 0.790),
    ("citeseer", ModelSpec("gcn", **PLANETOID), TrainConfig(epochs=200, patience=100), 0.700),
]


@pytest.mark.parametrize("dataset,spec,config,target", CASES,
                         ids=[f"{c[0]}-{c[1].architecture}" for c in CASES])
def test_node_classification_five_seeds(dataset, spec, config, target):
  ds = data.load(dataset)
  accuracies = [train(spec, ds, config, seed=s, progress=False).metrics["test_accuracy"]
                for s in range(5)]
  assert np.mean(accuracies) >= target, accuracies


GIN = ModelSpec("gin", hidden_units=64, num_layers=4, dropout=0.5, readout="sum")


@pytest.mark.parametrize("dataset,target", [("mutag", 0.85), ("proteins", 0.73)])
def test_gin_ten_fold_cross_validation(dataset, target):
  ds = data.load(dataset)
  config = TrainConfig(epochs=350, learning_rate=0.01, lr_decay_every=50, batch_size=32)
  accuracies = [train(GIN, ds, config, seed=s, fold=f, progress=False).metrics["test_accuracy"]
                for s in range(5) for f in range(10)]
  assert np.mean(accuracies) >= target, np.mean(accuracies)
