"""Pipelines on sampled subgraphs: a generated graph (`format: synthetic`) trained with the
train stage's `sampling:` option, exported and verified end to end; the option and the
source refused at load time with the key named."""
import json

import numpy as np
import pytest
import yaml

from edgegnn import data, pipeline
from edgegnn.pipeline import runner as runner_lib

SOURCE = {"format": "synthetic", "num_nodes": 3000, "avg_degree": 5, "num_classes": 4,
          "num_features": 200, "words_per_node": 10.0, "feature_signal": 0.2, "seed": 0}
SAGE = {"architecture": "sage", "hidden_units": 16, "num_layers": 2}
SAMPLED_TRAIN = {"train": {"name": "sage", "model": SAGE,
                           "train": {"epochs": 6, "patience": 6, "seeds": [0]},
                           "sampling": {"fanouts": [5, 5], "batch_size": 256}}}


def _write(tmp_path, raw):
  path = tmp_path / "p.yaml"
  path.write_text(yaml.safe_dump(raw))
  return path


def test_sampled_train_exports_and_verifies_on_a_generated_graph(tmp_path, monkeypatch):
  monkeypatch.setattr(runner_lib, "_code_fingerprint", lambda: "pinned")
  raw = {"name": "sampled", "dataset": SOURCE,
         "stages": [SAMPLED_TRAIN, {"export": {"model": "sage", "formats": ["tflite-float32"],
                                               "bench_runs": 1, "bench_warmup": 0}}]}
  loaded = pipeline.load(_write(tmp_path, raw))
  report = pipeline.Runner(loaded, out=str(tmp_path / "out"), log=lambda _: None,
                           progress=False).run()
  saved = json.loads((tmp_path / "out" / "report.json").read_text())
  assert saved["dataset_source"]["format"] == "synthetic"
  run = saved["models"][0]["runs"][0]
  assert run["sampling"] == {"fanouts": [5, 5], "batch_size": 256, "inference_chunk": 32768}
  # Learned from the sampled batches: well above chance (4 classes) on held-out nodes.
  assert run["test_accuracy"] > 0.5
  # The saved model (sparse layout, full graph in one call) gives the stage's layer-wise
  # test accuracy: the weights moved out of the neighbors layout intact.
  from edgegnn.models.saving import load_trained  # pylint: disable=g-import-not-at-top
  from edgegnn.training import make_task, predict  # pylint: disable=g-import-not-at-top
  dataset = data.load_source(SOURCE)
  model, meta = load_trained(tmp_path / "out" / run["path"])
  assert meta.dataset == dataset.name == "synthetic-3000-seed0"
  logits = predict(model, make_task(dataset, 0))
  accuracy = float(np.mean(logits[dataset.test_index].argmax(-1)
                           == dataset.labels[dataset.test_index]))
  assert accuracy == pytest.approx(run["test_accuracy"], abs=1e-6)
  artifact = report["artifacts"][0]
  assert artifact["agreement"] >= 0.99
  assert (tmp_path / "out" / artifact["path"]).is_file()


@pytest.mark.parametrize("dataset, stage, key", [
    ("mutag", SAMPLED_TRAIN, "sampling"),                          # graph task
    (SOURCE, {"train": dict(SAMPLED_TRAIN["train"],
                            sampling={"fanouts": [5, 5, 5]})}, "fanouts"),
    (SOURCE, {"train": dict(SAMPLED_TRAIN["train"], sampling={"fanout": [5]})}, "fanout"),
    (SOURCE, {"degree_quant": dict(SAMPLED_TRAIN["train"],
                                   sampling={"batch_size": 0})}, "batch_size"),
    (dict(SOURCE, avg_degree="ten"), SAMPLED_TRAIN, "avg_degree"),
    ({"format": "synthetic", "num_classes": 4}, SAMPLED_TRAIN, "num_nodes"),
])
def test_bad_sampling_or_synthetic_source_refused_at_load(tmp_path, dataset, stage, key):
  path = _write(tmp_path, {"name": "bad", "dataset": dataset, "stages": [stage]})
  with pytest.raises(ValueError) as error:
    pipeline.load(path)
  assert key in str(error.value)


@pytest.mark.slow
def test_sampled_degree_quant_exports_full_int8(tmp_path, monkeypatch):
  monkeypatch.setattr(runner_lib, "_code_fingerprint", lambda: "pinned")
  stage = dict(SAMPLED_TRAIN["train"], name="sage_dq8",
               quantization={"weight_bits": 8, "activation_bits": 8})
  raw = {"name": "sampled_dq", "dataset": SOURCE,
         "stages": [{"degree_quant": stage},
                    {"export": {"model": "sage_dq8", "layout": "neighbors",
                                "formats": ["tflite-int8"], "bench_runs": 1,
                                "bench_warmup": 0}}]}
  loaded = pipeline.load(_write(tmp_path, raw))
  pipeline.Runner(loaded, out=str(tmp_path / "out"), log=lambda _: None,
                  progress=False).run()
  saved = json.loads((tmp_path / "out" / "report.json").read_text())
  model = saved["models"][0]
  assert model["quantization"]["method"] == "dq" and model["runs"][0]["test_accuracy"] > 0.5
  artifact = saved["artifacts"][0]
  assert artifact["format"] == "tflite-int8" and artifact["agreement"] >= 0.97
