"""`edgegnn.deploy.per_node`: per-node logits equal the full-graph model's rows, padding is
inert, bad node ids are clear errors, and the module runs without TensorFlow."""
import subprocess
import sys

import numpy as np
import pytest

from edgegnn.data import Graph
from edgegnn.deploy import convert as convert_lib
from edgegnn.deploy.per_node import (FeatureRows, StudentPredictor, SubgraphPredictor,
                                     feature_csr, pad_empty_rows)
from edgegnn.models import ModelSpec, build_model, feeds, transfer_weights
import tensorflow as tf

N, F, CLASSES = 90, 24, 4


def _graph(values: bool) -> Graph:
  """A directed graph with a hub (node 7: in-edges from a third of the nodes), a node
  without in-edges (89), and empty feature rows (0, 13 and 14 in a row, the last)."""
  rng = np.random.default_rng(3)
  source = rng.integers(0, N - 1, 200)
  target = rng.integers(0, N - 1, 200)
  hub = np.arange(0, N - 1, 3)
  source, target = np.concatenate([source, hub]), np.concatenate([target, np.full(hub.size, 7)])
  keep = source != target
  pairs = np.unique(np.stack([source[keep], target[keep]], 1), axis=0)
  features = (rng.random((N, F)) < 0.15).astype(np.float32)
  if values:
    features *= rng.integers(1, 4, (N, F)).astype(np.float32)
  features[[0, 13, 14, N - 1]] = 0.0
  return Graph(node_features=features, edge_source=pairs[:, 0], edge_target=pairs[:, 1])


def _keras_rows(model, graph) -> np.ndarray:
  inputs = feeds.select(feeds.graph_feed(graph), feeds.model_input_names(model))
  return model(inputs)["logits"].numpy()


@pytest.fixture(scope="module")
def gcn(tmp_path_factory):
  """{features: (graph, full-graph Keras logits, artifact bytes)} for a 2-layer GCN with
  row normalisation, binary and real-valued sparse features (untrained weights)."""
  out = {}
  for features in ("binary", "sparse"):
    graph = _graph(values=features == "sparse")
    tf.keras.utils.set_random_seed(1)
    model = build_model(ModelSpec("gcn", hidden_units=8, input_normalization="row"),
                        num_features=F, num_classes=CLASSES, layout="sparse",
                        features=features, serving=True)
    path = tmp_path_factory.mktemp("per_node") / f"gcn_{features}.tflite"
    convert_lib.convert(model, "tflite-float32", path, target="mobile")
    out[features] = (graph, _keras_rows(model, graph), path.read_bytes())
  return out


@pytest.fixture(scope="module")
def mlp(tmp_path_factory):
  """(graph, dense-build Keras logits, one-node serving artifact) of an MLP student."""
  graph = _graph(values=False)
  spec = ModelSpec("mlp", hidden_units=16, num_layers=2)
  tf.keras.utils.set_random_seed(2)
  dense = build_model(spec, num_features=F, num_classes=CLASSES)
  serving = transfer_weights(dense, build_model(spec, num_features=F, num_classes=CLASSES,
                                                features="binary", serving=True))
  path = tmp_path_factory.mktemp("per_node") / "mlp.tflite"
  convert_lib.convert(serving, "tflite-float32", path, target="mobile")
  reference = dense({"node_features": graph.node_features})["logits"].numpy()
  return graph, reference, path.read_bytes()


@pytest.mark.parametrize("features,mode", [("binary", "rows"), ("binary", "csr"),
                                           ("sparse", "rows"), ("sparse", "csr")])
def test_teacher_rows_equal_full_graph(gcn, features, mode):
  graph, reference, artifact = gcn[features]
  predictor = SubgraphPredictor.from_graph(artifact, graph, hops=2, features=mode,
                                           min_capacity=(2, 1, 2))
  assert predictor.features == mode
  got = np.stack([predictor.predict(v) for v in range(N)])
  np.testing.assert_allclose(got, reference, rtol=1e-5, atol=1e-6)
  assert len(predictor._runtimes) > 1   # the hub's query ran in a larger capacity


