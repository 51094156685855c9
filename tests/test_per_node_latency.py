"""Per-node query latency of node artifacts without graph inputs (deploy.per_node_latency):
the row predictor answers each node as the whole-graph artifact does, in float and int8."""
import numpy as np
import pytest
import tensorflow as tf

from edgegnn.data import Graph
from edgegnn.deploy import convert as convert_lib
from edgegnn.deploy import per_node_latency as pnl
from edgegnn.models import ModelSpec, build_model

N, F, CLASSES = 60, 12, 3


def _graph() -> Graph:
  rng = np.random.default_rng(5)
  features = (rng.random((N, F)) < 0.3).astype(np.float32) * rng.random((N, F)).astype(
      np.float32)
  source = rng.integers(0, N, 150)
  target = rng.integers(0, N, 150)
  return Graph(node_features=features, edge_source=source, edge_target=target)


def _whole_graph_logits(path, graph) -> np.ndarray:
  from ai_edge_litert.interpreter import Interpreter
  runner = Interpreter(model_path=str(path)).get_signature_runner()
  details = runner.get_input_details()
  feed = {"node_features": graph.node_features, "edge_source": graph.edge_source,
          "edge_target": graph.edge_target}
  inputs = {}
  for name, detail in details.items():
    value = feed[name].astype(np.float32 if detail["dtype"] == np.float32 else np.int32)
    if detail["dtype"] == np.int8:
      scale, zero = detail["quantization"]
      value = np.clip(np.round(feed[name] / scale) + zero, -128, 127).astype(np.int8)
    inputs[name] = value
  out = runner(**inputs)["logits"]
  detail = runner.get_output_details()["logits"]
  if detail["dtype"] == np.int8:
    scale, zero = detail["quantization"]
    out = (out.astype(np.float32) - zero) * scale
  return out


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
  graph = _graph()
  tf.keras.utils.set_random_seed(4)
  mlp = build_model(ModelSpec("mlp", hidden_units=16, num_layers=2), num_features=F,
                    num_classes=CLASSES)
  gcn = build_model(ModelSpec("gcn", hidden_units=8), num_features=F, num_classes=CLASSES)
  rep = [{"node_features": graph.node_features}]
  out = tmp_path_factory.mktemp("per_node_latency")
  paths = {}
  for fmt, kw in (("tflite-float32", {}),
                  ("tflite-int8", {"representative_feeds": rep, "integer_io": True})):
    paths[fmt] = out / f"mlp_{fmt}.tflite"
    convert_lib.convert(mlp, fmt, paths[fmt], **kw)
  paths["gcn"] = out / "gcn.tflite"
  convert_lib.convert(gcn, "tflite-float32", paths["gcn"])
  return graph, paths


@pytest.mark.parametrize("fmt,tolerance", [("tflite-float32", 1e-5), ("tflite-int8", 1e-6)])
def test_row_queries_equal_the_whole_graph_rows(artifacts, fmt, tolerance):
  graph, paths = artifacts
  predictor = pnl.predictor_for(paths[fmt], graph)
  assert isinstance(predictor, pnl.RowPredictor)
  got = np.stack([predictor.predict(v) for v in range(N)])
  np.testing.assert_allclose(got, _whole_graph_logits(paths[fmt], graph), atol=tolerance)


def test_latency_of_a_node_artifact_and_none_for_graph_inputs(artifacts):
  graph, paths = artifacts
  timing = pnl.per_node_latency(paths["tflite-float32"], graph, range(0, N, 2), warmup=3)
  assert timing["queries"] == N // 2 and timing["threads"] == 1
  assert 0 < timing["p50"] <= timing["p90"]
  assert pnl.per_node_latency(paths["gcn"], graph, range(N)) is None
  with pytest.raises(ValueError, match="node_features"):
    pnl.RowPredictor(paths["gcn"], graph.node_features)
  with pytest.raises(ValueError, match="12 features"):
    pnl.RowPredictor(paths["tflite-float32"], graph.node_features[:, :5])
