"""Tests of the deployment runtime side: parse, run, TFLM arena, C sources, bench.

Tiny models are built here with TensorFlow (dense-adjacency GNN: Dense, BATCH_MATMUL
with an [N, N] adjacency, Dense) and converted to float32 and full-int8 `.tflite`;
the modules under test must not need TensorFlow themselves.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import edgegnn._keras_env  # noqa: F401  (Keras 2 before TensorFlow is imported)
import numpy as np
import pytest

from edgegnn.runtime import bench, interpreters, mcu, tflite_file

N, F, H, C = 32, 64, 32, 8  # nodes, features, hidden, classes
E = 96  # edges of the sparse model
ROOT = Path(__file__).resolve().parents[1]


def _graphs(rng, count):
  out = []
  for _ in range(count):
    x = rng.normal(size=(N, F)).astype(np.float32)
    a = (rng.random((N, N)) < 0.1).astype(np.float32) + np.eye(N, dtype=np.float32)
    out.append({"node_features": x, "adjacency": a / a.sum(1, keepdims=True)})
  return out


@pytest.fixture(scope="module")
def models(tmp_path_factory):
  """float32 and full-int8 (int8 inputs/outputs) dense GCNs, plus a sparse float one."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  folder = tmp_path_factory.mktemp("models")
  tf.keras.utils.set_random_seed(0)
  module = tf.Module()
  module.d1 = tf.keras.layers.Dense(
      H, activation="relu",
      bias_initializer=tf.keras.initializers.RandomNormal(stddev=0.1, seed=1))
  module.d2 = tf.keras.layers.Dense(
      C, bias_initializer=tf.keras.initializers.RandomNormal(stddev=0.1, seed=2))
  module.d2(module.d1(tf.zeros((1, F))))

  @tf.function(input_signature=[
      tf.TensorSpec([N, F], tf.float32, name="node_features"),
      tf.TensorSpec([N, N], tf.float32, name="adjacency")])
  def dense_gcn(node_features, adjacency):
    hidden = tf.matmul(adjacency, module.d1(node_features))
    return {"logits": module.d2(hidden)}

  module.dense_gcn = dense_gcn
  concrete = dense_gcn.get_concrete_function()
  rng = np.random.default_rng(0)
  calibration = _graphs(rng, 16)

  converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], module)
  float_bytes = converter.convert()
  converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], module)
  converter.optimizations = [tf.lite.Optimize.DEFAULT]
  converter.representative_dataset = lambda: iter(calibration)
  converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
  converter.inference_input_type = tf.int8
  converter.inference_output_type = tf.int8
  int8_bytes = converter.convert()

  @tf.function(input_signature=[
      tf.TensorSpec([N, F], tf.float32, name="node_features"),
      tf.TensorSpec([E], tf.int32, name="edge_source"),
      tf.TensorSpec([E], tf.int32, name="edge_target")])
  def sparse_gcn(node_features, edge_source, edge_target):
    messages = tf.gather(module.d1(node_features), edge_source)
    pooled = tf.math.unsorted_segment_sum(messages, edge_target, N)
    return {"logits": module.d2(pooled)}

  module.sparse_gcn = sparse_gcn
  converter = tf.lite.TFLiteConverter.from_concrete_functions(
      [sparse_gcn.get_concrete_function()], module)
  sparse_bytes = converter.convert()

  paths = {}
  for name, data in (("float", float_bytes), ("int8", int8_bytes),
                     ("sparse", sparse_bytes)):
    paths[name] = folder / f"{name}.tflite"
    paths[name].write_bytes(data)
  graphs = _graphs(np.random.default_rng(1), 4)
  expected = [dense_gcn(**g)["logits"].numpy() for g in graphs]
  return {"paths": paths, "graphs": graphs, "expected": expected}


