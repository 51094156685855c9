"""Packaging: bounded dependency ranges, constraints.txt inside them and equal to the tested
environment, the optional extras, pipelines and kits inside the wheel, `edgegnn kit`, and a
missing extra reported by name."""
import importlib.metadata
import json
import pathlib
import shutil
import subprocess
import sys
import tomllib
import zipfile

import click
import pytest
from click.testing import CliRunner
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from edgegnn import extras
from test_cli_manners import library_log_lines
from edgegnn.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
CONSTRAINTS = {
    canonicalize_name(r.name): r for r in (
        Requirement(line) for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#"))}


def _requirements(extra=None):
  lines = (PROJECT["dependencies"] if extra is None
           else PROJECT["optional-dependencies"][extra])
  return [Requirement(line) for line in lines]


def _pinned(name):
  (spec,) = CONSTRAINTS[canonicalize_name(name)].specifier
  assert spec.operator == "==", spec
  return spec.version


def test_every_dependency_is_a_bounded_range_that_holds_the_constrained_version():
  for extra in (None, "binary", "federated", "mcu", "scale", "dev"):
    for req in _requirements(extra):
      if req.name == "edgegnn":
        continue
      operators = {s.operator for s in req.specifier}
      assert "==" in operators or "<" in operators, f"{req} has no upper bound"
      assert req.specifier.contains(_pinned(req.name), prereleases=True), (req, extra)


def test_constraints_are_the_installed_test_environment():
  for name in ("tensorflow", "tf-keras", "tensorflow-gnn", "ai-edge-litert", "numpy", "larq",
               "larq-compute-engine", "flwr", "tflite-micro", "apache-beam"):
    assert importlib.metadata.version(name) == _pinned(name), name


def test_extras_cover_the_optional_modules_and_all_collects_them():
  optional = PROJECT["optional-dependencies"]
  assert set(extras.EXTRAS) <= set(optional)
  for module, extra in extras.MODULES.items():
    assert extra in optional, module
  (everything,) = _requirements("all")
  assert everything.name == "edgegnn" and everything.extras == set(extras.EXTRAS)
  core = {canonicalize_name(r.name) for r in _requirements()}
  assert not core & {"larq", "larq-compute-engine", "flwr", "tflite-micro",
                     "tensorflow-model-optimization"}


def test_require_names_the_extra_to_install():
  assert extras.require("scale", "json").__name__ == "json"   # an importable module passes
  with pytest.raises(extras.MissingExtraError, match=r"pip install 'edgegnn\[mcu\]'"):
    extras.require("mcu", "tflite_micro_not_installed_here")
  with pytest.raises(ValueError, match="binary, federated, mcu, scale"):
    extras.require("gpu", "json")


def test_cli_turns_a_missing_optional_module_into_the_extra_to_install():
  @click.command("needs-flower")
  def needs_flower():
    raise ModuleNotFoundError("No module named 'flwr'", name="flwr")
  main.add_command(needs_flower)
  try:
    result = CliRunner(mix_stderr=False).invoke(main, ["needs-flower"])
  finally:
    main.commands.pop("needs-flower")
  assert result.exit_code == 1
  assert "edgegnn[federated]" in result.stderr and "unexpected" not in result.stderr


@pytest.mark.parametrize("name", ["android", "c", "mcu", "pi"])
def test_kit_copies_the_deploy_directory(name, tmp_path):
  out = tmp_path / name
  result = CliRunner().invoke(main, ["kit", name, str(out)])
  assert result.exit_code == 0, result.output
  source = ROOT / "deploy" / name
  expected = {p.relative_to(source) for p in source.rglob("*") if p.is_file()
              and "__pycache__" not in p.parts and "build" not in p.parts}
  copied = {p.relative_to(out) for p in out.rglob("*") if p.is_file()}
  assert copied == expected
  for rel in expected:
    assert (out / rel).read_bytes() == (source / rel).read_bytes()


def test_kit_refuses_a_directory_with_files(tmp_path):
  (tmp_path / "mine.txt").write_text("keep")
  result = CliRunner().invoke(main, ["kit", "pi", str(tmp_path)])
  assert result.exit_code == 1 and "not an empty directory" in result.output
  assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


def test_wheel_ships_pipelines_datasets_and_kits(tmp_path):
  source = tmp_path / "src"             # a copy, so the build writes nothing into the checkout
  skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
  for part in ("edgegnn", "deploy"):
    shutil.copytree(ROOT / part, source / part, symlinks=True, ignore=skip)
  for part in ("pyproject.toml", "README.md", "LICENSE"):
    shutil.copy(ROOT / part, source / part)
  subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                  "--quiet", "-w", str(tmp_path), str(source)], check=True, timeout=300,
                 capture_output=True)
  (wheel,) = tmp_path.glob("edgegnn-*.whl")
  names = set(zipfile.ZipFile(wheel).namelist())
  assert "edgegnn/pipelines/quickstart.yaml" in names
  assert "edgegnn/data/files/cora.npz" in names
  for kit in ("android", "c", "mcu", "pi"):
    source = ROOT / "deploy" / kit
    for path in source.rglob("*"):
      if path.is_file() and "__pycache__" not in path.parts:
        assert f"edgegnn/kits/{kit}/{path.relative_to(source).as_posix()}" in names, path
  metadata = zipfile.ZipFile(wheel).read(
      next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
  assert "Provides-Extra: binary" in metadata and "Provides-Extra: all" in metadata


@pytest.mark.slow
def test_core_wheel_in_a_fresh_venv_runs_the_main_job_plan_and_a_float_artifact(tmp_path):
  """The wheel with core dependencies only (pip, the registry, constraints.txt): the
  quickstart's plan by name, then train -> convert -> bench of a float32 artifact, with no
  library log on stderr; a missing extra is named. Minutes: it downloads TensorFlow."""
  source = tmp_path / "src"
  skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
  for part in ("edgegnn", "deploy"):
    shutil.copytree(ROOT / part, source / part, symlinks=True, ignore=skip)
  for part in ("pyproject.toml", "README.md", "LICENSE"):
    shutil.copy(ROOT / part, source / part)
  dist, venv, work = tmp_path / "dist", tmp_path / "venv", tmp_path / "work"
  work.mkdir()
  run = lambda *args, **kw: subprocess.run([str(a) for a in args], capture_output=True,
                                           text=True, check=False, cwd=work, **kw)
  assert run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
             dist, source, timeout=600).returncode == 0
  assert run(sys.executable, "-m", "venv", venv, timeout=300).returncode == 0
  (wheel,) = dist.glob("edgegnn-*.whl")
  done = run(venv / "bin" / "pip", "install", "-q", "-c", ROOT / "constraints.txt", wheel,
             timeout=3600)
  assert done.returncode == 0, done.stderr[-3000:]
  edgegnn = venv / "bin" / "edgegnn"
  assert run(edgegnn, "train", "--dataset", "cora", "--epochs", "5", "--out", "m",
             timeout=1800).returncode == 0
  converted = run(edgegnn, "convert", "m", "--format", "tflite-float32", "-o", "gcn.tflite",
                  "--json", timeout=1800)
  assert converted.returncode == 0, converted.stderr
  assert library_log_lines(converted.stderr) == [], converted.stderr
  assert json.loads(converted.stdout)["agreement"] >= 0.99
  bench = run(edgegnn, "bench", "gcn.tflite", "--runs", "20", "--json", timeout=600)
  assert bench.returncode == 0, bench.stderr
  assert library_log_lines(bench.stderr) == [], bench.stderr
  assert json.loads(bench.stdout)["latency_ms"]["p50"] > 0
  missing = run(venv / "bin" / "python", "-c",
                "from edgegnn import extras; extras.require('binary', 'larq')", timeout=300)
  assert "edgegnn[binary]" in missing.stderr
  plan = run(edgegnn, "run", "quickstart", "--dry-run", timeout=600)
  assert plan.returncode == 0, plan.stderr
  assert "binarize" in plan.stdout
