"""Your own graph in each of the four formats, written by the test, end to end.

Default run, per format: `edgegnn train --dataset source.yaml` trains exactly the model the
same arrays given in Python train (same weights), `edgegnn convert` reloads the recorded
source and writes a verified artifact whose sidecar names it, and `edgegnn bench` times it
on that graph. A pipeline train -> Degree-Quant INT8 -> full-int8 export (verified on
ai-edge-litert) runs on each format with `-m slow`; every format trains the same models to
the same figures."""
import json

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from edgegnn import pipeline
from edgegnn.cli import main
from edgegnn.data import Graph, NodeClassificationDataset
from edgegnn.models import ModelSpec
from edgegnn.models.saving import load_trained
from edgegnn.training import TrainConfig, train

from test_data_sources import small_graph, write_csv, write_npz, write_ogb
from test_source_tfgnn import _write as write_tfgnn_records, node_task_graph

MODEL = {"architecture": "gcn", "hidden_units": 8, "input_normalization": "row"}
STAGES = [
    {"train": {"name": "gcn", "model": MODEL,
               "train": {"epochs": 3, "patience": 3, "seeds": [0]}}},
    {"degree_quant": {"name": "gcn_dq8", "model": MODEL,
                      "train": {"epochs": 3, "patience": 3, "seeds": [0]},
                      "quantization": {"weight_bits": 8, "activation_bits": 8}}},
    {"export": {"model": "gcn_dq8", "layout": "neighbors", "formats": ["tflite-int8"],
                "target": "mobile", "bench_runs": 1, "bench_warmup": 0}},
]


def _npz(directory):
  write_npz(directory / "mygraph.npz")
  return {"format": "npz", "path": "mygraph.npz"}


def _csv(directory):
  return dict(write_csv(directory), name="mygraph")


def _ogb(directory):
  return dict(write_ogb(directory / "mygraph"), root="mygraph", split_name="random")


def _tfgnn(directory):
  spec = write_tfgnn_records(directory / "mygraph", [node_task_graph()])
  return dict(spec, node_set="papers", edge_set="cites")


WRITERS = {"npz": _npz, "csv": _csv, "ogb": _ogb, "tfgnn": _tfgnn}
# Figures of the same graph, whichever format carried it (filled by the first format run).
SEEN = {}
EPOCHS = 30


@pytest.fixture(scope="module")
def python_model():
  """The model `edgegnn train --epochs 30 --hidden-units 8` trains on small_graph's arrays
  given in Python (the CLI's spec and config)."""
  features, source, target, labels, splits = small_graph()
  dataset = NodeClassificationDataset(
      name="py", graph=Graph(features, source, target), labels=labels, num_classes=3,
      train_index=splits["train"], val_index=splits["val"], test_index=splits["test"])
  spec = ModelSpec(architecture="gcn", hidden_units=8, num_layers=2, weight_decay=5e-4,
                   input_normalization="row")
  return train(spec, dataset, TrainConfig(epochs=EPOCHS, learning_rate=0.01), seed=0,
               progress=False)


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_cli_train_convert_bench_on_each_format(tmp_path, monkeypatch, fmt, python_model):
  (tmp_path / "data").mkdir()
  (tmp_path / "data" / "source.yaml").write_text(yaml.safe_dump(WRITERS[fmt](tmp_path / "data")))
  monkeypatch.chdir(tmp_path)
  trained = CliRunner().invoke(main, ["train", "--dataset", "data/source.yaml", "--epochs",
                                      str(EPOCHS), "--hidden-units", "8", "--out", "model"])
  assert trained.exit_code == 0, trained.output
  recorded = json.loads((tmp_path / "model" / "model.json").read_text())["extra"]
  assert recorded["dataset_source"]["format"] == fmt
  model, _ = load_trained(tmp_path / "model")
  for ours, theirs in zip(model.get_weights(), python_model.model.get_weights()):
    np.testing.assert_array_equal(ours, theirs)
  converted = CliRunner().invoke(main, ["convert", "model", "-o", "m.tflite"])
  assert converted.exit_code == 0, converted.output
  sidecar = json.loads((tmp_path / "m.tflite.json").read_text())
  assert sidecar["dataset_source"] == recorded["dataset_source"]
  accuracy = python_model.metrics["test_accuracy"]
  assert f"test accuracy {100 * accuracy:.2f} %" in converted.output
  timed = CliRunner().invoke(main, ["bench", "m.tflite", "--runs", "2", "--json"])
  assert timed.exit_code == 0, timed.output
  assert json.loads(timed.output)["inputs"]["node_features"]["shape"] == [30, 5]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_train_degree_quant_int8_export_verify_on_each_format(tmp_path, fmt):
  """About 25 s per format on an idle machine (two minutes at load 11)."""
  (tmp_path / "data").mkdir()
  source = WRITERS[fmt](tmp_path / "data")
  raw = {"name": "own", "dataset": source, "stages": STAGES}
  (tmp_path / "data" / "p.yaml").write_text(yaml.safe_dump(raw))
  out = tmp_path / "out"
  report = pipeline.Runner(pipeline.load(tmp_path / "data" / "p.yaml"), out=str(out),
                           log=lambda line: None, progress=False).run()
  assert report["dataset"] == "mygraph" and report["dataset_source"]["format"] == fmt
  (artifact,) = report["artifacts"]
  assert artifact["format"] == "tflite-int8" and artifact["agreement"] >= 0.97
  sidecar = json.loads((out / artifact["sidecar"]).read_text())
  assert sidecar["dataset_source"] == report["dataset_source"]
  figures = {m["name"]: m["runs"][0]["test_accuracy"] for m in report["models"]}
  figures["artifact"] = artifact["test_accuracy"]
  SEEN.setdefault("figures", figures)
  assert figures == SEEN["figures"], (fmt, figures, SEEN["figures"])
  # convert reloads the source from the DQ model's record (float here: a second format).
  model_dir = out / next(m["path"] for m in report["models"] if m["name"] == "gcn_dq8")
  converted = CliRunner().invoke(main, ["convert", str(model_dir), "--layout", "neighbors",
                                        "--format", "tflite-int8", "-o",
                                        str(tmp_path / "again.tflite")])
  assert converted.exit_code == 0, converted.output
  again = json.loads((tmp_path / "again.tflite.json").read_text())
  assert again["dataset_source"] == report["dataset_source"]
  np.testing.assert_array_equal(
      sorted(i["name"] for i in again["inputs"]), sorted(i["name"] for i in sidecar["inputs"]))


