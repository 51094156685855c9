"""`edgegnn deploy pi` on your own graph: the bundle's sample inputs are the graph of the
run's dataset source (an npz file here), found through report.json or, failing that, the
artifact's sidecar; never a bundled dataset of the same name.

The end-to-end tests train a small pipeline (slow tier; `tests/test_pipeline_sources.py`
bundles an npz run in the default tier); the order of the sources is checked without one."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml

from edgegnn import pipeline
from edgegnn.deploy.pi_bundle import build_bundle, dataset_source
from test_data_sources import small_graph, write_npz

PIPELINE = {
    "name": "own_pi", "dataset": {"format": "npz", "path": "mygraph.npz"},
    "stages": [
        {"train": {"name": "gcn", "model": {"architecture": "gcn", "hidden_units": 8},
                   "train": {"epochs": 5, "patience": 5, "seeds": [0]}}},
        {"export": {"model": "gcn", "formats": ["tflite-float32"], "target": "mobile",
                    "bench_runs": 1, "bench_warmup": 0}}]}


@pytest.fixture(scope="module")
def npz_run(tmp_path_factory):
  folder = tmp_path_factory.mktemp("own")
  write_npz(folder / "mygraph.npz")
  (folder / "p.yaml").write_text(yaml.safe_dump(PIPELINE))
  pipeline.Runner(pipeline.load(folder / "p.yaml"), out=str(folder / "out"),
                  log=lambda _: None, progress=False).run()
  return folder


def _check_inputs_are_the_npz_graph(bundle):
  features, source, target, labels, splits = small_graph()
  example = bundle / "inputs" / "sparse_cNone_kNone" / "00000"
  np.testing.assert_array_equal(np.load(example / "node_features.npy"), features)
  edges = set(zip(np.load(example / "edge_source.npy").tolist(),
                  np.load(example / "edge_target.npy").tolist()))
  assert edges == set(zip(source.tolist(), target.tolist()))
  np.testing.assert_array_equal(np.load(bundle / "labels.npy"), labels[splits["test"]])
  np.testing.assert_array_equal(np.load(bundle / "test_index.npy"), splits["test"])


def test_the_source_is_the_reports_then_the_sidecars_then_the_name(tmp_path):
  (tmp_path / "artifacts").mkdir()
  chosen = [{"name": "a", "path": "artifacts/a.tflite"},
            {"name": "b", "path": "artifacts/b.tflite"}]
  npz = {"format": "npz", "path": "/data/g.npz", "name": "g"}
  csv = {"format": "csv", "nodes": "/data/n.csv", "edges": "/data/e.csv", "name": "g"}
  (tmp_path / "artifacts" / "b.tflite.json").write_text(json.dumps({"dataset_source": csv}))
  assert dataset_source({"dataset": "g", "dataset_source": npz}, tmp_path, chosen) == npz
  assert dataset_source({"dataset": "g"}, tmp_path, chosen) == csv
  (tmp_path / "artifacts" / "b.tflite.json").write_text(json.dumps({"dataset": "g"}))
  assert dataset_source({"dataset": "g"}, tmp_path, chosen) == "g"


@pytest.mark.slow
def test_bundle_inputs_come_from_the_runs_npz_source(npz_run, tmp_path):
  report = json.loads((npz_run / "out" / "report.json").read_text())
  bundle = build_bundle(npz_run / "out", tmp_path / "bundle").path
  manifest = json.loads((bundle / "manifest.json").read_text())
  assert manifest["dataset_source"] == report["dataset_source"]
  assert (manifest["dataset_source"]["format"], manifest["num_nodes"]) == ("npz", 30)
  _check_inputs_are_the_npz_graph(bundle)
  env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
  done = subprocess.run([sys.executable, "run_bundle.py", "--runs", "2", "--warmup", "0"],
                        cwd=bundle, env=env, capture_output=True, text=True, timeout=300)
  assert done.returncode == 0, done.stderr[-2000:]
  result, = json.loads((bundle / "results.json").read_text())["artifacts"].values()
  assert result["agreement"] == 1.0 and result["examples"] == 9
  assert result["test_accuracy"] == report["artifacts"][0]["test_accuracy"]


@pytest.mark.slow
def test_bundle_falls_back_to_the_artifacts_sidecar_source(npz_run, tmp_path):
  run = tmp_path / "run"
  shutil.copytree(npz_run / "out", run)
  report = json.loads((run / "report.json").read_text())
  source = report.pop("dataset_source")
  (run / "report.json").write_text(json.dumps(report))
  sidecar = json.loads((run / (report["artifacts"][0]["path"] + ".json")).read_text())
  assert sidecar["dataset_source"] == source
  bundle = build_bundle(run, tmp_path / "bundle").path
  assert json.loads((bundle / "manifest.json").read_text())["dataset_source"] == source
  _check_inputs_are_the_npz_graph(bundle)
