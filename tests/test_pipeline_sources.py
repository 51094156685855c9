"""Your own graph end to end: a pipeline on an npz file trains, exports and verifies; the
model directory records the source so `edgegnn convert` reloads it from anywhere (and from
its new place with --dataset); Cora written into each format trains exactly like the bundled
`cora`. (Each format against the same arrays given in Python: test_source_pipelines.py.)"""
import json
import subprocess
import sys

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from edgegnn import data, pipeline
from edgegnn.pipeline import runner as runner_lib
from edgegnn.cli import main
from edgegnn.models import ModelSpec
from edgegnn.training import TrainConfig, train

from test_data_sources import small_graph, write_npz

TRAIN = {"train": {"name": "gcn", "model": {"architecture": "gcn", "hidden_units": 8},
                   "train": {"epochs": 5, "patience": 5, "seeds": [0]}}}


def _run(tmp_path, raw):
  path = tmp_path / "p.yaml"
  path.write_text(yaml.safe_dump(raw))
  loaded = pipeline.load(path)
  lines = []
  report = pipeline.Runner(loaded, out=str(tmp_path / "out"), log=lines.append,
                           progress=False).run()
  return report, lines


def test_npz_pipeline_exports_a_verified_artifact_and_convert_reloads_the_source(
    tmp_path, monkeypatch):
  # Pinned: edits made to the checkout while this test runs must not invalidate the cache.
  monkeypatch.setattr(runner_lib, "_code_fingerprint", lambda: "pinned")
  (tmp_path / "data").mkdir()
  write_npz(tmp_path / "data" / "mygraph.npz")
  raw = {"name": "own", "dataset": {"format": "npz", "path": "data/mygraph.npz"},
         "stages": [TRAIN, {"export": {"model": "gcn", "formats": ["tflite-float32"],
                                       "target": "mobile", "bench_runs": 1,
                                       "bench_warmup": 0}}]}
  report, lines = _run(tmp_path, raw)
  out = tmp_path / "out"
  assert report["dataset"] == "mygraph"
  assert report["dataset_source"]["path"] == str(tmp_path / "data" / "mygraph.npz")
  assert any(line.startswith("dataset mygraph: 30 nodes, 60 edges") for line in lines)
  artifact = report["artifacts"][0]
  assert artifact["agreement"] == 1.0 and (out / artifact["path"]).is_file()
  model_dir = out / report["models"][0]["path"]
  meta = json.loads((model_dir / "model.json").read_text())
  assert meta["dataset"] == "mygraph"
  assert meta["extra"]["dataset_source"] == report["dataset_source"]
  # bench finds real inputs for the artifact: the run's report names the source.
  timed = CliRunner().invoke(main, ["bench", str(out / artifact["path"]), "--runs", "2",
                                    "--json"])
  assert timed.exit_code == 0, timed.output
  assert json.loads(timed.output)["inputs"]["node_features"]["shape"] == [30, 5]
  # The Pi bundle's inputs and expected outputs come from the user's graph, and it runs.
  from edgegnn.deploy.pi_bundle import build_bundle  # pylint: disable=g-import-not-at-top
  bundle = build_bundle(out, tmp_path / "bundle")
  manifest = json.loads((bundle.path / "manifest.json").read_text())
  assert manifest["dataset"] == "mygraph" and manifest["num_nodes"] == 30
  np.testing.assert_array_equal(np.load(bundle.path / "labels.npy"), small_graph()[3][21:])
  subprocess.run([sys.executable, "run_bundle.py"], cwd=bundle.path, check=True,
                 capture_output=True)
  results = json.loads((bundle.path / "results.json").read_text())
  assert [r.get("agreement") for r in results["artifacts"].values()] == [1.0]
  # A second run is served from the cache; an edited file retrains.
  _, lines = _run(tmp_path, raw)
  assert sum(line.startswith("[cached]") for line in lines) == 2
  features, *_ = small_graph()
  write_npz(tmp_path / "data" / "mygraph.npz", node_features=features + 1)
  _, lines = _run(tmp_path, raw)
  assert not any(line.startswith("[cached]") for line in lines)
  # convert, run from another directory, reloads the dataset from the recorded source.
  elsewhere = tmp_path / "elsewhere"
  elsewhere.mkdir()
  monkeypatch.chdir(elsewhere)
  result = CliRunner().invoke(main, ["convert", str(model_dir), "-o", "m.tflite"])
  assert result.exit_code == 0, result.output
  sidecar = json.loads((elsewhere / "m.tflite.json").read_text())
  assert sidecar["dataset"] == "mygraph" and sidecar["task"] == "node"


