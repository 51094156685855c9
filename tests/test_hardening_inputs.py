"""Issue 24, runtime inputs: values the model's contract does not allow are refused before
invoke, in the library's runtimes and in the device bundle's runner alike, naming the
input and the first offending position."""
import json
import subprocess
import sys

import numpy as np
import pytest

from edgegnn.deploy import runtimes
from edgegnn.deploy.input_checks import check_inputs
from edgegnn.deploy.pi_bundle import build_bundle
from edgegnn.models import feeds
from edgegnn.runtime import tensors, tflite_file

from test_hardening_paths import finished_run  # noqa: F401  (fixture)


@pytest.fixture(scope="module")
def cora_feed(cora):
  graph = cora.graph
  return {"node_features": graph.node_features.astype(np.float32),
          "edge_source": graph.edge_source.astype(np.int32),
          "edge_target": graph.edge_target.astype(np.int32)}


def _artifact(run, fmt="tflite-float32"):
  report = json.loads((run / "report.json").read_text())
  return next(run / a["path"] for a in report["artifacts"] if a["format"] == fmt)


@pytest.mark.parametrize("fmt", ["tflite-float32", "tflite-dynamic-int8"])
def test_the_runtime_refuses_bad_values_naming_input_and_position(finished_run, cora_feed,
                                                                  fmt):
  runtime = runtimes.open_runtime(str(_artifact(finished_run, fmt)))
  good = runtime.run(cora_feed)["logits"]
  assert good.shape == (2708, 7) and np.isfinite(good).all()
  n = len(cora_feed["node_features"])
  def put(name, position, value):
    return lambda feed: feed[name].__setitem__(position, value)

  def cast(name, dtype, shift=0):
    return lambda feed: feed.update({name: feed[name].astype(dtype) + shift})

  cases = [
      ("edge_source", put("edge_source", 17, -1), r"value -1 at position \[17\]"),
      ("edge_target", put("edge_target", 3, n), rf"value {n} at position \[3\].*\[0, {n}\)"),
      ("edge_source", cast("edge_source", np.float32), "must be integers"),
      ("edge_target", cast("edge_target", np.int64, 2 ** 32), "outside"),
      ("node_features", put("node_features", (5, 9), np.nan), r"nan at position \[5, 9\]"),
      ("node_features", put("node_features", (0, 0), np.inf), "not finite"),
  ]
  for name, mutate, message in cases:
    feed = {k: v.copy() for k, v in cora_feed.items()}
    mutate(feed)
    with pytest.raises(ValueError, match=rf"input '{name}': .*{message}"):
      runtime.run(feed)
  # Validation is in `prepare`: a prepared feed is invoked without re-checking.
  prepared = runtime.prepare(cora_feed)
  np.testing.assert_array_equal(runtime.invoke(prepared)["logits"],
                                runtime.invoke(prepared)["logits"])


X4 = np.zeros((4, 3), np.float32)  # node features: N = 4, F = 3
DEG4 = np.zeros(4, np.int32)  # in_degree: N = 4 (the sparse-feature inputs' node count)


def _i(*values):
  return np.array(values, np.int32)


def _f(*values):
  return np.array(values, np.float32)


