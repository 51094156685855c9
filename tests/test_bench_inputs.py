"""`edgegnn bench` times real inputs: a dynamic-shape sparse Cora GCN is timed on the
sidecar's dataset (the whole graph), on stored sample inputs, on --inputs DIR or on
--input-shape sizes, and refused when none of these exists; the shapes it timed are in
its output, and the memory the model added is measured (not 0)."""
import json
import os
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from edgegnn import cli, data
from edgegnn.deploy import bench, bench_inputs, sidecar
from edgegnn.deploy import convert as convert_lib
from edgegnn.models import ModelSpec, build_model, feeds
import tensorflow as tf


@pytest.fixture(scope="module")
def cora():
  return data.load("cora")


@pytest.fixture(scope="module")
def artifact(tmp_path_factory, cora):
  """A float32 sparse-layout GCN with dynamic node and edge counts, and its sidecar."""
  tf.keras.utils.set_random_seed(0)
  model = build_model(ModelSpec("gcn", hidden_units=16), num_features=cora.num_features,
                      num_classes=cora.num_classes, task="node", layout="sparse")
  path = tmp_path_factory.mktemp("bench") / "gcn.float32.tflite"
  convert_lib.convert(model, "tflite-float32", path, target="mobile")
  sidecar.write_sidecar(path, fmt="tflite-float32", task="node", dataset="cora",
                        num_classes=cora.num_classes, layout="sparse")
  return path


def _bench(*args):
  result = CliRunner(mix_stderr=False).invoke(cli.main, ["bench", *map(str, args)],
                                              catch_exceptions=False)
  return result, (json.loads(result.stdout) if result.exit_code == 0 and "--json" in args
                  else None)


def _shapes(report):
  return {name: tuple(io["shape"]) for name, io in report["inputs"].items()}


def test_dynamic_shapes_are_dynamic(artifact):
  """The premise: the placeholder shape of every input is 1 where the size is dynamic."""
  info = bench.tflite_file.read_model(artifact)
  assert {io.name: tuple(io.tensor.shape_signature) for io in info.inputs} == {
      "node_features": (-1, 1433), "edge_source": (-1,), "edge_target": (-1,)}


def test_sidecar_dataset_times_the_whole_graph(artifact, cora):
  result, report = _bench("--json", "--runs", "5", "--warmup", "1", artifact)
  assert result.exit_code == 0, result.stderr
  g = cora.graph
  assert _shapes(report) == {"node_features": (g.num_nodes, g.num_features),
                             "edge_source": (g.num_edges,), "edge_target": (g.num_edges,)}
  assert "cora" in report["inputs_source"]
  # The interpreter holds its own copy of the [2708, 1433] float32 input, so the model
  # adds at least that much to the resident set (it used to read 0).
  assert report["model_memory_bytes"] >= g.num_nodes * g.num_features * 4
  assert report["memory_method"].startswith("VmHWM")
  # The placeholder-sized graph is far cheaper: timing it would mislead.
  _, tiny = _bench("--json", "--runs", "5", "--warmup", "1", "--input-shape",
                   "node_features=1,1433", "--input-shape", "edge_source=1",
                   "--input-shape", "edge_target=1", artifact)
  assert tiny["latency_ms"]["p50"] * 3 < report["latency_ms"]["p50"]


def test_text_output_lists_the_shapes_timed(artifact, cora):
  result, _ = _bench("--runs", "3", "--warmup", "1", artifact)
  assert result.exit_code == 0, result.stderr
  assert f"node_features {cora.graph.num_nodes}x1433 float32" in result.stdout
  assert f"edge_source {cora.graph.num_edges} int32" in result.stdout


def test_stored_sample_inputs_come_first(artifact, cora, tmp_path):
  path = tmp_path / artifact.name
  shutil.copy(artifact, path)
  shutil.copy(sidecar.sidecar_path(artifact), sidecar.sidecar_path(path))
  rng = np.random.default_rng(0)
  small = {"node_features": rng.random((30, 1433), dtype=np.float32),
           "edge_source": rng.integers(0, 30, 90).astype(np.int32),
           "edge_target": rng.integers(0, 30, 90).astype(np.int32)}
  folder = bench_inputs.write_sample_inputs(path, small)
  assert folder == bench_inputs.sample_inputs_dir(path)
  result, report = _bench("--json", "--runs", "3", "--warmup", "0", path)
  assert result.exit_code == 0, result.stderr
  assert _shapes(report) == {"node_features": (30, 1433), "edge_source": (90,),
                             "edge_target": (90,)}


def test_without_real_inputs_it_refuses(artifact, tmp_path):
  bare = tmp_path / "bare.tflite"                     # no sidecar, no sample inputs
  shutil.copy(artifact, bare)
  result, _ = _bench("--json", "--runs", "3", bare)
  assert result.exit_code != 0 and not result.stdout
  for token in ("node_features", "edge_source", "edge_target", "--inputs", "--input-shape",
                ".inputs", ".json"):
    assert token in result.stderr
  with pytest.raises(ValueError, match="edge_target"):
    bench.benchmark(bare, runs=1, warmup=0, measure_memory=False)