def test_cora_as_npz_trains_to_the_same_accuracy_as_bundled_cora(tmp_path):
  cora = data.load("cora")
  g = cora.graph
  np.savez(tmp_path / "cora_copy.npz", node_features=g.node_features,
           edge_source=g.edge_source, edge_target=g.edge_target, labels=cora.labels,
           train_index=cora.train_index, val_index=cora.val_index,
           test_index=cora.test_index)
  stage = {"train": {"name": "gcn", "model": {"architecture": "gcn",
                                              "input_normalization": "row"},
                     "train": {"epochs": 20, "patience": 20, "seeds": [0]}}}
  (tmp_path / "a").mkdir()
  (tmp_path / "b").mkdir()
  bundled, _ = _run(tmp_path / "a", {"name": "a", "dataset": "cora", "stages": [stage]})
  own, _ = _run(tmp_path / "b", {"name": "b", "dataset": "../cora_copy.npz",
                                 "stages": [stage]})
  for key in ("test_accuracy", "val_accuracy", "train_accuracy"):
    assert own["models"][0]["runs"][0][key] == bundled["models"][0]["runs"][0][key], key
  assert own["models"][0]["test_accuracy"] > 0.5


@pytest.mark.parametrize("dataset", ["mygraph.npz", "source.yaml"])
def test_cli_train_on_a_file_records_the_source(tmp_path, monkeypatch, dataset):
  monkeypatch.chdir(tmp_path)
  write_npz(tmp_path / "mygraph.npz")
  (tmp_path / "source.yaml").write_text("format: npz\npath: mygraph.npz\n"
                                        "split: {train: 0.5, val: 0.2, seed: 1}\n")
  result = CliRunner().invoke(main, ["train", "--dataset", dataset, "--epochs", "2",
                                     "--hidden-units", "4", "--out", "model"])
  assert result.exit_code == 0, result.output
  meta = json.loads((tmp_path / "model" / "model.json").read_text())
  source = meta["extra"]["dataset_source"]
  assert source["path"] == str(tmp_path / "mygraph.npz")
  assert ("split" in source) == (dataset == "source.yaml")


def test_graph_task_npz_pipeline_trains_each_fold(tmp_path):
  rng = np.random.default_rng(0)
  sizes = 3 + np.arange(20) % 3                     # 20 graphs of 3-5 nodes
  graph_labels = np.arange(20) % 2
  graph_index = np.repeat(np.arange(20), sizes)
  features = (rng.normal(size=(graph_index.size, 3))
              + 2 * graph_labels[graph_index, None]).astype(np.float32)
  starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
  path = [(s + i, s + i + 1) for s, n in zip(starts, sizes) for i in range(n - 1)]
  source = np.array([a for a, b in path] + [b for a, b in path])
  target = np.array([b for a, b in path] + [a for a, b in path])
  np.savez(tmp_path / "graphs.npz", node_features=features, edge_source=source,
           edge_target=target, graph_index=graph_index, graph_labels=graph_labels)
  stage = {"train": {"name": "gin", "model": {"architecture": "gin", "hidden_units": 8},
                     "train": {"epochs": 2, "seeds": [0], "folds": [1]}}}
  report, _ = _run(tmp_path, {"name": "g", "dataset": {"format": "npz", "path": "graphs.npz",
                                                       "folds": 2}, "stages": [stage]})
  model = report["models"][0]
  assert model["folds"] == [1] and len(model["runs"]) == 1
  assert report["dataset"] == "graphs" and 0 <= model["test_accuracy"] <= 1


def _cora_as_csv(directory):
  import pyarrow as pa  # pylint: disable=g-import-not-at-top
  from pyarrow import csv  # pylint: disable=g-import-not-at-top
  cora = data.load("cora")
  split = np.full(cora.num_nodes, "", dtype=object)
  for name in ("train", "val", "test"):
    split[getattr(cora, f"{name}_index")] = name
  ids = np.char.add("paper", np.arange(cora.num_nodes).astype(str))
  features = cora.graph.node_features.astype(np.int8)
  columns = {"id": ids, "label": cora.labels, "split": split.astype(str)}
  columns.update({f"w{j}": features[:, j] for j in range(cora.num_features)})
  csv.write_csv(pa.table(columns), directory / "papers.csv")
  csv.write_csv(pa.table({"cites": ids[cora.graph.edge_source],
                          "cited": ids[cora.graph.edge_target]}), directory / "cites.csv")
  return {"format": "csv", "nodes": str(directory / "papers.csv"),
          "edges": str(directory / "cites.csv"), "features": "w*", "source": "cites",
          "target": "cited", "split_column": "split"}


