"""Pipeline files, the CLI, report.json, caching, and the microcontroller export path."""
import json
import pathlib
import re
import shutil
import subprocess

import pytest
import yaml
from click.testing import CliRunner

from edgegnn import pipeline
from edgegnn.pipeline import runner as runner_lib
from edgegnn.cli import main
from edgegnn.deploy import tflite_file
from edgegnn.deploy.convert import TargetError, convert
from edgegnn.models import ModelSpec, build_model

TINY = {
    "name": "tiny", "dataset": "cora",
    "stages": [
        {"train": {"name": "gcn", "model": {"architecture": "gcn", "weight_decay": 5e-4,
                                            "input_normalization": "row"},
                   # 30 epochs at lr 0.02: measured test accuracy 0.780 and 0.784
                   "train": {"epochs": 30, "learning_rate": 0.02, "patience": 30,
                             "seeds": [0, 1]}}},
        {"export": {"model": "gcn", "formats": ["tflite-float32", "tflite-dynamic-int8"],
                    "target": "mobile", "bench_runs": 5}},
    ]}


def _write(tmp_path, raw):
  path = tmp_path / "p.yaml"
  path.write_text(yaml.safe_dump(raw))
  return path


@pytest.mark.parametrize("mutate,message", [
    (lambda r: r["stages"][0]["train"]["model"].update(architecure="gcn"),
     "Unknown key stages[0].train(gcn).model.architecure. Did you mean 'architecture'"),
    (lambda r: r["stages"][0]["train"]["train"].update(epochs="ten"),
     "train.epochs must be an integer"),
    (lambda r: r["stages"].append({"quantize": {}}), "unknown stage kind 'quantize'"),
    (lambda r: r["stages"][1]["export"].update(model="gat"), "uses model 'gat', which no earlier"),
    (lambda r: r.update(dataset="pubmed"), "Unknown dataset 'pubmed'. Available: cora"),
    (lambda r: r["stages"][1]["export"].update(formats=["tflite-int4"]), "unknown 'tflite-int4'"),
    (lambda r: r["stages"][1]["export"].update(target="mcu", formats=["tflite-int8"]),
     "target mcu needs layout dense"),
    (lambda r: r.update(output="x"), "Unknown top-level key(s) ['output']"),
    (lambda r: r["stages"][1]["export"].update(integer_io=True),
     "integer_io applies to tflite-int8 only"),
    (lambda r: r["stages"].append({"binarize": {"name": "b", "binarize": {}}}),
     "the staged distillation needs `teacher: <stage name>`"),
    (lambda r: r["stages"].append({"binarize": {"name": "b", "teacher": "gcn",
                                                "binarize": {"epocs": 5}}}),
     "Unknown key stages[2].binarize(b).binarize.epocs. Did you mean 'epochs'?"),
    (lambda r: r["stages"].append({"binarize": {"name": "b", "teacher": "gcn", "binarize": {
        "model": {"architecture": "gat"}}}}), "unknown 'gat'; expected one of gcn, sage"),
])
def test_invalid_pipelines_fail_before_training_naming_the_key(tmp_path, mutate, message):
  raw = json.loads(json.dumps(TINY))
  mutate(raw)
  with pytest.raises((pipeline.PipelineError, TypeError, ValueError)) as error:
    pipeline.load(_write(tmp_path, raw))
  assert message in str(error.value)
  result = CliRunner().invoke(main, ["run", str(tmp_path / "p.yaml"), "--out",
                                     str(tmp_path / "out")])
  assert result.exit_code != 0 and message in result.output
  assert not (tmp_path / "out").exists()


def test_dry_run_prints_the_plan(tmp_path):
  result = CliRunner().invoke(main, ["run", str(_write(tmp_path, TINY)), "--dry-run"])
  assert result.exit_code == 0, result.output
  assert "1. train gcn: gcn (2 layers, 16 units), 30 epochs max, seeds [0, 1]" in result.output
  assert "2. export gcn_sparse" in result.output