@pytest.mark.parametrize("inputs,message", [
    ({"node_mask": _f(1, 0, 7)}, r"'node_mask': value 7.0 at position \[2\]"),
    ({"neighbor_mask": _f(1, 0.5)[None]}, r"'neighbor_mask'.*\[0, 1\]"),
    ({"node_features": X4, "neighbors": _i(0, 4)[None]}, r"'neighbors': value 4 .*\[0, 1\]"),
    ({"node_features": X4, "row_node": _i(0, -2)}, r"'row_node': value -2"),
    ({"neighbors": np.zeros((5, 2), np.int32), "overflow_rows": _i(0, 5)[None]},
     r"'overflow_rows': value 5.*\[0, 5\)"),
    ({"overflow_rows": np.zeros((2, 3), np.int32), "overflow_index": _i(0, 3)},
     r"'overflow_index': value 3.*\[0, 2\]"),
    ({"in_degree": _i(1, -1)}, r"'in_degree': value -1 at position \[1\]"),
    ({"node_features": X4, "node_graph_index": _i(0, 0, 1, 4)}, r"'node_graph_index': value 4"),
    ({"in_degree": DEG4, "feature_index": _i(0, 2, 6)}, None),
    ({"node_features": X4, "feature_index": _i(0, 3, 4)}, r"'feature_index': value 4 .*\[0, 3\]"),
    ({"in_degree": DEG4, "feature_node": _i(0, 2, 1, 3)}, r"'feature_node': value 1 .*\[2\]"),
    ({"in_degree": DEG4, "feature_node": _i(0, 1, 4)}, r"'feature_node': value 4"),
    ({"feature_node": _f(0, 1)}, r"'feature_node': .*must be integers"),
    ({"edge_weight": _f(1, np.nan)}, r"'edge_weight': value nan at position \[1\]"),
    ({"feature_value": _f(1, -np.inf)}, r"'feature_value'.*not finite"),
])
def test_every_contract_input_is_checked(inputs, message):
  if message is None:  # F unknown (no node_features, no num_features): only >= 0 checked
    check_inputs(inputs)
    with pytest.raises(ValueError, match=r"'feature_index': value 6 .*\[0, 5\]"):
      check_inputs(inputs, num_features=5)
    return
  with pytest.raises(ValueError, match=message):
    check_inputs(inputs)


def test_valid_feeds_of_every_layout_pass(mutag, cora):
  for graph, layout, capacity, slots in (
      (mutag.graphs[0], "sparse", None, None), (mutag.graphs[0], "dense", 32, None),
      (mutag.graphs[0], "neighbors", 32, 4), (cora.graph, "neighbors", None, None),
      (cora.graph, "sparse", None, None)):  # cora: in-degrees up to 168, overflow rows
    feed = feeds.graph_feed(graph, layout, capacity, max_neighbors=slots)
    names = [n for n in ("node_features", "edge_source", "edge_target", "adjacency",
                         "node_mask", "neighbors", "neighbor_mask", "in_degree", "row_node",
                         "overflow_rows", "overflow_index", "feature_node", "feature_index",
                         "feature_value") if _has(feed, n)]
    check_inputs({n: feed[n] for n in names})
    if graph is cora.graph and layout == "neighbors":
      assert {"row_node", "overflow_rows", "overflow_index"} <= set(names)
  check_inputs(feeds.batch_feed(mutag.graphs[:3]))


def _has(feed, name):
  try:
    feed[name]  # pylint: disable=pointless-statement
    return True
  except KeyError:
    return False


def test_the_bundle_runner_refuses_bad_inputs_too(finished_run, tmp_path):
  io = tflite_file.IOTensor("edge_source", 0, tflite_file.TensorInfo(
      0, "edge_source", (2,), (2,), "int32", 1, False, False, 8, None))
  with pytest.raises(ValueError, match="'edge_source': value 4294967296 at position \\[1\\]"):
    tensors.prepare_input(np.array([0, 2 ** 32], np.int64), io)
  with pytest.raises(ValueError, match="expected integer"):
    tensors.prepare_input(np.array([0.0, 1.7]), io)
  bundle = build_bundle(finished_run, tmp_path / "bundle").path
  assert (bundle / "edgegnn_runtime" / "input_checks.py").is_file()
  example = next((bundle / "inputs").iterdir()) / "00000"
  sources = np.load(example / "edge_source.npy")
  sources[11] = -5
  np.save(example / "edge_source.npy", sources)
  done = subprocess.run([sys.executable, str(bundle / "run_bundle.py"), "--runs", "1",
                         "--warmup", "0"], capture_output=True, text=True, timeout=300,
                        cwd=tmp_path)
  assert done.returncode == 0, done.stderr
  results = json.loads((bundle / "results.json").read_text())
  for result in results["artifacts"].values():
    assert "'edge_source': value -5 at position [11]" in result["error"]
