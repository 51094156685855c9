"""The Android kit (deploy/android): its Kotlin compiles, and its input builders agree with
the host's feeds.

Slow tier: needs Debian's `kotlin` and `libandroid-json-java` (`apt-get install -y kotlin
libandroid-json-java`). The Android SDK platform and the LiteRT library cannot be installed
here, so `EdgeGnnModel.kt` is compiled against signature-only stubs of the classes it calls
(deploy/android/compile_check); `GraphInputs.kt` needs neither and is run on the JVM: the
sparse, dense and neighbors inputs it builds for test graphs (with overflow rows, padding,
empty feature rows, dense and sparse features) must equal `edgegnn.models.feeds.graph_feed`.
"""
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from edgegnn.data import Graph, SparseFeatures
from edgegnn.models import feeds

KIT = Path(__file__).resolve().parents[1] / "deploy" / "android"
JSON_JAR = Path("/usr/share/java/com.android.json.jar")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
  missing = [tool for tool in ("kotlinc", "kotlin", "javac") if shutil.which(tool) is None]
  if missing or not JSON_JAR.is_file():
    pytest.fail(f"{missing or JSON_JAR} missing: as root, `apt-get install -y kotlin "
                "libandroid-json-java openjdk-17-jdk-headless` to check the Android kit.")
  out = tmp_path_factory.mktemp("kotlin")
  stubs = sorted(str(p) for p in (KIT / "compile_check").rglob("*.java"))
  subprocess.run(["javac", "-d", str(out / "stubs"), *stubs], check=True, capture_output=True)
  sources = sorted(str(p) for p in (KIT / "src").rglob("*.kt"))
  done = subprocess.run(
      ["kotlinc", "-cp", f"{out / 'stubs'}:{JSON_JAR}", "-d", str(out / "classes"), *sources,
       str(KIT / "compile_check" / "GraphInputsDump.kt")],
      capture_output=True, text=True, timeout=600)
  assert done.returncode == 0, done.stderr[-3000:]
  assert (out / "classes" / "dev" / "edgegnn" / "EdgeGnnModel.class").is_file()
  return out


def _kotlin_inputs(compiled, tmp_path, graph: Graph, layout, max_neighbors=None,
                   capacity=None):
  spec = {"num_nodes": graph.num_nodes, "num_features": graph.num_features,
          "edge_source": graph.edge_source.tolist(), "edge_target": graph.edge_target.tolist()}
  if graph.node_features is not None:
    spec["node_features"] = graph.node_features.ravel().tolist()
  else:
    sparse = graph.sparse_features
    spec.update(feature_indptr=sparse.row_splits.tolist(), feature_indices=sparse.indices.tolist())
    if sparse.values is not None:
      spec["feature_values"] = sparse.values.tolist()
  path = tmp_path / f"graph_{layout}_{capacity}.json"
  path.write_text(json.dumps(spec))
  args = [str(path), layout, str(max_neighbors or 0)] + ([str(capacity)] if capacity else [])
  done = subprocess.run(["kotlin", "-cp", f"{compiled / 'classes'}:{JSON_JAR}",
                         "GraphInputsDumpKt", *args], capture_output=True, text=True, timeout=300)
  assert done.returncode == 0, done.stderr[-3000:]
  return {name: np.asarray(item["values"], item["dtype"]).reshape(item["shape"])
          for name, item in json.loads(done.stdout).items()}


def _graphs():
  rng = np.random.default_rng(0)
  n, f = 20, 6
  # Node 3 has 40 in-edges (overflow rows at max_neighbors 40), node 7 none; a repeated edge.
  source = np.concatenate([rng.integers(0, n, 40), rng.integers(0, n, 30), [5, 5]])
  target = np.concatenate([np.full(40, 3), rng.choice([i for i in range(n) if i != 7], 30),
                           [9, 9]])
  dense = rng.normal(size=(n, f)).astype(np.float32) * (rng.random((n, f)) < 0.4)
  dense[11] = 0.0  # a node without features: one padding entry in the feature lists
  binary = SparseFeatures.from_dense((dense != 0).astype(np.float32), binary=True)
  return {"dense_features": Graph(dense, source.astype(np.int32), target.astype(np.int32)),
          "binary_csr": Graph(None, source.astype(np.int32), target.astype(np.int32),
                              sparse_features=binary)}


@pytest.mark.slow
@pytest.mark.parametrize("layout, max_neighbors, capacity", [
    ("sparse", None, None), ("dense", None, 24), ("neighbors", 40, None),
    ("neighbors", 40, 24), ("neighbors", 40 + 8, None)])
def test_graph_inputs_equal_the_host_feeds(compiled, tmp_path, layout, max_neighbors,
                                           capacity):
  for name, graph in _graphs().items():
    kotlin = _kotlin_inputs(compiled, tmp_path, graph, layout, max_neighbors, capacity)
    host = feeds.graph_feed(graph, layout, capacity, max_neighbors=max_neighbors)
    expected = {"sparse": {"node_features", "edge_source", "edge_target", "in_degree",
                           "feature_node", "feature_index", "feature_value"},
                "dense": {"node_features", "adjacency", "node_mask"},
                "neighbors": {"node_features", "neighbors", "neighbor_mask", "in_degree",
                              "node_mask", "row_node", "overflow_rows", "overflow_index",
                              "feature_node", "feature_index", "feature_value"}}[layout]
    assert set(kotlin) == expected, name
    for key, value in kotlin.items():
      want = np.asarray(host[key])
      assert value.dtype == want.dtype and value.shape == want.shape, (name, key)
      np.testing.assert_allclose(value, want, rtol=1e-6, err_msg=f"{name} {key}")


@pytest.mark.slow
def test_graph_inputs_refuse_what_the_host_refuses(compiled, tmp_path):
  graph = _graphs()["dense_features"]
  for layout, max_neighbors, capacity, words in (("neighbors", 39, None, "maxNeighbors=39"),
                                                 ("dense", None, 10, "capacity is 10")):
    with pytest.raises(AssertionError, match=words):
      _kotlin_inputs(compiled, tmp_path, graph, layout, max_neighbors, capacity)
