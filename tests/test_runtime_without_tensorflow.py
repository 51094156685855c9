"""The device side imports and runs with TensorFlow made unimportable.

A directory holding a `tensorflow` package whose import raises goes first on PYTHONPATH,
so the test process and every process it starts (the arena worker, the memory child)
fail on any TensorFlow import. In there, every module of `edgegnn.runtime` is imported
and each part is exercised: file reading, the litert, LCE and tflite-micro interpreters,
input checks, feeds, bench with its memory child, the arena search with its worker, the
C sources, the sidecar and the k-hop extractor. Their numbers are checked here against
references computed with TensorFlow and a plain ai-edge-litert interpreter.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from edgegnn.deploy.stock import stock_gcn_tflite
from test_deploy_runtime import C, N, models  # noqa: F401  (the module's model fixture)

ROOT = Path(__file__).resolve().parents[1]

PROGRAM = r"""
import importlib, json, pkgutil, sys
from pathlib import Path
import numpy as np
import edgegnn.runtime as runtime
modules = sorted(m.name for m in pkgutil.iter_modules(runtime.__path__))
for name in modules:
  importlib.import_module("edgegnn.runtime." + name)
import edgegnn.deploy.verify
zoo = sorted(m for m in sys.modules if m.startswith("edgegnn.models.zoo"))
import edgegnn.deploy.pi_bundle, edgegnn.deploy.pi
import edgegnn.deploy.runtimes, edgegnn.deploy.mcu
from edgegnn.runtime import (arena, bench, bench_inputs, interpreters, khop, mcu, sidecar,
                             tflite_file)
from edgegnn.models import feeds
from edgegnn.data import Graph
paths, graph, out_dir = json.loads(sys.argv[1]), np.load(sys.argv[2]), Path(sys.argv[3])
out = {"modules": modules, "zoo_after_verify": zoo}
# Reading, and the three interpreters.
info = tflite_file.read_model(paths["int8"])
out["int8_ops"] = sorted(info.op_histogram)
feed = {"node_features": graph["node_features"], "adjacency": graph["adjacency"]}
litert = interpreters.open_runtime(paths["int8"], "litert").run(feed)["logits"]
np.save(out_dir / "litert_int8.npy", litert)
size = arena.find_arena_size(Path(paths["int8"]).read_bytes(), feed)
out["arena"] = size
tflm = interpreters.open_runtime(paths["int8"], "tflm", arena_size=size).run(feed)["logits"]
np.save(out_dir / "tflm_int8.npy", tflm)
np.save(out_dir / "lce_float.npy",
        interpreters.open_runtime(paths["float"], "lce").run(feed)["logits"])
c_path, h_path = mcu.write_c_sources(Path(paths["int8"]).read_bytes(), size, out_dir / "c")
out["c_header_arena"] = f"#define EDGEGNN_TENSOR_ARENA_SIZE {size}" in h_path.read_text()
# Feeds from a Graph, and the input checks refusing a bad index.
ring = Graph(node_features=np.ones((4, 5), np.float32), edge_source=np.array([0, 1, 2, 3]),
             edge_target=np.array([1, 2, 3, 0]))
stock = interpreters.open_runtime(paths["stock"])
names = [io.name for io in stock.inputs]
sparse = feeds.select(feeds.graph_feed(ring), [n for n in names if n != "edge_weight"])
sparse["edge_weight"] = np.full(4, 0.5, np.float32)
np.save(out_dir / "stock.npy", stock.run(sparse)["logits"])
try:
  stock.run(dict(sparse, edge_source=np.array([0, 1, 2, 9], np.int32)))
  out["refused"] = None
except ValueError as e:
  out["refused"] = str(e)
# Bench (with its memory child), the sidecar, the k-hop extractor.
result = bench.benchmark(paths["int8"], feed, runs=3, warmup=1)
out["bench"] = {k: result[k] for k in ("runtime", "timed", "model_bytes", "peak_memory_bytes",
                                       "memory_method")}