@pytest.mark.slow
def test_every_stage_kind_runs_on_a_csv_source(tmp_path):
  """train, qat, degree_quant, ptq, distill, binarize and federated on a CSV graph, each
  model exported and verified; the report and its markdown name the source (a few minutes
  on an idle machine)."""
  (tmp_path / "data").mkdir()
  source = _csv(tmp_path / "data")
  train_config = {"epochs": 20, "patience": 20, "seeds": [0]}
  int8 = {"weight_bits": 8, "activation_bits": 8}
  stages = [
      {"train": {"name": "gcn", "model": MODEL, "train": train_config}},
      {"qat": {"name": "gcn_qat8", "model": MODEL, "train": train_config,
               "quantization": int8}},
      {"degree_quant": {"name": "gcn_dq8", "model": MODEL, "train": train_config,
                        "quantization": int8}},
      {"ptq": {"name": "gcn_ptq8", "model": "gcn", "quantization": int8}},
      {"distill": {"name": "mlp", "teacher": "gcn",
                   "student": {"architecture": "mlp", "hidden_units": 16},
                   "distill": {"method": "glnn", "epochs": 20}}},
      {"binarize": {"name": "gcn_binary", "teacher": "gcn", "bench_runs": 1,
                    "binarize": {"model": {"architecture": "gcn", "hidden_units": 32},
                                 "epochs": 5}}},
      {"federated": {"name": "fed", "model": MODEL,
                     "federated": {"setting": "subgraph", "num_clients": 2, "rounds": 2,
                                   "local_epochs": 2, "engine": "inprocess", "seeds": [0]}}},
  ]
  for model in ("gcn", "gcn_qat8", "gcn_dq8", "gcn_ptq8", "fed"):
    formats = ["tflite-float32"] if model in ("gcn", "fed") else ["tflite-int8"]
    stages.append({"export": {"model": model, "layout": "neighbors", "formats": formats,
                              "bench_runs": 1, "bench_warmup": 0}})
  # Float: full int8 of a 20-epoch MLP on 9 test nodes flips a near-tie (agreement 8/9).
  stages.append({"export": {"model": "mlp", "formats": ["tflite-float32"], "bench_runs": 1,
                            "bench_warmup": 0}})
  (tmp_path / "data" / "p.yaml").write_text(yaml.safe_dump(
      {"name": "own", "dataset": source, "stages": stages}))
  out = tmp_path / "out"
  report = pipeline.Runner(pipeline.load(tmp_path / "data" / "p.yaml"), out=str(out),
                           log=lambda line: None, progress=False).run()
  assert {m["name"] for m in report["models"]} == {"gcn", "gcn_qat8", "gcn_dq8", "gcn_ptq8",
                                                    "mlp", "gcn_binary", "fed"}
  assert len(report["artifacts"]) == 7
  for artifact in report["artifacts"]:
    assert artifact["agreement"] >= 0.97, artifact
    sidecar = json.loads((out / artifact["sidecar"]).read_text())
    assert sidecar["dataset_source"] == report["dataset_source"], artifact["model"]
  assert "mygraph" in (out / "report.md").read_text()