def test_input_shape_sets_the_sizes(artifact, tmp_path):
  bare = tmp_path / "bare.tflite"
  shutil.copy(artifact, bare)
  result, report = _bench("--json", "--runs", "3", "--warmup", "0",
                          "--input-shape", "node_features=500,1433",
                          "--input-shape", "edge_source=2000",
                          "--input-shape", "edge_target=2000", bare)
  assert result.exit_code == 0, result.stderr
  assert _shapes(report) == {"node_features": (500, 1433), "edge_source": (2000,),
                             "edge_target": (2000,)}
  info = bench.tflite_file.read_model(bare)
  random_inputs = bench.synthesize_inputs(info, shapes={"node_features": (500, 1433),
                                                        "edge_source": (2000,),
                                                        "edge_target": (2000,)})
  assert 0 <= random_inputs["edge_source"].min() and random_inputs["edge_source"].max() < 500
  # A missing dynamic input, a static size changed, an unknown name: refused, named.
  for args, token in [(["node_features=500,1433"], "edge_source"),
                      (["node_features=500,7", "edge_source=1", "edge_target=1"],
                       "node_features"),
                      (["nodes=5", "edge_source=1"], "nodes"),
                      (["edge_source=abc"], "edge_source=abc")]:
    result, _ = _bench("--runs", "1", *[a for s in args for a in ("--input-shape", s)], bare)
    assert result.exit_code != 0 and token in result.stderr, (args, result.stderr)


def test_inputs_dir(artifact, cora, tmp_path):
  bare = tmp_path / "bare.tflite"
  shutil.copy(artifact, bare)
  folder = tmp_path / "feed"
  folder.mkdir()
  feed = feeds.select(feeds.graph_feed(cora.graph, "sparse"),
                      ["node_features", "edge_source", "edge_target"])
  for name, value in feed.items():
    np.save(folder / f"{name}.npy", value)
  result, report = _bench("--json", "--runs", "3", "--warmup", "0", "--inputs", folder, bare)
  assert result.exit_code == 0, result.stderr
  assert _shapes(report)["edge_source"] == (cora.graph.num_edges,)
  os.remove(folder / "edge_target.npy")
  result, _ = _bench("--runs", "1", "--inputs", folder, bare)
  assert result.exit_code != 0 and "edge_target.npy" in result.stderr
  result, _ = _bench("--runs", "1", "--inputs", folder, "--input-shape", "edge_source=3", bare)
  assert result.exit_code != 0 and "--inputs" in result.stderr


def test_inputs_given_in_python_are_used_as_they_are(artifact, cora):
  """The pipeline's call: benchmark(path, inputs=feed)."""
  feed = feeds.select(feeds.graph_feed(cora.graph, "sparse"),
                      ["node_features", "edge_source", "edge_target"])
  result = bench.benchmark(artifact, inputs=feed, runs=2, warmup=0, measure_memory=False)
  assert result["inputs"]["node_features"]["shape"] == [cora.graph.num_nodes, 1433]
  assert result["inputs_source"] == "given by the caller"


def test_stored_sample_inputs_need_no_tensorflow(artifact, tmp_path):
  """bench is runtime-side: on stored sample inputs it imports no TensorFlow."""
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  path = tmp_path / artifact.name
  shutil.copy(artifact, path)
  bench_inputs.write_sample_inputs(path, {
      "node_features": np.ones((12, 1433), np.float32),
      "edge_source": np.arange(12, dtype=np.int32),
      "edge_target": np.arange(12, dtype=np.int32)[::-1].copy()})
  code = ("import sys\n"
          "from edgegnn.deploy import bench\n"
          f"r = bench.benchmark({str(path)!r}, runs=2, warmup=0, measure_memory=False)\n"
          "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n"
          "print(r['inputs']['node_features']['shape'][0])\n")
  proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                        timeout=300, check=False)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert proc.stdout.split()[-1] == "12"


def test_litert_times_invoke_with_inputs_set_once(artifact):
  """Default: a plain interpreter holds the inputs and only invoke is timed (its outputs
  are checked against the runtime's inside `benchmark`); the flag times the whole call."""
  _, once = _bench("--json", "--runs", "3", "--warmup", "1", artifact)
  _, each = _bench("--json", "--runs", "3", "--warmup", "1", "--set-inputs-each-run", artifact)
  assert once["timed"] == bench.TIMED_INVOKE and each["timed"] == bench.TIMED_CALL
  assert _shapes(once) == _shapes(each)


def test_input_shape_on_a_sparse_feature_artifact(tmp_path, cora):
  """Random inputs for the binary sparse-feature contract are valid: feature_node sorted,
  feature_index inside the weight table its GATHER reads (F + 1 rows: F is padding),
  in_degree counted from edge_target; bench runs them."""
  tf.keras.utils.set_random_seed(0)
  model = build_model(ModelSpec("gcn", hidden_units=8), num_features=cora.num_features,
                      num_classes=cora.num_classes, task="node", layout="sparse",
                      features="binary", serving=True)
  path = tmp_path / "binary.tflite"
  convert_lib.convert(model, "tflite-float32", path, target="mobile")
  shapes = {"feature_node": (5000,), "feature_index": (5000,), "edge_source": (900,),
            "edge_target": (900,), "in_degree": (300,)}
  info = bench.tflite_file.read_model(path)
  assert {io.name for io in info.inputs} == set(shapes)
  inputs = bench.synthesize_inputs(info, shapes=shapes)
  assert np.all(np.diff(inputs["feature_node"]) >= 0) and inputs["feature_node"].max() < 300
  assert 0 <= inputs["feature_index"].min() and inputs["feature_index"].max() <= 1433
  assert inputs["feature_index"].max() > 1000          # spread over the table, not all 0
  np.testing.assert_array_equal(inputs["in_degree"],
                                np.bincount(inputs["edge_target"], minlength=300))
  args = [a for name, shape in shapes.items()
          for a in ("--input-shape", f"{name}={shape[0]}")]
  result, report = _bench("--json", "--runs", "3", "--warmup", "0", *args, path)
  assert result.exit_code == 0, result.stderr
  assert _shapes(report) == shapes
