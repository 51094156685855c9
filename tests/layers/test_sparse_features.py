"""FeatureTransform: a linear map of node features given dense or as their non-zeros,
against numpy references; sparse-feature models equal their dense builds and convert."""
import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import numpy as np
import pytest

from edgegnn import layers as gl
from edgegnn.data import Graph
from edgegnn.deploy.convert import convert
from edgegnn.deploy.runtimes import open_runtime
from edgegnn.models import ModelSpec, build_model, feeds, transfer_weights


def _features(rng, n=7, f=5, binary=True):
  x = (rng.random((n, f)) < 0.4).astype(np.float32)
  if not binary:
    x *= rng.uniform(0.5, 3.0, (n, f)).astype(np.float32)
  x[2] = 0.0          # an empty row in the middle
  x[-1] = 0.0         # and the last one
  return x


def _graph(x, rng, edges=12):
  n = len(x)
  return Graph(x, rng.integers(0, n, edges).astype(np.int32),
               rng.integers(0, n, edges).astype(np.int32))


def _ref(x, kernel, bias, row_normalize):
  if row_normalize:
    x = x / np.maximum(x.sum(1, keepdims=True), 1.0)
  y = x @ kernel
  return y + bias if bias is not None else y


@pytest.mark.parametrize("row_normalize", [False, True])
@pytest.mark.parametrize("encoding", ["dense", "sparse", "binary"])
def test_feature_transform_matches_numpy(encoding, row_normalize):
  rng = np.random.default_rng(0)
  x = _features(rng, binary=encoding == "binary")
  layer = gl.FeatureTransform(3, num_features=5, use_bias=True, row_normalize=row_normalize)
  lists = feeds.sparse_feature_lists(_graph(x, rng))
  if encoding == "binary":
    lists.pop("feature_value")
  inputs = x if encoding == "dense" else lists
  layer(inputs)
  kernel = rng.normal(size=(5, 3)).astype(np.float32)
  bias = rng.normal(size=3).astype(np.float32)
  layer.set_weights([kernel, bias])
  np.testing.assert_allclose(layer(inputs).numpy(), _ref(x, kernel, bias, row_normalize),
                             rtol=1e-5, atol=1e-6)


def test_feature_lists_name_every_node_in_order():
  """Empty rows get a padding entry (column F, value 0): node ids run 0..N-1 without gaps,
  which TFLite's SEGMENT_SUM requires."""
  rng = np.random.default_rng(1)
  x = _features(rng, n=9)
  lists = feeds.sparse_feature_lists(_graph(x, rng))
  node, index, value = lists["feature_node"], lists["feature_index"], lists["feature_value"]
  assert np.all(np.diff(node) >= 0) and np.all(np.diff(node) <= 1)
  assert node[0] == 0 and node[-1] == len(x) - 1
  padding = index == x.shape[1]
  assert set(node[padding]) == set(np.flatnonzero(x.sum(1) == 0))
  assert np.all(value[padding] == 0)
  dense = np.zeros((len(x), x.shape[1] + 1), np.float32)
  np.add.at(dense, (node, index), value)
  np.testing.assert_array_equal(dense[:, :-1], x)


def test_feature_transform_config_round_trip():
  layer = gl.FeatureTransform(4, num_features=6, use_bias=True, activation="relu",
                              row_normalize=True, min_total=2.0, name="t")
  clone = gl.FeatureTransform.from_config(layer.get_config())
  assert clone.get_config() == layer.get_config()


@pytest.mark.parametrize("architecture", ["gcn", "sage", "gat", "mp", "mlp"])
@pytest.mark.parametrize("layout", ["sparse", "neighbors"])
def test_sparse_feature_model_equals_dense_build(architecture, layout):
  rng = np.random.default_rng(2)
  x = _features(rng, n=10, f=6, binary=False)
  graph = _graph(x, rng, edges=25)
  spec = ModelSpec(architecture, hidden_units=4, num_heads=2, input_normalization="row")
  trained = build_model(spec, num_features=6, num_classes=3)
  reference = trained(feeds.select(feeds.graph_feed(graph), feeds.model_input_names(trained)))
  max_neighbors = max(1, int(graph.in_degree().max()))
  for features in ("sparse", "dense") if layout == "sparse" else ("sparse",):
    model = transfer_weights(trained, build_model(
        spec, num_features=6, num_classes=3, layout=layout, features=features, serving=True,
        max_neighbors=max_neighbors))
    feed = feeds.select(feeds.graph_feed(graph, layout, max_neighbors=max_neighbors),
                        feeds.model_input_names(model))
    np.testing.assert_allclose(model(feed)["logits"].numpy()[:10],
                               reference["logits"].numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kwargs, fix", [
    (dict(spec=ModelSpec("gin"), task="node"), "dense"),
    (dict(spec=ModelSpec("gcn"), task="graph"), "dense"),
    (dict(spec=ModelSpec("gcn"), layout="dense", capacity=8), "neighbors"),
])
def test_sparse_features_refused_where_they_cannot_work(kwargs, fix):
  spec = kwargs.pop("spec")
  with pytest.raises(ValueError, match=fix):
    build_model(spec, num_features=4, num_classes=2, features="binary", **kwargs)


def test_binary_features_refused_for_real_values():
  class _Data:
    name, task = "toy", "node"
    graph = Graph(np.array([[0.0, 2.0], [1.0, 0.0]], np.float32), np.array([0], np.int32),
                  np.array([1], np.int32))
  with pytest.raises(ValueError, match="features: sparse"):
    feeds.check_binary_features(_Data())


def test_sparse_feature_gcn_converts_and_matches_keras(tmp_path):
  """Float32 on ai-edge-litert equals Keras, with empty feature rows mid-graph."""
  rng = np.random.default_rng(3)
  x = _features(rng, n=12, f=8)
  graph = _graph(x, rng, edges=30)
  spec = ModelSpec("gcn", hidden_units=4, input_normalization="row")
  model = transfer_weights(build_model(spec, num_features=8, num_classes=3),
                           build_model(spec, num_features=8, num_classes=3, features="binary",
                                       serving=True))
  feed = feeds.select(feeds.graph_feed(graph), feeds.model_input_names(model))
  result = convert(model, "tflite-float32", tmp_path / "m.tflite", target="mobile")
  assert "SEGMENT_SUM" in result.ops
  out = open_runtime(tmp_path / "m.tflite").run(feed)["logits"]
  np.testing.assert_allclose(out, model(feed)["logits"].numpy(), rtol=1e-5, atol=1e-5)
