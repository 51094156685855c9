"""Issue 24, paths: names are identifiers, nothing outside --out (or the bundle root) is
written or deleted, --bundle-only never replaces what it did not write, one run per --out."""
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest
import yaml
from click.testing import CliRunner

from edgegnn import pipeline
from edgegnn.cli import main
from edgegnn.pipeline import runner as runner_lib
from edgegnn.pipeline.config import PipelineError, parse
from edgegnn.safe_paths import Locked, PathEscape, exclusive_lock, inside, remove_inside

TINY = {
    "name": "tiny", "dataset": "cora",
    "stages": [
        {"train": {"name": "gcn", "model": {"architecture": "gcn", "input_normalization": "row"},
                   "train": {"epochs": 3, "patience": 3, "seeds": [0]}}},
        {"export": {"model": "gcn", "formats": ["tflite-float32", "tflite-dynamic-int8"],
                    "bench_runs": 1, "bench_warmup": 0}},
    ]}


def _copy(raw):
  return json.loads(json.dumps(raw))


def _snapshot(root: pathlib.Path) -> dict:
  """Every file below root with its bytes (what must survive a refused command)."""
  return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
          if p.is_file()}


@pytest.fixture()
def stable_code(monkeypatch):
  """Other sessions edit edgegnn's sources while tests run; the cache key's code
  fingerprint is pinned so a re-run in a test sees the same code."""
  monkeypatch.setattr(runner_lib, "_code_fingerprint", lambda: "pinned")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
  """A real finished run (3 epochs, two formats), copied by the tests that change it."""
  out = tmp_path_factory.mktemp("run") / "out"
  runner_lib.Runner(parse(TINY), out=str(out), log=lambda _: None, progress=False).run()
  return out


@pytest.mark.parametrize("where,name", [
    ("train", "../.."), ("train", ""), ("train", ".hidden"), ("train", "a/b"),
    ("export", "../../x"), ("export", "/tmp/x"), ("export", "..")])
def test_a_name_that_is_not_an_identifier_is_refused_at_load(tmp_path, where, name):
  raw = _copy(TINY)
  if where == "train":
    raw["stages"][0]["train"]["name"] = name
    raw["stages"][1]["export"]["model"] = name
  else:
    raw["stages"][1]["export"]["name"] = name
  work = tmp_path / "work"
  (work / "sibling").mkdir(parents=True)
  (work / "sibling" / "keep.txt").write_text("mine")
  path = work / "p.yaml"
  path.write_text(yaml.safe_dump(raw))
  before = _snapshot(tmp_path)
  with pytest.raises(PipelineError, match=rf"stages\[\d\]\.{where}\.name: .* not a valid name"):
    pipeline.load(path)
  result = CliRunner().invoke(main, ["run", str(path), "--out", str(work / "out")])
  assert result.exit_code == 1 and "not a valid name" in result.output
  assert len(result.output.strip().splitlines()) == 1
  assert _snapshot(tmp_path) == before and not (work / "out").exists()


def test_runner_refuses_a_bad_name_given_without_parse(tmp_path):
  good = parse(TINY)
  bad = pipeline.Pipeline("p", "cora", str(tmp_path / "out"), (
      type(good.stages[0])(name="..", model=good.stages[0].model,
                           train=good.stages[0].train),))
  with pytest.raises(ValueError, match="not a valid name"):
    runner_lib.Runner(bad, log=lambda _: None).run()
  assert not (tmp_path / "out").exists()


def test_inside_refuses_every_way_out(tmp_path):
  root = tmp_path / "out"
  root.mkdir()
  (tmp_path / "outside").mkdir()
  (root / "link").symlink_to(tmp_path / "outside")
  assert inside(root, "models", "gcn") == (root / "models" / "gcn").resolve()
  for parts in [("..",), ("models", "..", ".."), ("/etc",), ("link", "x"), (".",)]:
    with pytest.raises(PathEscape):
      inside(root, *parts)
  with pytest.raises(PathEscape):
    remove_inside(root, "link", "..")
  assert (tmp_path / "outside").is_dir()


def test_out_that_is_a_file_is_one_clear_error(tmp_path):
  path = tmp_path / "p.yaml"
  path.write_text(yaml.safe_dump(TINY))
  (tmp_path / "out").write_text("a file")
  result = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path / "out")])
  assert result.exit_code == 1
  assert "is a file, not a directory" in result.output and "Traceback" not in result.output
  assert (tmp_path / "out").read_text() == "a file"


