"""A pipeline exports a sparse-feature artifact and ends with the stock comparison; a Pi
bundle of the run carries both feature encodings and runs them."""
import json
import subprocess
import sys

import pytest
import yaml

from edgegnn import pipeline
from edgegnn.deploy import tflite_file

RAW = {
    "name": "fast", "dataset": "cora", "compare_with_stock": True,
    "stages": [
        {"train": {"name": "gcn", "model": {"architecture": "gcn",
                                            "input_normalization": "row"},
                   "train": {"epochs": 5, "patience": 5, "seeds": [0]}}},
        {"export": {"model": "gcn", "name": "gcn_bin", "features": "binary",
                    "formats": ["tflite-float32"], "target": "mobile", "bench_runs": 1,
                    "bench_warmup": 0}},
        {"export": {"model": "gcn", "name": "gcn_dense", "formats": ["tflite-float32"],
                    "target": "mobile", "bench_runs": 1, "bench_warmup": 0}},
    ]}


def _load(tmp_path, raw):
  path = tmp_path / "p.yaml"
  path.write_text(yaml.safe_dump(raw))
  return pipeline.load(path)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
  tmp = tmp_path_factory.mktemp("fast")
  out = tmp / "out"
  report = pipeline.Runner(_load(tmp, RAW), out=str(out), log=lambda _: None).run()
  return out, report


def test_binary_feature_export_and_stock_comparison(run):
  out, report = run
  artifact = next(a for a in report["artifacts"] if a["name"].startswith("gcn_bin"))
  assert artifact["features"] == "binary" and artifact["agreement"] >= 0.99
  names = {io.name for io in tflite_file.read_model(out / artifact["path"]).inputs}
  assert names == {"feature_node", "feature_index", "edge_source", "edge_target", "in_degree"}
  assert "SEGMENT_SUM" in artifact["ops"]   # the first layer reads only the non-zeros
  sidecar = json.loads((out / artifact["sidecar"]).read_text())
  assert sidecar["features"] == "binary"
  comparison = report["stock_comparison"]
  assert set(comparison["anchors"]) == {"stock-float32", "stock-dynamic-int8"}
  assert artifact["x_stock_p50"] > 0 and artifact["x_stock_bytes"] == pytest.approx(
      artifact["bytes"] / comparison["anchors"]["stock-float32"]["bytes"])
  assert "x stock p50" in (out / "report.md").read_text()


def test_pi_bundle_runs_both_feature_encodings(run, tmp_path):
  """Artifacts of one layout that take dense and sparse features share a feed set."""
  from edgegnn.deploy.pi_bundle import build_bundle
  out, _ = run
  bundle = build_bundle(out, tmp_path / "bundle")
  subprocess.run([sys.executable, "run_bundle.py"], cwd=bundle.path, check=True,
                 capture_output=True)
  results = json.loads((bundle.path / "results.json").read_text())
  agreements = {name: r.get("agreement") for name, r in results["artifacts"].items()}
  assert len(agreements) == 2 and all(a == 1.0 for a in agreements.values()), agreements


@pytest.mark.parametrize("change, words", [
    (lambda r: r["stages"][1]["export"].update(formats=["tflite-int8"]), "float formats"),
    (lambda r: r["stages"][1]["export"].update(layout="dense"), "layout sparse or neighbors"),
    (lambda r: r["stages"][1]["export"].update(features="bits"), "features must be one of"),
    (lambda r: r.update(dataset="mutag"), "graph task"),
])
def test_feature_and_comparison_settings_checked_at_load(tmp_path, change, words):
  raw = json.loads(json.dumps(RAW))
  change(raw)
  with pytest.raises((pipeline.PipelineError, ValueError), match=words):
    _load(tmp_path, raw)


def test_convert_command_exports_binary_features_and_refuses_int8(run, tmp_path):
  from click.testing import CliRunner
  from edgegnn.cli import main
  out, report = run
  model_dir = out / next(m for m in report["models"] if m["name"] == "gcn")["path"]
  artifact = tmp_path / "gcn.tflite"
  done = CliRunner().invoke(main, ["convert", str(model_dir), "--features", "binary",
                                   "-o", str(artifact)])
  assert done.exit_code == 0, done.output
  assert {io.name for io in tflite_file.read_model(artifact).inputs} >= {"feature_node",
                                                                         "feature_index"}
  assert json.loads(artifact.with_suffix(".tflite.json").read_text())["features"] == "binary"
  refused = tmp_path / "int8.tflite"
  done = CliRunner().invoke(main, ["convert", str(model_dir), "--features", "binary",
                                   "--format", "tflite-int8", "-o", str(refused)])
  assert done.exit_code == 1 and "float formats" in done.output and not refused.exists()