def test_every_command_has_help():
  for command in ([], ["run"], ["train"], ["convert"], ["inspect"], ["bench"], ["datasets"]):
    result = CliRunner().invoke(main, command + ["--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_pipeline_writes_the_report_contract_and_caches(tmp_path, monkeypatch):
  # The cache key includes a hash of edgegnn's sources; pinned here so that edits made to
  # the checkout while this test runs do not invalidate the first run's stages.
  monkeypatch.setattr(runner_lib, "_code_fingerprint", lambda: "pinned")
  out = tmp_path / "out"
  runner = CliRunner()
  first = runner.invoke(main, ["run", str(_write(tmp_path, TINY)), "--out", str(out),
                               "--no-progress"])
  assert first.exit_code == 0, first.output
  report = json.loads((out / "report.json").read_text())
  assert {"edgegnn_version", "pipeline", "dataset", "models", "artifacts"} <= set(report)
  model, = report["models"]
  assert {"name", "architecture", "method", "bits", "params", "test_accuracy",
          "test_accuracy_std", "seeds"} <= set(model)
  assert model["method"] == "fp32" and model["bits"] == 32 and model["seeds"] == [0, 1]
  assert model["params"] == 1433 * 16 + 16 + 16 * 7 + 7
  assert model["test_accuracy"] > 0.75
  assert len(report["artifacts"]) == 2
  for artifact in report["artifacts"]:
    assert {"name", "model", "path", "format", "bytes", "ops", "runtime", "test_accuracy",
            "agreement", "latency_ms"} <= set(artifact)
    path = out / artifact["path"]
    assert path.stat().st_size == artifact["bytes"]
    assert artifact["agreement"] >= 0.99 and artifact["runtime"] == "litert"
    assert artifact["ops"]["UNSORTED_SEGMENT_SUM"] >= 2  # 2 aggregations + in-degree
    assert artifact["latency_ms"]["p50"] > 0
  sizes = {a["format"]: a["bytes"] for a in report["artifacts"]}
  assert sizes["tflite-dynamic-int8"] < 0.35 * sizes["tflite-float32"]
  # Per-layer bits read from the files: dynamic-range int8 quantizes only the big weight.
  bits = {a["format"]: [(b["weight_shape"], b["weight_bits"], b["activation_bits"])
                        for b in a["layer_bits"]] for a in report["artifacts"]}
  assert bits == {"tflite-float32": [([16, 1433], 32, 32), ([7, 16], 32, 32)],
                  "tflite-dynamic-int8": [([16, 1433], 8, 32), ([7, 16], 32, 32)]}
  # Each artifact has its sidecar; the human report and its plots are written.
  for artifact in report["artifacts"]:
    side = json.loads((out / artifact["sidecar"]).read_text())
    assert artifact["sidecar"] == artifact["path"] + ".json"
    assert sorted(i["name"] for i in side["inputs"]) == ["edge_source", "edge_target",
                                                         "node_features"]
    assert (side["task"], side["num_classes"], side["layout"]) == ("node", 7, "sparse")
  md = (out / "report.md").read_text()
  for artifact in report["artifacts"]:
    assert re.search(rf"\| {re.escape(artifact['name'])}( \([^)|]*\))? \| {artifact['format']} "
                     rf"\| {artifact['bytes']} \| litert \|", md), artifact["name"]
  assert "Pareto front (size)" in md
  assert (out / "report.html").stat().st_size > 10000
  assert sorted(p.name for p in (out / "plots").iterdir()) == [
      "accuracy_vs_latency.png", "accuracy_vs_size.png", "layer_bits.png"]
  # Every stage logged its number, kind and name, with its time.
  lines = first.output.splitlines()
  starts = [line for line in lines if line.startswith("stage ")]
  assert starts == ["stage 1/2 train gcn", "stage 2/2 export gcn_sparse"]
  ends = [re.match(r"\[ *[\d.]+s\] (stage \d/2 \w+ \w+): ", line) for line in lines]
  assert [m.group(1) for m in ends if m] == starts
  # Everything is cached on a second run; --json puts the summary alone on stdout.
  second = CliRunner(mix_stderr=False).invoke(main, ["run", str(tmp_path / "p.yaml"), "--out",
                                                     str(out), "--no-progress", "--json"])
  assert second.exit_code == 0, second.stderr
  assert second.stderr.count("[cached]") == 2
  assert json.loads((out / "report.json").read_text()) == report
  summary = json.loads(second.stdout)
  assert [(s["kind"], s["name"], s["cached"]) for s in summary["stages"]] == [
      ("train", "gcn", True), ("export", "gcn_sparse", True)]
  assert {a["path"]: a["bytes"] for a in summary["artifacts"]} == {
      str(out / a["path"]): a["bytes"] for a in report["artifacts"]}
  assert [m["test_accuracy"] for m in summary["models"]] == [model["test_accuracy"]]
  assert (pathlib.Path(summary["models"][0]["path"]) / "model.json").is_file()
  for path in [*summary["report"].values(), *summary["figures"].values()]:
    assert pathlib.Path(path).is_file(), path
  regenerated = CliRunner(mix_stderr=False).invoke(main, ["report", str(out), "--json"])
  assert json.loads(regenerated.stdout)["figures"] == summary["figures"]
  # inspect and bench work on the artifact, with --json.
  artifact = str(out / report["artifacts"][0]["path"])
  inspected = json.loads(runner.invoke(main, ["inspect", artifact, "--json"]).output)
  assert inspected["op_histogram"] == report["artifacts"][0]["ops"]
  bench = json.loads(runner.invoke(main, ["bench", artifact, "--runs", "5", "--json"]).output)
  assert bench["latency_ms"]["p90"] >= bench["latency_ms"]["p50"] > 0
  # A changed stage retrains from scratch: it never resumes the old stage's checkpoints.
  # (The train stage alone: re-exporting would only repeat the conversions above.)
  changed = json.loads(json.dumps(TINY))
  changed["stages"][0]["train"]["train"]["epochs"] = 3
  del changed["stages"][1:]
  (tmp_path / "changed.yaml").write_text(yaml.safe_dump(changed))
  third = runner.invoke(main, ["run", str(tmp_path / "changed.yaml"), "--out", str(out),
                               "--no-progress"])
  assert third.exit_code == 0, third.output
  rerun = json.loads((out / "report.json").read_text())["models"][0]
  assert [r["epochs_run"] for r in rerun["runs"]] == [3, 3]


MCU = {
    "name": "mcu", "dataset": "mutag",
    "stages": [
        {"train": {"name": "gin", "model": {"architecture": "gin", "hidden_units": 32,
                                            "num_layers": 4},
                   "train": {"epochs": 150, "lr_decay_every": 50}}},
        {"export": {"model": "gin", "layout": "dense", "formats": ["tflite-int8"],
                    "target": "mcu", "bench_runs": 5}},
    ]}


def test_mutag_classifier_runs_on_tflite_micro(tmp_path):
  out = tmp_path / "out"
  pipeline.Runner(pipeline.load(_write(tmp_path, MCU)), out=str(out), log=lambda _: None,
                  progress=False).run()
  report = json.loads((out / "report.json").read_text())
  artifact, = report["artifacts"]
  model, = report["models"]
  assert artifact["runtime"] == "tflm"
  assert artifact["bytes"] <= 64 * 1024
  assert 0 < artifact["arena_bytes"] <= 32 * 1024
  assert artifact["agreement"] >= 0.97
  assert abs(artifact["test_accuracy"] - model["test_accuracy"]) <= 0.02 + 1e-9
  info = tflite_file.read_model(out / artifact["path"])
  assert info.runtimes.tflm_compatible and not tflite_file.float_compute_ops(info)
  c_file, h_file = (out / p for p in artifact["c_sources"])
  assert f"EDGEGNN_TENSOR_ARENA_SIZE {artifact['arena_bytes']}" in h_file.read_text()
  assert shutil.which("g++"), "g++ is missing: `bash tools/setup.sh` installs it as root"
  subprocess.run(["g++", "-std=c++17", "-c", str(c_file), "-o", str(tmp_path / "m.o")],
                 check=True, cwd=c_file.parent)


def test_target_the_model_cannot_meet_is_refused_without_a_file(tmp_path, mutag):
  model = build_model(ModelSpec("gin"), num_features=mutag.num_features, num_classes=2,
                      task="graph")
  from edgegnn.models import feeds
  rep = [feeds.graph_feed(g) for g in mutag.graphs[:10]]
  target = tmp_path / "gin.tflite"
  with pytest.raises(TargetError, match="UNSORTED_SEGMENT_SUM.*dense layout"):
    convert(model, "tflite-int8", target, target="mcu", representative_feeds=rep)
  with pytest.raises(TargetError, match="needs format tflite-int8"):
    convert(model, "tflite-float32", target, target="mcu")
  with pytest.raises(ValueError, match="integer_io .* applies to tflite-int8 only"):
    convert(model, "tflite-float32", target, integer_io=True)
  assert not target.exists() and list(tmp_path.iterdir()) == []


def test_inspect_rejects_a_corrupt_file(tmp_path):
  bad = tmp_path / "bad.tflite"
  bad.write_bytes(b"\x00" * 64)
  result = CliRunner().invoke(main, ["inspect", str(bad)])
  assert result.exit_code != 0 and "bad.tflite" in result.output


def test_binarize_stage_ships_a_verified_lce_artifact(tmp_path):
  """FP32 teacher -> staged binary GCN -> `lce` artifact run on the LCE interpreter."""
  raw = {"name": "binary", "dataset": "cora", "stages": [
      {"train": {"name": "gcn", "model": {"architecture": "gcn", "weight_decay": 5e-4,
                                          "input_normalization": "row"},
                 "train": {"epochs": 30, "learning_rate": 0.02, "patience": 30}}},
      {"binarize": {"name": "gcn_binary", "teacher": "gcn", "bench_runs": 3,
                    "binarize": {"model": {"architecture": "gcn", "hidden_units": 64},
                                 "epochs": 10}}}]}
  report = pipeline.Runner(pipeline.load(_write(tmp_path, raw)), out=str(tmp_path / "out"),
                           log=lambda _: None, progress=False).run()
  model = next(m for m in report["models"] if m["name"] == "gcn_binary")
  assert model["method"] == "binary+kd" and model["bits"] == 1
  assert model["binary_summary"]["binarized_mac_ratio"] == 1.0
  assert model["test_accuracy"] > 0.3            # 7 classes: chance is about 0.14-0.3
  artifact, = [a for a in report["artifacts"] if a["model"] == "gcn_binary"]
  assert artifact["format"] == "lce" and artifact["runtime"] == "lce"
  assert artifact["ops"]["LceBconv2d"] == 2
  assert artifact["agreement"] >= 0.99
  assert artifact["test_accuracy"] == pytest.approx(model["test_accuracy"], abs=0.01)
  assert (tmp_path / "out" / artifact["path"]).stat().st_size == artifact["bytes"]


def test_federated_stage_trains_a_global_model_that_exports(tmp_path):
  """subgraph-level FedAvg (3 clients, 8 rounds) -> a global model the export stage ships."""
  raw = {"name": "fed", "dataset": "cora", "stages": [
      {"federated": {"name": "fedavg", "model": {"architecture": "gcn", "weight_decay": 5e-4,
                                                 "input_normalization": "row"},
                     "federated": {"setting": "subgraph", "num_clients": 3, "rounds": 8,
                                   "local_epochs": 10, "engine": "inprocess", "seeds": [0]}}},
      {"export": {"model": "fedavg", "formats": ["tflite-float32"], "target": "mobile",
                  "bench_runs": 3}}]}
  report = pipeline.Runner(pipeline.load(_write(tmp_path, raw)), out=str(tmp_path / "out"),
                           log=lambda _: None, progress=False).run()
  model, = report["models"]
  assert model["method"] == "fedavg-subgraph" and model["federated"]["clients"] == 3
  assert model["runs"][0]["rounds_completed"] == 8
  assert model["test_accuracy"] > 0.5          # 8 rounds; the majority class is 0.32
  artifact, = report["artifacts"]
  assert artifact["agreement"] >= 0.99
  assert artifact["test_accuracy"] == pytest.approx(model["test_accuracy"], abs=0.005)


@pytest.mark.parametrize("path", sorted(pathlib.Path("pipelines").glob("*.yaml")),
                         ids=lambda p: p.stem)
def test_every_shipped_pipeline_validates(path):
  loaded = pipeline.load(path)
  assert loaded.stages and pipeline.plan(loaded)[0].startswith(f"pipeline {loaded.name}")