def test_a_second_run_into_the_same_out_is_refused(tmp_path):
  out = tmp_path / "out"
  out.mkdir()
  # A real second process holds the lock, as a concurrent `edgegnn run` would.
  holder = subprocess.Popen(
      [sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'w'); "
       "fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)",
       str(out / ".lock")], stdout=subprocess.PIPE, text=True)
  try:
    assert holder.stdout.readline().strip() == "locked"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(TINY))
    result = CliRunner().invoke(main, ["run", str(path), "--out", str(out)])
    assert result.exit_code == 1 and "in use by another edgegnn run" in result.output
    assert sorted(p.name for p in out.iterdir()) == [".lock"]
  finally:
    holder.kill()
    holder.wait()
  with exclusive_lock(out):  # released when its holder died
    with pytest.raises(Locked):
      with exclusive_lock(out):
        pass


def test_bundle_only_refuses_a_directory_it_did_not_write(finished_run, tmp_path):
  mine = tmp_path / "mine"
  mine.mkdir()
  (mine / "thesis.tex").write_text("irreplaceable")
  run_before = _snapshot(finished_run)
  for destination in (mine, finished_run, finished_run.parent):
    result = CliRunner().invoke(main, ["deploy", "pi", "--run", str(finished_run),
                                       "--bundle-only", str(destination)])
    assert result.exit_code == 1, result.output
    assert "refusing" in result.output or "would replace the run" in result.output
  assert (mine / "thesis.tex").read_text() == "irreplaceable"
  assert sorted(p.name for p in mine.iterdir()) == ["thesis.tex"]
  assert _snapshot(finished_run) == run_before
  # Its own earlier bundle is replaced; an empty directory is used.
  for destination in (tmp_path / "empty", tmp_path / "empty"):
    destination.mkdir(exist_ok=True)
    result = CliRunner().invoke(main, ["deploy", "pi", "--run", str(finished_run),
                                       "--bundle-only", str(destination)])
    assert result.exit_code == 0, result.output
  assert (tmp_path / "empty" / "manifest.json").is_file()
  assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "mine"]  # no leftovers


def test_a_bundle_of_a_corrupt_artifact_leaves_no_half_bundle(finished_run, tmp_path):
  run = tmp_path / "run"
  shutil.copytree(finished_run, run)
  report = json.loads((run / "report.json").read_text())
  (run / report["artifacts"][-1]["path"]).write_bytes(b"TFL3" + b"\0" * 64)
  result = CliRunner().invoke(main, ["deploy", "pi", "--run", str(run), "--bundle-only",
                                     str(tmp_path / "bundle")])
  assert result.exit_code == 1 and "Traceback" not in result.output
  assert len(result.output.strip().splitlines()) == 1
  assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_deploy_label_must_be_a_name(finished_run, tmp_path):
  run_before = _snapshot(finished_run.parent)
  for label in ("../../x", "..", "a/b", ".ssh"):
    result = CliRunner().invoke(main, ["deploy", "pi", "--run", str(finished_run), "--host",
                                       "pi@192.0.2.1", "--label", label])
    assert result.exit_code == 1 and "--label" in result.output, result.output
  assert _snapshot(finished_run.parent) == run_before
  assert not (finished_run / "deploy").exists()


def test_a_lock_file_linked_outside_is_not_followed(tmp_path):
  out = tmp_path / "out"
  out.mkdir()
  (out / ".lock").symlink_to(tmp_path / "victim")
  with pytest.raises(ValueError, match="cannot open the lock file"):
    with exclusive_lock(out):
      pass
  assert not (tmp_path / "victim").exists()


def test_a_report_naming_files_outside_the_run_is_not_bundled(finished_run, tmp_path):
  run = tmp_path / "run"
  shutil.copytree(finished_run, run)
  report = json.loads((run / "report.json").read_text())
  good = json.dumps(report)
  for key, value in (("name", "../../escaped"), ("path", "../../../etc/hostname")):
    report = json.loads(good)
    report["artifacts"][0][key] = value
    (run / "report.json").write_text(json.dumps(report))
    result = CliRunner().invoke(main, ["deploy", "pi", "--run", str(run), "--bundle-only",
                                       str(tmp_path / "bundle")])
    assert result.exit_code == 1 and value in result.output, result.output
  assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