out["sidecar_dtype"] = sidecar.describe(paths["int8"])["inputs"][0]["dtype"]
extractor = khop.KHopExtractor.from_edges([0, 1, 2, 3], [1, 2, 3, 0], 4)
out["khop"] = extractor.extract(2, 2).node_ids.tolist()
out["tensorflow"] = [m for m in sys.modules if m.split(".")[0] in ("tensorflow", "tf_keras")]
print(json.dumps(out))
"""


def _blocked_tensorflow(folder: Path) -> dict:
  """An environment whose Python cannot import TensorFlow (nor its child processes)."""
  package = folder / "blocked" / "tensorflow"
  package.mkdir(parents=True)
  (package / "__init__.py").write_text(
      'raise ImportError("TensorFlow is blocked in this test")\n')
  paths = [str(folder / "blocked"), str(ROOT)]
  return dict(os.environ, PYTHONPATH=os.pathsep.join(paths))


def test_runtime_package_runs_without_tensorflow(models, tmp_path):  # noqa: F811
  stock = tmp_path / "gcn.tflite"
  stock.write_bytes(stock_gcn_tflite(5, 3, hidden_units=4))
  paths = {"int8": str(models["paths"]["int8"]), "float": str(models["paths"]["float"]),
           "stock": str(stock)}
  graph = models["graphs"][0]
  np.savez(tmp_path / "graph.npz", **graph)
  env = _blocked_tensorflow(tmp_path)
  blocked = subprocess.run([sys.executable, "-c", "import tensorflow"], env=env,
                           capture_output=True, text=True)
  assert "blocked" in blocked.stderr  # the block works
  done = subprocess.run([sys.executable, "-c", PROGRAM, json.dumps(paths),
                         str(tmp_path / "graph.npz"), str(tmp_path)],
                        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
  assert done.returncode == 0, done.stderr[-3000:]
  out = json.loads(done.stdout.strip().splitlines()[-1])
  assert {"arena", "arena_worker", "bench", "bundle_runner", "interpreters", "khop", "mcu",
          "memory_child", "sidecar", "tensors", "tflite_file", "timing"} <= set(out["modules"])
  assert out["tensorflow"] == [] and out["zoo_after_verify"] == []
  # Reference: the same artifacts on a plain ai-edge-litert interpreter, and TensorFlow.
  from ai_edge_litert.interpreter import Interpreter  # pylint: disable=g-import-not-at-top
  plain = Interpreter(model_path=paths["int8"])
  runner = plain.get_signature_runner()
  details = runner.get_input_details()
  quantized = {}
  for name, value in graph.items():
    scale, zero = details[name]["quantization"]
    quantized[name] = np.clip(np.round(value / scale) + zero, -128, 127).astype(np.int8)
  raw = runner(**quantized)["logits"]
  scale, zero = runner.get_output_details()["logits"]["quantization"]
  reference = (raw.astype(np.float32) - zero) * scale
  np.testing.assert_allclose(np.load(tmp_path / "litert_int8.npy"), reference, atol=1e-6)
  tflm = np.load(tmp_path / "tflm_int8.npy")
  assert tflm.shape == (N, C) and np.max(np.abs(tflm - reference)) <= scale * 1.001
  float_reference = Interpreter(model_path=paths["float"]).get_signature_runner()(**graph)
  np.testing.assert_allclose(np.load(tmp_path / "lce_float.npy"), float_reference["logits"],
                             atol=1e-5)
  assert out["arena"] > 0 and out["arena"] % 16 == 0 and out["c_header_arena"]
  assert set(out["int8_ops"]) >= {"BATCH_MATMUL", "FULLY_CONNECTED"}
  assert np.load(tmp_path / "stock.npy").shape == (4, 3)
  assert "'edge_source'" in out["refused"] and "9" in out["refused"]
  assert out["bench"]["runtime"] == "litert" and out["bench"]["timed"].startswith("invoke")
  assert out["bench"]["model_bytes"] == os.path.getsize(paths["int8"])
  assert out["bench"]["peak_memory_bytes"] > 1_000_000
  assert out["sidecar_dtype"] == "int8"
  assert out["khop"] == [2, 1, 0]  # the seed, then dist 1, then dist 2 (edges i -> i+1)
