"""`edgegnn inspect --json` and `edgegnn bench --json` on every artifact kind.

One tiny model per kind is converted here (float32, float16, dynamic-int8 and int8 for
mobile; int8 for the mcu target; lce from a binary GCN), then the CLI's main function
is run on each file, and the JSON fields are checked against the conversion result and
the file: op histogram, runtimes that can run it, bytes, latency p50/p90, and the TFLM
arena for the mcu artifact.
"""
import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from edgegnn import binary, cli, data
from edgegnn.deploy import convert as convert_lib
from edgegnn.deploy import mcu, runtimes
from edgegnn.models import ModelSpec, build_model, feeds
import tensorflow as tf

# kind -> (format, target, runtimes that can run it, runtime `bench` uses by default)
KINDS = {
    "float32": ("tflite-float32", "mobile", ["litert", "lce"], "litert"),
    "float16": ("tflite-float16", "mobile", ["litert", "lce"], "litert"),
    "dynamic-int8": ("tflite-dynamic-int8", "mobile", ["litert", "lce"], "litert"),
    "int8": ("tflite-int8", "mobile", ["litert", "lce", "tflm"], "litert"),
    "mcu": ("tflite-int8", "mcu", ["litert", "lce", "tflm"], "litert"),
    "lce": ("lce", "arm-linux", ["lce"], "lce"),
}


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
  """kind -> (path, ConversionResult) for a dense MUTAG GCN and a binary sparse GCN."""
  folder = tmp_path_factory.mktemp("artifacts")
  tf.keras.utils.set_random_seed(0)
  mutag = data.load("mutag")
  # 64 units: the converter's dynamic-range quantization leaves weight matrices of
  # fewer than 1024 entries in float, so a narrower model would have no int8 weights.
  model = build_model(ModelSpec("gcn", hidden_units=64, readout="mean"),
                      num_features=mutag.num_features, num_classes=2, task="graph",
                      layout="dense", capacity=mutag.max_nodes)
  names = feeds.model_input_names(model)
  representative = [feeds.select(feeds.graph_feed(g, "dense", mutag.max_nodes), names)
                    for g in mutag.graphs[:10]]
  spec = binary.BinarySpec(binary.ARCHITECTURES[0], hidden_units=16, embed_units=16,
                           num_layers=2, k=4)
  assert spec.task == "node"
  binary_model = binary.build_binary_model(spec, num_features=12, num_classes=3, capacity=10,
                                           num_edges=20)
  out = {}
  for kind, (fmt, target, _, _) in KINDS.items():
    path = folder / f"{kind}.tflite"
    source = binary_model if fmt == "lce" else model
    out[kind] = (str(path), convert_lib.convert(source, fmt, path, target=target,
                                                representative_feeds=representative))
  return out


def _run(*args):
  result = CliRunner(mix_stderr=False).invoke(cli.main, list(args), catch_exceptions=False)
  return result


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_inspect_json(kind, artifacts):
  path, converted = artifacts[kind]
  result = _run("inspect", "--json", path)
  assert result.exit_code == 0, result.output
  report = json.loads(result.stdout)
  assert report["file_bytes"] == os.path.getsize(path) == converted.bytes
  assert report["op_histogram"] == converted.ops
  assert report["runtimes"]["runnable_by"] == KINDS[kind][2]
  assert report["total_weight_bytes"] > 0
  fmt = KINDS[kind][0]
  if fmt == "lce":
    assert report["op_histogram"]["LceBconv2d"] == 2
    assert report["runtimes"]["needs_lce"] and not report["runtimes"]["builtins"]
  if fmt == "tflite-int8":
    assert report["float_compute_ops"] == []
    assert report["runtimes"]["tflm_blockers"] == []
  else:
    assert report["float_compute_ops"] and report["runtimes"]["tflm_blockers"]
  input_dtypes = {io["name"]: io["dtype"] for io in report["inputs"]}
  # The mcu target converts with integer inputs; the others keep float inputs.
  assert input_dtypes["node_features"] == ("int8" if kind == "mcu" else "float32")
  weight_dtypes = set(report["weight_bytes"])
  if fmt == "tflite-float16":
    assert "float16" in weight_dtypes
  if fmt in ("tflite-dynamic-int8", "tflite-int8"):
    assert "int8" in weight_dtypes


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_bench_json(kind, artifacts):
  path, converted = artifacts[kind]
  args = ["bench", "--json", "--runs", "5", "--warmup", "1", path]
  if kind == "mcu":
    args[1:1] = ["--runtime", "tflm"]
  result = _run(*args)
  assert result.exit_code == 0, result.output
  report = json.loads(result.stdout)
  expected_runtime = "tflm" if kind == "mcu" else KINDS[kind][3]
  assert report["runtime"] == expected_runtime
  assert report["model_bytes"] == converted.bytes == os.path.getsize(path)
  assert report["runs"] == 5 and report["threads"] == 1
  latency = report["latency_ms"]
  assert 0 < latency["min"] <= latency["p50"] <= latency["p90"] <= latency["max"]
  assert report["peak_memory_bytes"] >= report["baseline_memory_bytes"] > 0
  if kind == "mcu":
    with open(path, "rb") as f:
      needed = mcu.find_arena_size(f.read())
    assert report["arena_bytes"] == needed + runtimes.TflmRuntime.ARENA_MARGIN
  else:
    assert report["arena_bytes"] is None