def test_read_model_reports_ops_weights_io_and_runtimes(models):
  info_f = tflite_file.read_model(models["paths"]["float"])
  info_q = tflite_file.read_model(models["paths"]["int8"])
  for info in (info_f, info_q):
    assert info.op_histogram == {"FULLY_CONNECTED": 2, "BATCH_MATMUL": 1}
    assert info.file_bytes == len(info.data) == os.path.getsize(info.path)
    assert {io.name for io in info.inputs} == {"node_features", "adjacency"}
    assert [io.name for io in info.outputs] == ["logits"]
    assert info.input("node_features").shape == (N, F)
    sig = info.signatures[0]
    assert sig.key == "serving_default"
    assert set(sig.inputs) == {"node_features", "adjacency"}
    assert list(sig.outputs) == ["logits"]
    assert info.runtimes.builtins and not info.runtimes.needs_lce
    assert info.total_weight_bytes > 0
    assert info.total_tensor_bytes > info.total_weight_bytes

  # float32: every weight float32; int8: kernels int8 (a quarter), biases int32.
  float_weights = 4 * (F * H + H + H * C + C)
  assert info_f.weight_bytes == {"float32": float_weights}
  assert info_q.weight_bytes["int8"] == (F * H + H * C)
  assert info_q.weight_bytes["int32"] == 4 * (H + C)
  assert 0.2 < info_q.total_weight_bytes / info_f.total_weight_bytes < 0.3

  x = info_q.input("node_features")
  assert x.dtype == "int8" and x.tensor.scale > 0
  assert -128 <= x.tensor.zero_point <= 127
  assert info_q.output("logits").dtype == "int8"
  assert info_f.input("adjacency").quantization is None

  assert tflite_file.float_compute_ops(info_q) == []
  assert info_q.runtimes.tflm_compatible and info_q.runtimes.tflm_blockers == ()
  assert {op.name for op in tflite_file.float_compute_ops(info_f)} == {
      "FULLY_CONNECTED", "BATCH_MATMUL"}
  assert not info_f.runtimes.tflm_compatible
  assert "float compute" in info_f.runtimes.tflm_blockers[0]

  as_json = json.loads(json.dumps(tflite_file.to_json(info_q)))
  assert as_json["op_histogram"]["BATCH_MATMUL"] == 1
  assert as_json["runtimes"]["tflm_compatible"] is True
  assert as_json["inputs"][0]["quantization"]["scale"] > 0
  text = tflite_file.format_text(info_q)
  for word in ("BATCH_MATMUL", "node_features", "logits", "int8", "fully integer"):
    assert word in text

  sparse = tflite_file.read_model(models["paths"]["sparse"])
  assert {"GATHER", "UNSORTED_SEGMENT_SUM"} <= set(sparse.op_histogram)
  assert not sparse.runtimes.tflm_compatible
  assert "UNSORTED_SEGMENT_SUM" in sparse.runtimes.tflm_blockers[0]


def test_tflm_op_list_matches_installed_package():
  so = next(Path(__import__("tflite_micro").__path__[0]).rglob("_runtime*.so"))
  binary = so.read_bytes()
  missing = [op for op in tflite_file.TFLM_BUILTIN_OPS
             if f"Register_{op}E".encode() not in binary]
  assert missing == []


def test_litert_float_matches_tensorflow(models):
  rt = interpreters.open_runtime(models["paths"]["float"])
  assert rt.name == "litert"
  for graph, want in zip(models["graphs"], models["expected"]):
    got = rt.run(graph)["logits"]
    assert got.shape == (N, C) and got.dtype == np.float32
    assert np.max(np.abs(got - want)) < 1e-5


def test_int8_quantizes_inputs_and_agrees_with_tensorflow(models):
  rt = interpreters.open_runtime(models["paths"]["int8"], "litert")
  agree = []
  for graph, want in zip(models["graphs"], models["expected"]):
    got = rt.run(graph)["logits"]  # float inputs are quantized, outputs dequantized
    assert got.dtype == np.float32
    agree.append(got.argmax(1) == want.argmax(1))
    raw = rt.run(graph, dequantize_outputs=False)["logits"]
    assert raw.dtype == np.int8
  assert np.mean(agree) >= 0.95


def test_tflm_matches_litert_on_int8(models):
  path = models["paths"]["int8"]
  litert = interpreters.open_runtime(path, "litert")
  tflm = interpreters.open_runtime(path, "tflm")
  assert tflm.name == "tflm" and tflm.arena_size > 0
  step = tflite_file.read_model(path).output("logits").tensor.scale
  for graph in models["graphs"]:
    want = litert.run(graph, dequantize_outputs=False)["logits"].astype(int)
    got = tflm.run(graph, dequantize_outputs=False)["logits"].astype(int)
    assert np.max(np.abs(got - want)) <= 1  # At most one rounding step apart.
    real = tflm.run(graph)["logits"]
    assert np.max(np.abs(real - litert.run(graph)["logits"])) <= step * 1.001


