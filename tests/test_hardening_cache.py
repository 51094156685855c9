"""Issue 24, the stage cache: `[cached]` only for outputs that still have the hashes the
stage recorded; a failed stage leaves the previous good outputs (and their cache) alone."""
import json
import os
import shutil

import pytest
import yaml
from click.testing import CliRunner

from edgegnn.cli import main
from edgegnn.pipeline import runner as runner_lib
from edgegnn.pipeline.config import parse

from test_hardening_paths import TINY


@pytest.fixture(autouse=True)
def stable_code(monkeypatch):
  """Other sessions edit edgegnn's sources while tests run; the cache key's code
  fingerprint is pinned so a re-run in a test sees the same code."""
  monkeypatch.setattr(runner_lib, "_code_fingerprint", lambda: "pinned")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
  out = tmp_path_factory.mktemp("cache") / "out"
  mp = pytest.MonkeyPatch()
  mp.setattr(runner_lib, "_code_fingerprint", lambda: "pinned")
  try:
    runner_lib.Runner(parse(TINY), out=str(out), log=lambda _: None, progress=False).run()
  finally:
    mp.undo()
  return out


def _run(tmp_path, out, raw=TINY):
  path = tmp_path / "p.yaml"
  path.write_text(yaml.safe_dump(raw))
  return CliRunner().invoke(main, ["run", str(path), "--out", str(out), "--no-progress"])


def _artifacts(out):
  return {a["name"]: out / a["path"]
          for a in json.loads((out / "report.json").read_text())["artifacts"]}


def test_an_untouched_run_is_served_from_the_cache(finished_run, tmp_path):
  out = tmp_path / "out"
  shutil.copytree(finished_run, out)
  result = _run(tmp_path, out)
  assert result.exit_code == 0, result.output
  assert result.output.count("[cached]") == 2 and "[re-run]" not in result.output


@pytest.mark.parametrize("tamper", ["delete", "zero", "flip"])
def test_a_tampered_artifact_is_rebuilt_not_served(finished_run, tmp_path, tamper):
  out = tmp_path / "out"
  shutil.copytree(finished_run, out)
  path = _artifacts(out)["gcn_sparse.tflite-float32"]
  good = path.read_bytes()
  if tamper == "delete":
    path.unlink()
  elif tamper == "zero":
    path.write_bytes(b"")
  else:
    data = bytearray(good)
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
  result = _run(tmp_path, out)
  assert result.exit_code == 0, result.output
  notice = [line for line in result.output.splitlines() if line.startswith("[re-run]")]
  assert len(notice) == 1 and "gcn_sparse.tflite-float32.tflite" in notice[0]
  assert result.output.count("[cached]") == 1  # the training stage's files are intact
  assert path.read_bytes() == good  # conversion is deterministic: the same file again


def test_corrupt_weights_retrain_the_stage(finished_run, tmp_path):
  out = tmp_path / "out"
  shutil.copytree(finished_run, out)
  weights = out / "models" / "gcn" / "seed0_fold0" / "weights.h5"
  weights.write_bytes(weights.read_bytes()[:100])  # truncated
  result = _run(tmp_path, out)
  assert result.exit_code == 0, result.output
  assert "[re-run] gcn: cached output models/gcn/seed0_fold0/weights.h5" in result.output
  assert weights.stat().st_size > 1000


def test_a_failed_re_export_keeps_the_good_artifact_and_its_cache(finished_run, tmp_path):
  out = tmp_path / "out"
  shutil.copytree(finished_run, out)
  artifacts = _artifacts(out)
  report = json.loads((out / "report.json").read_text())
  agreement = {a["name"]: a["agreement"] for a in report["artifacts"]}
  assert agreement["gcn_sparse.tflite-dynamic-int8"] < 1.0  # else the floor below passes
  before = {name: (p.read_bytes(), os.stat(p).st_ino) for name, p in artifacts.items()}
  strict = json.loads(json.dumps(TINY))
  strict["stages"][1]["export"]["agreement_floor_int8"] = 1.0
  failed = _run(tmp_path, out, strict)
  assert failed.exit_code == 1 and "Traceback" not in failed.output
  assert {name: (p.read_bytes(), os.stat(p).st_ino) for name, p in artifacts.items()} == before
  assert json.loads((out / "report.json").read_text())["artifacts"] == report["artifacts"]
  # The previous configuration is still cached: no endless "re-run the pipeline".
  again = _run(tmp_path, out)
  assert again.exit_code == 0 and again.output.count("[cached]") == 2, again.output
  bundle = CliRunner().invoke(main, ["deploy", "pi", "--run", str(out), "--bundle-only",
                                     str(tmp_path / "bundle")])
  assert bundle.exit_code == 0, bundle.output



def test_a_cache_entry_pointing_outside_out_is_not_served(finished_run, tmp_path):
  out = tmp_path / "out"
  shutil.copytree(finished_run, out)
  cache = out / ".cache" / "gcn.json"
  entry = json.loads(cache.read_text())
  entry["result"]["models"][0]["runs"][0]["path"] = "../../elsewhere"
  cache.write_text(json.dumps(entry))
  result = _run(tmp_path, out)
  assert result.exit_code == 0, result.output
  assert "[re-run] gcn: its cache entry names '../../elsewhere'" in result.output
  report = json.loads((out / "report.json").read_text())
  assert report["models"][0]["runs"][0]["path"] == "models/gcn/seed0_fold0"