def test_padding_never_changes_results(gcn):
  graph, _, artifact = gcn["binary"]
  tight = SubgraphPredictor.from_graph(artifact, graph, features="csr", min_capacity=(2, 1, 2))
  loose = SubgraphPredictor.from_graph(artifact, graph, features="csr",
                                       min_capacity=(256, 1024, 8192))
  rows = SubgraphPredictor.from_graph(artifact, graph, features="rows",
                                      min_capacity=(128, 512, 0))
  for v in range(N):
    expected = tight.predict(v)
    np.testing.assert_allclose(loose.predict(v), expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(rows.predict(v), expected, rtol=1e-6, atol=1e-7)
  # Queries in any order through one interpreter: no state leaks from a larger subgraph.
  again = [tight.predict(v) for v in (7, 89, 7, 0, 89)]
  np.testing.assert_array_equal(again[0], again[2])
  np.testing.assert_array_equal(again[1], again[4])


def test_student_rows_equal_dense_model(mlp):
  graph, reference, artifact = mlp
  predictor = StudentPredictor.from_graph(artifact, graph)
  got = np.stack([predictor.predict(v) for v in range(N)])
  np.testing.assert_allclose(got, reference, rtol=1e-5, atol=1e-6)
  # After the longest row, a short one: the stale tail must have been overwritten.
  longest = int(np.argmax((graph.node_features != 0).sum(1)))
  predictor.predict(longest)
  np.testing.assert_allclose(predictor.predict(0), reference[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("node,error", [(-1, ValueError), (N, ValueError), (10**9, ValueError),
                                        (2.0, TypeError), (True, TypeError), ("3", TypeError)])
def test_bad_node_is_a_clear_error(gcn, mlp, node, error):
  graph, _, artifact = gcn["binary"]
  for predictor in (SubgraphPredictor.from_graph(artifact, graph),
                    StudentPredictor.from_graph(mlp[2], mlp[0])):
    with pytest.raises(error, match="node"):
      predictor.predict(node)


def test_wrong_artifact_is_refused(gcn, mlp):
  graph, _, teacher = gcn["binary"]
  with pytest.raises(ValueError, match="teacher artifact must take"):
    SubgraphPredictor.from_graph(mlp[2], graph)
  with pytest.raises(ValueError, match="student artifact must take"):
    StudentPredictor.from_graph(teacher, graph)
  valued = gcn["sparse"][0]   # counts 1-3: a binary artifact would read them as 1
  with pytest.raises(ValueError, match="binary features"):
    SubgraphPredictor.from_graph(teacher, valued)
  with pytest.raises(ValueError, match="binary features"):
    StudentPredictor.from_graph(mlp[2], valued)


def test_feature_layouts():
  indptr, indices, values = [0, 2, 2, 2, 3], [1, 4, 0], [1.0, 2.0, 3.0]
  padded = pad_empty_rows(indptr, indices, values, 5)
  np.testing.assert_array_equal(padded[0], [0, 2, 3, 4, 5])
  np.testing.assert_array_equal(padded[1], [1, 4, 5, 5, 0])
  np.testing.assert_array_equal(padded[2], [1, 2, 0, 0, 3])
  rows = FeatureRows(indptr, indices, values, 5)
  np.testing.assert_array_equal(rows.index, [[1, 4], [5, 5], [5, 5], [0, 5]])
  np.testing.assert_array_equal(rows.value, [[1, 2], [0, 0], [0, 0], [3, 0]])
  with pytest.raises(ValueError, match="columns"):
    FeatureRows(indptr, [1, 4, 5], None, 5)
  graph = _graph(values=False)
  indptr, indices, values, width = feature_csr(graph)
  assert values is None and width == F and indptr[-1] == (graph.node_features != 0).sum()


def test_imports_without_tensorflow():
  code = ("import sys; sys.modules['tensorflow'] = None; "
          "import edgegnn.deploy.per_node as p; print(p.SubgraphPredictor.__name__)")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120)
  assert out.returncode == 0, out.stderr
  assert "SubgraphPredictor" in out.stdout


def test_docs_quote_the_measured_figures():
  import json
  import pathlib
  root = pathlib.Path(__file__).resolve().parents[1]
  bench = json.loads((root / "docs/results/per_node_latency.json").read_text())
  page = (root / "docs/per_node.md").read_text()
  assert f"`{bench['command']}`" in page
  latency = bench["per_node_latency_ms"]
  for name in ("student", "teacher_rows", "teacher_csr", "teacher_runner"):
    assert f"| {latency[name]['p50']:.4f} | {latency[name]['p90']:.4f} |" in page, name
  split = bench["teacher_time_split_ms"]
  assert f"structure {split['extract_structure']['p50']:.4f} ms" in page
  assert f"the invoke\n{split['invoke_only']['p50']:.4f} ms" in page
  met = bench["met"]
  assert met["student"] and met["teacher"] and met["teacher_variant"] == "teacher_rows"