def test_find_arena_size_is_the_smallest_that_works(models):
  model = models["paths"]["int8"].read_bytes()
  size = mcu.find_arena_size(model, models["graphs"][0])
  assert size > 0 and size % 16 == 0
  assert mcu.probe_arena(model, size).ok
  smaller = mcu.probe_arena(model, size - 16)
  assert not smaller.ok and smaller.message
  rt = interpreters.open_runtime(model, "tflm", arena_size=size)
  assert rt.run(models["graphs"][0])["logits"].shape == (N, C)
  with pytest.raises(ValueError, match="arena"):  # Checked safely, not a crash.
    interpreters.open_runtime(model, "tflm", arena_size=256)


def test_c_sources_compile(models, tmp_path):
  model = models["paths"]["int8"].read_bytes()
  c_path, h_path = mcu.write_c_sources(model, 4000, tmp_path / "mcu")
  assert (c_path.name, h_path.name) == ("edgegnn_model.cc", "edgegnn_model.h")
  source, header = c_path.read_text(), h_path.read_text()
  assert "alignas(16) const unsigned char edgegnn_model[]" in source
  assert f"const unsigned int edgegnn_model_len = {len(model)};" in source
  assert "#define EDGEGNN_TENSOR_ARENA_SIZE 4000" in header
  assert "AddBatchMatMul" in header and "AddFullyConnected" in header
  assert "extern const unsigned char edgegnn_model[];" in header
  assert sorted(p.name for p in c_path.parent.iterdir()) == [c_path.name, h_path.name]
  gxx = shutil.which("g++")
  assert gxx, "g++ is missing: `bash tools/setup.sh` installs it as root, or apt-get install -y g++"
  subprocess.run([gxx, "-std=c++17", "-Wall", "-c", str(c_path), "-o",
                  str(tmp_path / "model.o")], check=True, capture_output=True)
  checker = tmp_path / "check.cc"  # The data links and has the file's bytes.
  checker.write_text(
      '#include "edgegnn_model.h"\n#include <cstdio>\n'
      "int main() { std::printf(\"%u %c%c%c%c\", edgegnn_model_len, edgegnn_model[4],"
      " edgegnn_model[5], edgegnn_model[6], edgegnn_model[7]);\n"
      "  return (reinterpret_cast<unsigned long>(edgegnn_model) % 16) != 0; }\n")
  subprocess.run([gxx, "-std=c++17", f"-I{c_path.parent}", str(checker),
                  str(tmp_path / "model.o"), "-o", str(tmp_path / "check")],
                 check=True, capture_output=True)
  run = subprocess.run([str(tmp_path / "check")], capture_output=True, text=True)
  assert run.returncode == 0 and run.stdout == f"{len(model)} TFL3"


def test_c_sources_are_written_atomically(models, tmp_path, monkeypatch):
  model = models["paths"]["int8"].read_bytes()
  for name in ("edgegnn_model.cc", "edgegnn_model.h"):
    (tmp_path / name).write_text("old")

  write_text = Path.write_text

  def disk_full_on_header(self, text, *args, **kwargs):
    if self.name.startswith(".edgegnn_model.h"):
      write_text(self, text[:10], *args, **kwargs)  # Half-written, then the error.
      raise OSError("disk full")
    return write_text(self, text, *args, **kwargs)

  monkeypatch.setattr(Path, "write_text", disk_full_on_header)
  with pytest.raises(OSError, match="disk full"):
    mcu.write_c_sources(model, 4000, tmp_path)
  monkeypatch.undo()
  assert sorted(p.name for p in tmp_path.iterdir()) == [
      "edgegnn_model.cc", "edgegnn_model.h"]
  assert all((tmp_path / n).read_text() == "old"
             for n in ("edgegnn_model.cc", "edgegnn_model.h"))
  with pytest.raises(ValueError, match="C identifier"):
    mcu.write_c_sources(model, 4000, tmp_path, symbol="bad-name")


