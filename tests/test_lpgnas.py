"""LPGNAS: the supernet's size term is the expectation of the genotype's artifact bytes, the
genotype is executable, a search round trades size for accuracy through its size weight,
and a searched genotype retrained with Degree-Quant exports and agrees with its Keras
model."""
import itertools

import numpy as np
import pytest

from edgegnn.data.synthetic import synthetic_dataset
from edgegnn.deploy.convert import convert
from edgegnn.deploy.layer_bits import layer_bit_widths
from edgegnn.models import ModelSpec, feeds, transfer_weights
from edgegnn.quantization import QuantizationConfig
from edgegnn.runtime import open_runtime
from edgegnn.search import space as space_lib
from edgegnn.search.genotype_model import build_genotype_model, export_format
from edgegnn.search.search import SearchConfig, search
from edgegnn.search.supernet import Supernet
from edgegnn.training import TrainConfig, train


@pytest.fixture(scope="module")
def small():
  return synthetic_dataset(120, avg_degree=4, num_classes=3, num_features=40,
                           words_per_node=6, dense_features=True, seed=1)


def _supernet(dataset, space=space_lib.SearchSpace()):
  net = Supernet(space, dataset.num_features, dataset.num_classes)
  feed = feeds.graph_feed(dataset.graph, "sparse")
  net((feed["node_features"], feed["edge_source"], feed["edge_target"]))
  return net


def _set_logits(layer, choices):
  for component, index in choices.items():
    logits = np.zeros(layer.arch[component].shape, np.float32)
    logits[index] = 30.0
    layer.arch[component].assign(logits)


def test_size_term_at_one_hot_choices_is_the_genotypes_bytes(small):
  net = _supernet(small)
  space = net.space
  _set_logits(net.mixed[0], {"attention": 2, "activation": 4, "width": 1, "precision": 2})
  _set_logits(net.mixed[1], {"attention": 6, "precision": 0})
  genotype = net.genotype()
  assert genotype.layers[0] == space_lib.LayerChoice("gat", "relu", space.widths[1], "float16")
  assert genotype.layers[1] == space_lib.LayerChoice("gene-linear", "none", 3, "w4a8")
  # By hand: 40 x 8 + 2 x 8 float16 weights, 8 x 3 + 3 x 3 int4 weights, float32 biases.
  expected = (40 * 8 + 2 * 8) * 2 + (8 * 3 + 3 * 3) * 0.5 + 4 * (8 + 3)
  assert space_lib.genotype_bytes(genotype, small.num_features) == round(expected)
  assert float(net.expected_weight_bytes()) == pytest.approx(expected, rel=1e-4)


def test_genotype_takes_the_most_probable_executable_activation_and_precision(small):
  net = _supernet(small)
  layer = net.mixed[0]
  activation = np.zeros(8, np.float32)
  activation[space_lib.ACTIVATIONS.index("elu")] = 3.0      # elu has no int8 kernel
  activation[space_lib.ACTIVATIONS.index("tanh")] = 2.0
  layer.arch["activation"].assign(activation)
  layer.arch["precision"].assign(np.array([0.0, 2.5, 0.0], np.float32))   # w8a8 favoured
  p = {k: v.numpy() for k, v in layer.probabilities().items()}
  best = max((p["activation"][a] * p["precision"][q], act, prec)
             for (a, act), (q, prec) in itertools.product(enumerate(space_lib.ACTIVATIONS),
                                                         enumerate(space_lib.PRECISIONS))
             if prec == "float16" or act not in ("elu", "softplus"))
  chosen = net.genotype().layers[0]
  assert (chosen.activation, chosen.precision) == best[1:]
  assert space_lib.executable(chosen.activation, chosen.precision)


def test_search_steps_the_architecture_only_after_warm_up(small):
  space = space_lib.SearchSpace(attentions=("gcn", "const"), activations=("relu", "tanh"),
                                widths=(4, 16))
  result = search(small, SearchConfig(epochs=12, warmup_epochs=11, space=space), seed=0)
  uniform = float(_supernet(small, space).expected_weight_bytes())   # all logits zero
  assert [h["epoch"] for h in result.history] == [10, 12]
  assert result.history[0]["expected_weight_bytes"] == pytest.approx(uniform, abs=0.06)
  # Epoch 12's architecture step: Adam's first step moves each logit by about 0.05.
  assert result.history[1]["expected_weight_bytes"] < uniform - 1.0


@pytest.mark.slow   # two search rounds
def test_a_larger_size_weight_searches_a_smaller_model(small):
  sizes = {}
  for weight in (0.0, 5.0):
    config = SearchConfig(epochs=40, warmup_epochs=5, size_weight=weight,
                          space=space_lib.SearchSpace(attentions=("gcn", "gat"),
                                                      activations=("relu", "tanh")))
    result = search(small, config, seed=0)
    assert result.genotype.layers[-1].units == small.num_classes
    sizes[weight] = result.history[-1]["expected_weight_bytes"]
  assert sizes[5.0] < 0.8 * sizes[0.0]


def test_searched_mixed_genotype_retrains_with_degree_quant_and_exports(cora, tmp_path):
  # float16 first layer, int8 output layer: the int8 layer quantizes its own input.
  genotype = space_lib.Genotype((space_lib.LayerChoice("gat", "relu", 16, "float16"),
                                 space_lib.LayerChoice("gcn", "none", 7, "w8a8")))
  assert export_format(genotype) == "tflite-int8-float16"
  common = dict(num_features=cora.num_features, num_classes=cora.num_classes,
                quantization=QuantizationConfig("dq"))
  trained = train(ModelSpec("mp", weight_decay=5e-4), cora,
                  TrainConfig(epochs=30, patience=30), seed=0, progress=False,
                  model=build_genotype_model(genotype, **common)).model
  k = int(cora.graph.in_degree().max())
  export = transfer_weights(trained, build_genotype_model(genotype, layout="neighbors",
                                                          max_neighbors=k, **common))
  result = convert(export, "tflite-int8-float16", tmp_path / "g.tflite", target="mobile")
  assert [l["precision"] for l in layer_bit_widths(result.path)] == ["w16a32", "w8a8"]
  feed = feeds.select(feeds.graph_feed(cora.graph, "neighbors", max_neighbors=k),
                      feeds.model_input_names(export))
  keras = export(feed)["logits"].numpy()[cora.test_index].argmax(-1)
  tflite = open_runtime(result.path).run(feed)["logits"][cora.test_index].argmax(-1)
  assert np.mean(keras == tflite) >= 0.97
  assert np.mean(keras == cora.labels[cora.test_index]) > 0.6
