"""MultiWorkerMirroredStrategy: two local workers on loopback vs one process (docs/scale.md)."""
import json
import os
import pathlib
import socket
import subprocess
import sys

import numpy as np
import pytest

from edgegnn.training import distributed

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _free_ports(n):
  sockets = [socket.socket() for _ in range(n)]
  for s in sockets:
    s.bind(("localhost", 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


def _start(worker, ports, out, epochs):
  env = {**os.environ, "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": ""}
  return subprocess.Popen(
      [sys.executable, "-m", "edgegnn.training.distributed", "--worker", str(worker),
       "--ports", ",".join(map(str, ports)), "--out", str(out), "--epochs", str(epochs)],
      env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(process, timeout=240):
  output, _ = process.communicate(timeout=timeout)
  assert process.returncode == 0, output[-3000:]


def test_tf_config_names_cluster_and_task():
  config = distributed.tf_config([23456, 23457], 1)
  assert config == {"cluster": {"worker": ["localhost:23456", "localhost:23457"]},
                    "task": {"type": "worker", "index": 1}}
  with pytest.raises(ValueError, match="--worker between 0 and 1"):
    distributed.tf_config([23456, 23457], 2)
  with pytest.raises(ValueError, match="collective"):
    distributed.DistributedConfig.from_dict({"collective": "nccl"})
  with pytest.raises(ValueError, match="Unknown key distributed.epoch"):
    distributed.DistributedConfig.from_dict({"epoch": 3})


def test_two_workers_stay_identical(tmp_path):
  """The default-run check: two workers, three all-reduced steps, identical weights."""
  ports = _free_ports(2)
  processes = [_start(i, ports, tmp_path / f"w{i}", 3) for i in range(2)]
  for process in processes:
    _finish(process)
  w0, w1 = (distributed.load_weights(tmp_path / d) for d in ("w0", "w1"))
  assert all(np.array_equal(a, b) for a, b in zip(w0, w1))
  m0, m1 = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("w0", "w1"))
  assert m0["num_workers"] == m1["num_workers"] == 2
  assert m0["train_loss"] == m1["train_loss"] and len(m0["train_loss"]) == 3


@pytest.mark.slow
def test_two_workers_match_each_other_and_one_process(tmp_path):
  """Measured (docs/scale.md): worker weights identical (0.0), at most 2.2e-7 from one
  process, equal accuracies after 10 and 20 epochs."""
  epochs = 10
  *pair, single = _free_ports(3)
  processes = [_start(i, pair, tmp_path / f"w{i}", epochs) for i in range(2)]
  processes.append(_start(0, [single], tmp_path / "single", epochs))
  for process in processes:
    _finish(process)
  w0, w1, one = (distributed.load_weights(tmp_path / d) for d in ("w0", "w1", "single"))
  # All-reduced updates: both replicas hold bit-identical weights.
  assert all(np.array_equal(a, b) for a, b in zip(w0, w1))
  # Same gradient as one process up to float summation order.
  assert max(float(np.abs(a - b).max()) for a, b in zip(w0, one)) < 1e-5
  m0, m1, m = (json.loads((tmp_path / d / "metrics.json").read_text())
               for d in ("w0", "w1", "single"))
  assert m0["num_workers"] == m1["num_workers"] == 2 and m["num_workers"] == 1
  assert m0["train_rows_this_worker"] + m1["train_rows_this_worker"] == 140
  assert m0["test_accuracy"] == m1["test_accuracy"]
  assert abs(m0["test_accuracy"] - m["test_accuracy"]) <= 0.01
  assert abs(m0["val_accuracy"] - m["val_accuracy"]) <= 0.01
  assert np.allclose(m0["train_loss"], m["train_loss"], atol=1e-5)
  assert m0["train_loss"][-1] < m0["train_loss"][0]


def _ring_npz(path, n=30, classes=3):
  """A ring graph (both directions) whose features carry the label, as a .npz source."""
  rng = np.random.default_rng(0)
  labels = np.arange(n) % classes
  ring = np.arange(n)
  np.savez(path, node_features=(rng.normal(size=(n, 5)) + labels[:, None]).astype(np.float32),
           edge_source=np.concatenate([ring, (ring + 1) % n]),
           edge_target=np.concatenate([(ring + 1) % n, ring]), labels=labels,
           train_index=np.arange(0, 12), val_index=np.arange(12, 21),
           test_index=np.arange(21, 30))
  return path


def test_dataset_is_a_bundled_name_a_source_file_or_a_mapping(tmp_path):
  npz = _ring_npz(tmp_path / "ring.npz")
  by_path = distributed.DistributedConfig(dataset=str(npz))
  by_mapping = distributed.DistributedConfig.from_dict(
      {"dataset": {"format": "npz", "path": str(npz)}})
  # Stored resolved: every worker process reads the same absolute path.
  assert by_path.dataset == by_mapping.dataset
  assert by_path.dataset["path"] == str(npz.resolve())
  assert distributed.DistributedConfig(dataset="Cora").dataset == "cora"
  with pytest.raises(ValueError, match="ring.txt"):
    distributed.DistributedConfig(dataset=str(tmp_path / "ring.txt"))


@pytest.mark.slow
def test_a_worker_trains_on_a_source_file(tmp_path):
  npz = _ring_npz(tmp_path / "ring.npz")
  env = {**os.environ, "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": ""}
  process = subprocess.Popen(
      [sys.executable, "-m", "edgegnn.training.distributed", "--worker", "0", "--ports",
       str(_free_ports(1)[0]), "--out", str(tmp_path / "w0"), "--epochs", "30",
       "--dataset", str(npz)],
      env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
  _finish(process)
  metrics = json.loads((tmp_path / "w0" / "metrics.json").read_text())
  assert metrics["train_rows_this_worker"] == 12 and len(metrics["train_loss"]) == 30
  assert metrics["train_loss"][-1] < metrics["train_loss"][0]