def test_corrupt_files_raise(models, tmp_path):
  junk = tmp_path / "junk.tflite"
  junk.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, np.uint8).tobytes())
  with pytest.raises(tflite_file.CorruptModelError, match="junk.tflite.*TFL3"):
    tflite_file.read_model(junk)
  data = models["paths"]["int8"].read_bytes()
  for cut in (len(data) // 2, len(data) - 40, 6):
    short = tmp_path / f"short{cut}.tflite"
    short.write_bytes(data[:cut])
    with pytest.raises(tflite_file.CorruptModelError,
                       match=f"short{cut}.tflite.*truncated"):
      tflite_file.read_model(short)
  with pytest.raises(ValueError):  # CorruptModelError is a ValueError.
    interpreters.open_runtime(data[: len(data) // 2])


def test_bad_inputs_and_runtime_names_raise(models):
  rt = interpreters.open_runtime(models["paths"]["float"])
  graph = dict(models["graphs"][0])
  graph["node_features"] = np.zeros((N + 8, F), np.float32)  # Bigger than capacity.
  with pytest.raises(ValueError, match=r"'node_features'.*\(32, 64\).*\(40, 64\)"):
    rt.run(graph)
  with pytest.raises(ValueError, match="missing.*adjacency"):
    rt.run({"node_features": models["graphs"][0]["node_features"]})
  with pytest.raises(ValueError, match="auto, litert, lce, tflm"):
    interpreters.open_runtime(models["paths"]["float"], "onnx")


def test_runtime_modules_do_not_import_tensorflow(models):
  code = (
      "import sys\n"
      "from edgegnn.runtime import bench, interpreters\n"
      f"path = {str(models['paths']['int8'])!r}\n"
      "inputs = bench.synthesize_inputs(path)\n"
      "for name in ('litert', 'lce'):\n"
      "  interpreters.open_runtime(path, name).run(inputs)\n"
      "assert 'tensorflow' not in sys.modules, 'tensorflow was imported'\n")
  env = dict(os.environ, PYTHONPATH=str(ROOT))
  proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=120)
  assert proc.returncode == 0, proc.stderr[-2000:]


def test_synthesized_inputs_are_valid_graphs(models):
  info = tflite_file.read_model(models["paths"]["sparse"])
  inputs = bench.synthesize_inputs(info)
  for name in ("edge_source", "edge_target"):
    assert inputs[name].dtype == np.int32 and inputs[name].shape == (E,)
    assert 0 <= inputs[name].min() and inputs[name].max() < N
  out = interpreters.open_runtime(info).run(inputs)["logits"]
  assert out.shape == (N, C) and np.isfinite(out).all()
  dense = bench.synthesize_inputs(models["paths"]["int8"])
  assert set(np.unique(dense["adjacency"])) <= {0.0, 1.0}
  assert np.all(np.diag(dense["adjacency"]) == 1)


def test_benchmark_reports_latency_and_memory(models):
  result = bench.benchmark(models["paths"]["int8"], runs=5, warmup=1)
  assert result["runtime"] == "litert" and result["threads"] == 1
  assert (result["runs"], result["warmup"]) == (5, 1)
  assert result["model_bytes"] == os.path.getsize(models["paths"]["int8"])
  latency = result["latency_ms"]
  assert set(latency) >= {"p50", "p90", "mean"}
  assert 0 < latency["p50"] <= latency["p90"]
  assert result["peak_memory_bytes"] > 1_000_000  # A Python process with numpy.
  assert result["peak_memory_bytes"] >= result["baseline_memory_bytes"]
  tflm = bench.benchmark(models["paths"]["int8"], models["graphs"][0], runs=3,
                         warmup=0, runtime="tflm", measure_memory=False)
  assert tflm["runtime"] == "tflm" and tflm["peak_memory_bytes"] is None


def test_lce_binary_model_needs_and_runs_on_lce(tmp_path):
  import larq as lq  # pylint: disable=g-import-not-at-top
  import larq_compute_engine as lce  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  tf.keras.utils.set_random_seed(0)
  channels = 32
  x = tf.keras.Input((N, 1, channels), batch_size=1, name="node_features")
  y = lq.layers.QuantConv2D(16, 1, input_quantizer="ste_sign",
                            kernel_quantizer="ste_sign",
                            kernel_constraint="weight_clip", use_bias=False)(x)
  y = tf.keras.layers.Reshape((N, 16), name="logits")(y)
  model = tf.keras.Model(x, y)
  data = lce.convert_keras_model(model)
  info = tflite_file.read_model(data)
  assert info.runtimes.needs_lce and not info.runtimes.builtins
  assert not info.runtimes.tflm_compatible
  assert info.op_histogram.get("LceBconv2d") == 1
  assert "LceBconv2d" in tflite_file.format_text(info)
  rt = interpreters.open_runtime(data, "auto")
  assert rt.name == "lce"
  features = np.random.default_rng(0).normal(size=(1, N, 1, channels)).astype(np.float32)
  got = rt.run({"node_features": features})["logits"]
  np.testing.assert_allclose(got, model(features).numpy(), atol=1e-4)
  with pytest.raises(ValueError, match="lce"):
    interpreters.open_runtime(data, "litert")