def test_bench_names_the_runtime_an_lce_artifact_needs(artifacts):
  result = _run("bench", "--json", "--runtime", "litert", artifacts["lce"][0])
  assert result.exit_code != 0
  assert "LceBconv2d" in result.stderr and "runtime='lce'" in result.stderr


def test_bench_text_reports_the_tflm_arena(artifacts):
  result = _run("bench", "--runs", "3", "--warmup", "1", "--runtime", "tflm",
                artifacts["mcu"][0])
  assert result.exit_code == 0, result.output
  assert "TFLM arena" in result.stdout and "latency p50" in result.stdout


@pytest.mark.parametrize("attention,tflm", [("sym-gat", False), ("gcn", True)])
def test_int8_attention_softmax_is_not_tflm_compatible(attention, tflm, tmp_path):
  """TFLM's EXP kernel is float32-only: an int8 softmax attention converts for mobile,
  `inspect` does not list tflm among its runtimes, and the mcu target refuses it with the
  fix; the softmax-free gcn attention kind runs on TFLM."""
  mutag = data.load("mutag")
  capacity, k = feeds.layout_sizes(mutag, "neighbors")
  model = build_model(ModelSpec("mp", hidden_units=8, num_heads=2, attention=attention),
                      num_features=mutag.num_features, num_classes=2, task="graph",
                      layout="neighbors", capacity=capacity, max_neighbors=k)
  names = feeds.model_input_names(model)
  graph_feeds = [feeds.select(feeds.graph_feed(g, "neighbors", capacity, max_neighbors=k),
                              names) for g in mutag.graphs[:10]]
  path = str(tmp_path / "mp.tflite")
  converted = convert_lib.convert(model, "tflite-int8", path, target="mobile",
                                  representative_feeds=graph_feeds)
  report = json.loads(_run("inspect", "--json", path).stdout)
  assert report["float_compute_ops"] == []
  assert ("EXP" in converted.ops) == (not tflm)
  assert report["runtimes"]["runnable_by"] == (["litert", "lce", "tflm"] if tflm
                                               else ["litert", "lce"])
  if tflm:
    tflm_logits = runtimes.open_runtime(path, "tflm").run(graph_feeds[0])["logits"]
    litert_logits = runtimes.open_runtime(path, "litert").run(graph_feeds[0])["logits"]
    np.testing.assert_array_equal(tflm_logits, litert_logits)
  else:
    assert report["runtimes"]["tflm_blockers"] == [
        "integer ops whose TFLM kernel is float32-only: EXP"]
    with pytest.raises(convert_lib.TargetError, match="no int8 EXP.*gcn, sage, gin"):
      convert_lib.convert(model, "tflite-int8", tmp_path / "mcu.tflite", target="mcu",
                          representative_feeds=graph_feeds)
    assert not (tmp_path / "mcu.tflite").exists()
