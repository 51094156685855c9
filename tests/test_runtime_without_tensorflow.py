"""The device side imports and runs an artifact with TensorFlow made unimportable."""
import subprocess
import sys


from edgegnn.deploy.stock import stock_gcn_tflite


def test_runtime_package_runs_an_artifact_without_tensorflow(tmp_path):
  path = tmp_path / "gcn.tflite"
  path.write_bytes(stock_gcn_tflite(5, 3, hidden_units=4))
  code = f"""
import sys
sys.modules["tensorflow"] = None
import numpy as np
from edgegnn import runtime
import edgegnn.deploy.verify, edgegnn.deploy.pi_bundle, edgegnn.deploy.mcu
rt = runtime.open_runtime({str(path)!r})
feed = {{"node_features": np.ones((4, 5), np.float32),
        "edge_source": np.array([0, 1, 2, 3], np.int32),
        "edge_target": np.array([1, 2, 3, 0], np.int32),
        "edge_weight": np.full(4, 0.5, np.float32)}}
print(rt.run(feed)["logits"].shape)
try:
  rt.run(dict(feed, edge_source=np.array([0, 1, 2, 9], np.int32)))
except ValueError as e:
  print("refused", "edge_source" in str(e))
"""
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
  assert out.returncode == 0, out.stderr[-2000:]
  assert out.stdout.split() == ["(4,", "3)", "refused", "True"]