def _cora_as_ogb(directory):
  import gzip  # pylint: disable=g-import-not-at-top
  cora = data.load("cora")

  def write(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", compresslevel=1) as handle:
      np.savetxt(handle, array, fmt="%d", delimiter=",")
  write(directory / "raw" / "edge.csv.gz",
        np.stack([cora.graph.edge_source, cora.graph.edge_target], axis=1))
  write(directory / "raw" / "node-feat.csv.gz", cora.graph.node_features)
  write(directory / "raw" / "node-label.csv.gz", cora.labels[:, None])
  for ours, theirs in (("train", "train"), ("val", "valid"), ("test", "test")):
    write(directory / "split" / "planetoid" / f"{theirs}.csv.gz",
          getattr(cora, f"{ours}_index")[:, None])
  return {"format": "ogb", "root": str(directory)}


def _cora_as_tfgnn(directory):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tensorflow_gnn as tfgnn  # pylint: disable=g-import-not-at-top
  cora = data.load("cora")
  features = {"hidden_state": tf.constant(cora.graph.node_features),
              "label": tf.constant(cora.labels)}
  for name in ("train", "val", "test"):
    mask = np.zeros(cora.num_nodes, np.int64)
    mask[getattr(cora, f"{name}_index")] = 1
    features[f"{name}_mask"] = tf.constant(mask)
  graph = tfgnn.GraphTensor.from_pieces(
      node_sets={"papers": tfgnn.NodeSet.from_fields(sizes=[cora.num_nodes],
                                                     features=features)},
      edge_sets={"cites": tfgnn.EdgeSet.from_fields(
          sizes=[cora.graph.num_edges], adjacency=tfgnn.Adjacency.from_indices(
              ("papers", cora.graph.edge_source), ("papers", cora.graph.edge_target)))})
  tfgnn.write_schema(tfgnn.create_schema_pb_from_graph_spec(graph.spec),
                     str(directory / "schema.pbtxt"))
  with tf.io.TFRecordWriter(str(directory / "cora.tfrecord")) as writer:
    writer.write(tfgnn.write_example(graph).SerializeToString())
  return {"format": "tfgnn", "schema": str(directory / "schema.pbtxt"),
          "path": str(directory / "cora.tfrecord")}


@pytest.fixture(scope="module")
def cora_reference():
  spec = ModelSpec(architecture="gcn", input_normalization="row")
  return spec, train(spec, data.load("cora"), TrainConfig(epochs=20, patience=20), seed=0,
                     progress=False).metrics


@pytest.mark.parametrize("write", [_cora_as_csv, _cora_as_ogb, _cora_as_tfgnn],
                         ids=["csv", "ogb", "tfgnn"])
def test_cora_as_csv_ogb_or_tfgnn_trains_like_bundled_cora(tmp_path, cora_reference, write):
  spec, expected = cora_reference
  own = data.load_source(write(tmp_path))
  np.testing.assert_array_equal(own.graph.node_features, data.load("cora").graph.node_features)
  metrics = train(spec, own, TrainConfig(epochs=20, patience=20), seed=0,
                  progress=False).metrics
  for key in ("test_accuracy", "val_accuracy", "train_accuracy"):
    assert metrics[key] == expected[key], key


def test_convert_reloads_the_recorded_source_from_the_model_directory(tmp_path, monkeypatch):
  """model.json's source: absolute paths as recorded; a relative one (hand-edited) starts at
  the model directory, not the current one; moved files are named with the record, and
  --dataset gives their new place."""
  monkeypatch.chdir(tmp_path)
  write_npz(tmp_path / "g.npz")
  trained = CliRunner().invoke(main, ["train", "--dataset", "g.npz", "--epochs", "2",
                                      "--hidden-units", "4", "--out", "model"])
  assert trained.exit_code == 0, trained.output
  meta_path = tmp_path / "model" / "model.json"
  meta = json.loads(meta_path.read_text())
  assert meta["extra"]["dataset_source"]["path"] == str(tmp_path / "g.npz")
  (tmp_path / "moved").mkdir()
  (tmp_path / "g.npz").rename(tmp_path / "moved" / "g.npz")
  lost = CliRunner().invoke(main, ["convert", "model", "-o", "m.tflite"])
  assert lost.exit_code == 1 and str(tmp_path / "g.npz") in lost.output
  assert str(meta_path) in lost.output and "--dataset" in lost.output
  assert not (tmp_path / "m.tflite").exists()
  found = CliRunner().invoke(main, ["convert", "model", "--dataset", "moved/g.npz", "-o",
                                    "m.tflite"])
  assert found.exit_code == 0, found.output
  meta["extra"]["dataset_source"]["path"] = "../moved/g.npz"
  meta_path.write_text(json.dumps(meta))
  (tmp_path / "elsewhere").mkdir()
  monkeypatch.chdir(tmp_path / "elsewhere")
  relative = CliRunner().invoke(main, ["convert", str(tmp_path / "model"), "-o", "m.tflite"])
  assert relative.exit_code == 0, relative.output
  sidecar = json.loads((tmp_path / "elsewhere" / "m.tflite.json").read_text())
  assert sidecar["dataset_source"]["path"] == str(tmp_path / "moved" / "g.npz")
