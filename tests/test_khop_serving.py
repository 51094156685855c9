"""The teacher's serving artifact on a k-hop subgraph (`edgegnn.deploy.khop`) gives the
seed the logits it has on the whole graph: the device-side per-node query."""
import numpy as np
import pytest

from edgegnn.data.synthetic import synthetic_dataset
from edgegnn.deploy import runtimes
from edgegnn.deploy import convert as convert_lib
from edgegnn.deploy.khop import KHopExtractor
from edgegnn.models import ModelSpec, build_model, feeds
import tensorflow as tf


@pytest.mark.parametrize("num_layers", [2, 3])
def test_subgraph_logits_equal_full_graph_logits(tmp_path, num_layers):
  dataset = synthetic_dataset(400, avg_degree=5, num_classes=4, num_features=60, seed=1)
  graph = dataset.graph
  tf.keras.utils.set_random_seed(num_layers)
  model = build_model(ModelSpec("gcn", hidden_units=16, num_layers=num_layers),
                      num_features=60, num_classes=4, task="node", layout="sparse",
                      features="binary", serving=True)
  path = tmp_path / "gcn.tflite"
  convert_lib.convert(model, "tflite-float32", path, target="mobile")
  rt = runtimes.open_runtime(path, "litert")
  names = [io.name for io in rt.inputs]
  full = rt.run(feeds.select(feeds.graph_feed(graph, "sparse"), names))["logits"]
  extractor = KHopExtractor.from_graph(graph)
  seeds = np.random.default_rng(0).choice(graph.num_nodes, 40, replace=False)
  smaller = 0
  for seed in seeds:
    sub = extractor.extract(int(seed), num_layers)
    out = rt.run(sub.inputs(num_features=60))["logits"]
    assert out.shape == (sub.num_nodes, 4)
    np.testing.assert_allclose(out[0], full[seed], rtol=1e-5, atol=1e-5)
    smaller += sub.num_nodes < graph.num_nodes
  assert smaller == len(seeds)      # the point: a subgraph, not the whole graph


def test_inputs_pad_when_the_last_node_has_no_feature():
  extractor = KHopExtractor.from_edges([1, 2], [0, 0], 3, feature_indptr=[0, 2, 3, 3],
                                       feature_indices=[0, 4, 1])
  sub = extractor.extract(0, 1)                     # nodes 0, 1, 2; node 2 has none
  feed = sub.inputs(num_features=5, values=True)
  np.testing.assert_array_equal(feed["feature_node"], [0, 0, 1, 2])
  np.testing.assert_array_equal(feed["feature_index"], [0, 4, 1, 5])
  np.testing.assert_array_equal(feed["feature_value"], [1, 1, 1, 0])
  np.testing.assert_array_equal(feed["in_degree"], [2, 0, 0])
  with pytest.raises(ValueError, match="feature CSR"):
    KHopExtractor.from_edges([1], [0], 2).extract(0, 1).inputs(num_features=5)
