"""Issue 24, config values and the CLI boundary: every bad value is refused when the file
loads, with the key named; every expected failure is one line on stderr and exit 1."""
import json
import shutil
import time

import click
import pytest
import yaml
from click.testing import CliRunner

from edgegnn import pipeline
from edgegnn.cli import base as cli_base
from edgegnn.cli import main
from edgegnn.deploy import pi
from edgegnn.deploy.device_results import SchemaError, check_device_results

from test_hardening_paths import TINY, finished_run  # noqa: F401  (fixture)


def _copy(raw):
  return json.loads(json.dumps(raw))


def _train(raw):
  return raw["stages"][0]["train"]


def _export(raw):
  return raw["stages"][1]["export"]


@pytest.mark.parametrize("mutate,named", [
    (lambda r: _train(r)["train"].update(learning_rate=float("nan")), "train.learning_rate"),
    (lambda r: _train(r)["model"].update(weight_decay=float("inf")), "model.weight_decay"),
    (lambda r: _train(r)["train"].update(seeds=[1.7, "2", True]), "train.seeds[0]"),
    (lambda r: _train(r)["train"].update(seeds=["2"]), "train.seeds[0]"),
    (lambda r: _train(r)["train"].update(seeds=[True]), "train.seeds[0]"),
    (lambda r: _train(r)["train"].update(seeds=[0, 0]), "train.seeds"),
    (lambda r: _train(r)["train"].update(seeds=[-1]), "train.seeds"),
    (lambda r: _train(r)["train"].update(epochs=3.0), "train.epochs"),
    (lambda r: _export(r).update(bench_warmup=-1), "bench_warmup"),
    (lambda r: _export(r).update(bench_runs=10 ** 9), "bench_runs"),
    (lambda r: _export(r).update(capacity=0), "capacity"),
    (lambda r: _export(r).update(agreement_floor_int8=1.5), "agreement_floor_int8"),
    (lambda r: _export(r).update(formats=["tflite-float32", 3]), "formats[1]"),
    (lambda r: r["stages"].append({"export": {"model": "gcn_sparse"}}), "'gcn_sparse'"),
    (lambda r: r["stages"].append({"ptq": {"name": "q", "model": "gcn_sparse"}}),
     "'gcn_sparse'"),
    (lambda r: r.update(name="../x"), "name"),
])
def test_bad_values_fail_at_load_naming_the_key(tmp_path, mutate, named):
  raw = _copy(TINY)
  mutate(raw)
  path = tmp_path / "p.yaml"
  path.write_text(yaml.safe_dump(raw))
  with pytest.raises((pipeline.PipelineError, TypeError, ValueError)) as error:
    pipeline.load(path)
  assert named in str(error.value)
  result = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path / "out")])
  assert result.exit_code == 1 and named in result.output
  assert "Traceback" not in result.output and not (tmp_path / "out").exists()


@pytest.mark.parametrize("text,key", [
    ("name: a\nname: b\ndataset: cora\nstages: []\n", "'name'"),
    ("dataset: cora\nstages:\n  - train: {name: g, name: h}\n", "'name'"),
])
def test_duplicate_yaml_keys_are_refused(tmp_path, text, key):
  path = tmp_path / "p.yaml"
  path.write_text(text)
  with pytest.raises(pipeline.PipelineError, match=f"found key {key} twice.*line"):
    pipeline.load(path)


def test_a_huge_yaml_file_is_refused_at_once(tmp_path):
  path = tmp_path / "p.yaml"
  path.write_text("dataset: cora\nstages:\n" + "  - 1\n" * 5_000_000)  # 30 MB
  started = time.perf_counter()
  result = CliRunner().invoke(main, ["run", str(path), "--dry-run"])
  assert result.exit_code == 1 and "at most 1048576 bytes" in result.output
  assert time.perf_counter() - started < 5


def test_cli_failures_are_one_line_with_verbose_for_the_traceback(finished_run, tmp_path):
  model = tmp_path / "model"
  shutil.copytree(finished_run / "models" / "gcn" / "seed0_fold0", model)
  weights = model / "weights.h5"
  weights.write_bytes(weights.read_bytes()[:200])  # a truncated weights file
  command = ["convert", str(model), "-o", str(tmp_path / "m.tflite")]
  result = CliRunner().invoke(main, command)
  assert result.exit_code == 1 and str(model) in result.output, result.output
  assert len(result.output.strip().splitlines()) == 1
  assert not (tmp_path / "m.tflite").exists()
  broken = tmp_path / "p.yaml"
  broken.write_bytes(b"\xff\xfe not utf-8")
  result = CliRunner().invoke(main, ["run", str(broken)])
  assert result.exit_code == 1 and "not UTF-8" in result.output


def test_an_unexpected_failure_is_one_line_and_verbose_shows_it():
  @click.group(cls=cli_base._Cli)  # the CLI's own boundary, on a command that fails unexpectedly
  @click.option("--verbose", is_flag=True)
  def group(verbose):  # pylint: disable=unused-argument
    pass

  @group.command()
  def boom():
    raise KeyError("missing")

  quiet = CliRunner().invoke(group, ["boom"])
  assert quiet.exit_code == 1 and "KeyError" in quiet.output and "--verbose" in quiet.output
  assert len(quiet.output.strip().splitlines()) == 1
  verbose = CliRunner().invoke(group, ["--verbose", "boom"])
  assert isinstance(verbose.exception, KeyError)


def test_bench_runs_are_bounded(finished_run):
  artifact = next((finished_run / "artifacts").glob("*.tflite"))
  for runs in ("0", "1000000000"):
    result = CliRunner().invoke(main, ["bench", str(artifact), "--runs", runs])
    assert result.exit_code == 1 and "--runs" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_bad_device_results_never_touch_report_json(finished_run, tmp_path):
  run = tmp_path / "run"
  shutil.copytree(finished_run, run)
  before = (run / "report.json").read_bytes()
  name = json.loads(before)["artifacts"][0]["name"]
  good = {"device": {"machine": "aarch64"}, "runs": 3, "threads": 1,
          "artifacts": {name: {"runtime": "litert", "agreement": 1.0,
                               "latency_ms": {"p50": 1.0, "p90": 2.0}}}}
  check_device_results(good)
  for field, value in [("agreement", "1.0"), ("agreement", float("nan")), ("agreement", 7),
                       ("latency_ms", {"p50": "fast"}), ("surprise", 1)]:
    bad = json.loads(json.dumps(good))
    bad["artifacts"][name][field] = value
    with pytest.raises(SchemaError, match=field):
      pi.merge_device_results(run, bad, "pi4")
    assert (run / "report.json").read_bytes() == before
  pi.merge_device_results(run, good, "pi4")
  result = CliRunner().invoke(main, ["report", str(run)])
  assert result.exit_code == 0, result.output


def test_a_malformed_report_json_is_one_clear_error(finished_run, tmp_path):
  run = tmp_path / "run"
  shutil.copytree(finished_run, run)
  report = json.loads((run / "report.json").read_text())
  name = report["artifacts"][0]["name"]
  report["devices"] = [{"label": "pi", "artifacts": {name: {"agreement": "1.0"}}}]
  (run / "report.json").write_text(json.dumps(report))
  for command in (["report", str(run)],
                  ["deploy", "pi", "--run", str(run), "--bundle-only", str(tmp_path / "b")]):
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1 and "agreement" in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
  (run / "report.json").write_text("{not json")
  result = CliRunner().invoke(main, ["report", str(run)])
  assert result.exit_code == 1 and "report.json" in result.output
