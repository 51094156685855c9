"""The stock anchor equals a numpy GCN; side-by-side timing gives ratios to a baseline;
a run's report gets the stock comparison for every artifact."""
import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import numpy as np
import pytest

from edgegnn.data import Graph, NodeClassificationDataset
from edgegnn.deploy import side_by_side, stock
from edgegnn.deploy.convert import convert
from edgegnn.deploy.runtimes import open_runtime
from edgegnn.models import ModelSpec, build_model, feeds
from edgegnn.pipeline import report as report_lib
from edgegnn.pipeline import stock_comparison

N, F, C = 12, 6, 3


def _graph(seed=0):
  rng = np.random.default_rng(seed)
  x = (rng.random((N, F)) < 0.5).astype(np.float32)
  return Graph(x, rng.integers(0, N, 30).astype(np.int32),
               rng.integers(0, N, 30).astype(np.int32))


def test_stock_gcn_equals_numpy_reference():
  graph = _graph()
  weights = stock.stock_gcn_weights(F, C, hidden_units=4, seed=1)
  w1, b1, w2, b2 = weights
  blob = stock.stock_gcn_tflite(F, C, 4, "stock-float32", weights=weights)
  feed = stock.stock_gcn_feed(graph)
  x = graph.node_features / np.maximum(graph.node_features.sum(1, keepdims=True), 1.0)
  a = np.eye(N) + np.zeros((N, N))
  np.add.at(a, (graph.edge_target, graph.edge_source), 1.0)
  d = a.sum(1) ** -0.5
  a_hat = d[:, None] * a * d[None, :]
  expected = a_hat @ (np.maximum(a_hat @ (x @ w1) + b1, 0) @ w2) + b2
  out = open_runtime(blob).run(feed)["logits"]
  np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
  # Dynamic-range int8 stores weights of >= 1024 entries in int8 (about 4x smaller).
  sizes = stock.stock_anchors(300, C, 16)
  assert sizes["stock-dynamic-int8"].__len__() < 0.4 * len(sizes["stock-float32"])


def test_interleaved_latency_ratios():
  graph = _graph()
  blobs = stock.stock_anchors(F, C, 4)
  contenders = [side_by_side.contender(name, blob, stock.stock_gcn_feed(graph))
                for name, blob in blobs.items()]
  timed = side_by_side.interleaved_latency(contenders, rounds=2, invokes=3,
                                           baseline="stock-float32")
  assert timed["stock-float32"]["x_baseline_p50"] == 1.0
  for name, entry in timed.items():
    assert entry["timed_invokes"] == 6
    assert entry["x_baseline_bytes"] == pytest.approx(len(blobs[name]) / len(blobs["stock-float32"]))
    assert entry["shapes"]["node_features"] == [N, F]
  with pytest.raises(ValueError, match="baseline"):
    side_by_side.interleaved_latency(contenders, 1, 1, baseline="nope")


def test_report_gets_the_stock_comparison(tmp_path):
  graph = _graph(2)
  dataset = NodeClassificationDataset(
      name="toy", graph=graph, labels=np.arange(N, dtype=np.int32) % C,
      num_classes=C, train_index=np.arange(4), val_index=np.arange(4, 8),
      test_index=np.arange(8, N))
  model = build_model(ModelSpec("gcn", hidden_units=4, input_normalization="row"),
                      num_features=F, num_classes=C, features="binary", serving=True)
  (tmp_path / "artifacts").mkdir()
  convert(model, "tflite-float32", tmp_path / "artifacts" / "g.tflite")
  report = {"pipeline": "toy", "dataset": "toy", "models": [
      {"name": "gcn", "architecture": "gcn", "hidden_units": 4}], "artifacts": [
      {"name": "g", "path": "artifacts/g.tflite", "format": "tflite-float32",
       "layout": "sparse", "features": "binary", "runtime": "litert"}]}
  section = stock_comparison.compare(report, tmp_path, dataset, log=lambda _: None,
                                     rounds=2, invokes=2)
  artifact = report["artifacts"][0]
  assert artifact["x_stock_p50"] == pytest.approx(
      section["timed"]["g"]["p50_ms"] / section["timed"]["stock-float32"]["p50_ms"])
  assert section["timed"]["g"]["shapes"]["feature_index"][0] == int(
      feeds.sparse_feature_lists(graph)["feature_index"].shape[0])
  assert set(report["stock_comparison"]["anchors"]) == set(stock.STOCK_FORMATS)
  header, rows = report_lib.artifact_rows(report)
  row = next(r for r in rows if r[0].split(" (")[0] == "g")  # the stock anchors have rows too
  assert float(row[header.index("x stock p50")]) == pytest.approx(
      artifact["x_stock_p50"], abs=1e-3)


def test_feeds_import_without_tensorflow():
  """Device-side code builds sparse-feature inputs with numpy only."""
  import subprocess
  import sys
  code = ("import sys; sys.modules['tensorflow'] = None\n"
          "import numpy as np\n"
          "from edgegnn.data import Graph\n"
          "from edgegnn.models import feeds\n"
          "g = Graph(np.eye(3, dtype=np.float32), np.array([0, 1]), np.array([1, 2]))\n"
          "f = feeds.select(feeds.graph_feed(g), ['feature_node', 'feature_index', 'in_degree'])\n"
          "print(f['feature_node'].tolist(), f['in_degree'].tolist())\n")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
  assert out.stdout.split("\n")[0] == "[0, 1, 2] [0, 1, 1]"
