"""The cost model on converted GCN artifacts (an untrained GCN on MUTAG's largest graph).

Independent references: the artifact's own output on ai-edge-litert (the op-by-op run
must end in it), the interpreter's tensor shapes (the cost model's shapes must be them),
and MAC counts worked out from the layer sizes.
"""
import numpy as np
import pytest

# Three conversions: about 30 s on a quiet machine, minutes under load.
pytestmark = pytest.mark.slow

from edgegnn import data
from edgegnn.deploy import convert as convert_lib
from edgegnn.deploy import cost, cost_profile
from edgegnn.models import ModelSpec, build_model, feeds
from edgegnn.runtime import interpreters, tflite_file

HIDDEN = 16


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
  """(dataset graph, {layout/format: TfliteModelInfo}) of one GCN in three exports."""
  ds = data.load("mutag")
  graph = max(ds.graphs, key=lambda g: g.num_nodes)
  spec = ModelSpec("gcn", hidden_units=HIDDEN, num_layers=2, readout="mean")
  folder = tmp_path_factory.mktemp("cost")
  out = {}
  for layout, fmt in (("sparse", "tflite-float32"), ("dense", "tflite-float32"),
                      ("dense", "tflite-int8")):
    capacity = graph.num_nodes if layout == "dense" else None
    model = build_model(spec, num_features=ds.num_features, num_classes=ds.num_classes,
                        task="graph", layout=layout, capacity=capacity)
    names = feeds.model_input_names(model)
    feed = feeds.select(feeds.graph_feed(graph, layout, capacity), names)
    path = folder / f"{layout}_{fmt}.tflite"
    convert_lib.convert(model, fmt, path, representative_feeds=[feed])
    out[f"{layout}/{fmt}"] = (tflite_file.read_model(path), feed)
  return graph, out


@pytest.mark.parametrize("key", ["sparse/tflite-float32", "dense/tflite-float32",
                                 "dense/tflite-int8"])
def test_op_by_op_run_ends_in_the_artifacts_output(artifacts, key):
  _, models = artifacts
  info, feed = models[key]
  runs, values = cost_profile.profile_ops(info, feed, runs=0)
  assert len(runs) == len(info.subgraphs[0].operators)
  expected = interpreters.open_runtime(info, "litert").run(feed, dequantize_outputs=False)
  for io in info.outputs:
    np.testing.assert_allclose(values[io.tensor.index], expected[io.name], rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("key", ["sparse/tflite-float32", "dense/tflite-int8"])
def test_shapes_are_the_interpreters(artifacts, key):
  _, models = artifacts
  info, feed = models[key]
  shapes, given, _ = cost.resolve_shapes(info, inputs=feed)
  _, values = cost_profile.profile_ops(info, feed, runs=0)
  for index, value in values.items():
    assert tuple(shapes[index]) == value.shape, info.subgraphs[0].tensors[index].name
  assert given == {name: np.shape(value) for name, value in feed.items()}


def test_matrix_macs_follow_the_layer_sizes(artifacts):
  graph, models = artifacts
  n, f = graph.num_nodes, graph.node_features.shape[1]
  for key in ("sparse/tflite-float32", "dense/tflite-int8"):
    info, feed = models[key]
    report = cost.estimate(info, "cortex-a72", inputs=feed)
    fc = sorted(op.work.macs for op in report.ops if op.name == "FULLY_CONNECTED")
    # First layer N x F x 16, second N x 16 x 16, the classifier 1 x 16 x classes
    # (after the mean readout).
    assert n * f * HIDDEN in fc and n * HIDDEN * HIDDEN in fc, (key, fc)
    assert report.peak_activation_bytes >= max(
        np.asarray(v).nbytes for v in feed.values())
  for key in ("dense/tflite-float32", "dense/tflite-int8"):
    info, feed = models[key]
    report = cost.estimate(info, "cortex-a72", inputs=feed)
    matmul = [op.work.macs for op in report.ops if op.name == "BATCH_MATMUL"]
    # One aggregation A [N, N] x H [N, 16] per layer (plus the degree and readout
    # products, A x 1 and mask x H).
    assert matmul.count(n * n * HIDDEN) == 2, (key, matmul)
