"""`edgegnn run --dry-run` checks a whole pipeline file without TensorFlow: every shipped
pipeline validates and prints its plan in a process where `import tensorflow` fails, and
a missing file fails before any heavy import."""
import json
import pathlib
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
PIPELINES = sorted((ROOT / "pipelines").glob("*.yaml"))

# Runs the CLI with TensorFlow made unimportable; exits 3 if anything imported it anyway.
_NO_TENSORFLOW = """
import sys
sys.modules['tensorflow'] = None
from edgegnn.cli import main
try:
  main(sys.argv[1:], standalone_mode=False)
except Exception as e:
  print(type(e).__name__, e, file=sys.stderr)
  sys.exit(3 if 'tensorflow' in str(e) else 1)
"""


def _run(*args):
  return subprocess.run([sys.executable, "-c", _NO_TENSORFLOW, *args], capture_output=True,
                        text=True, cwd=ROOT, timeout=120, check=False)


def test_the_shipped_pipelines_are_in_the_package():
  assert PIPELINES and all(p.resolve().parent == ROOT / "edgegnn" / "pipelines"
                           for p in PIPELINES)


# The pipeline side imports no TensorFlow (`edgegnn run missing.yaml` below), but the config
# classes its stages build still live in modules that import it: the package __init__s of
# edgegnn.quantization, edgegnn.training, edgegnn.distill and edgegnn.binary import their
# TensorFlow modules eagerly; edgegnn.deploy.convert holds FORMATS / TARGETS;
# BinarizeConfig / BinarySpec live in binary/staged.py and binary/models.py; CPFConfig and
# the gfkd check read cpf.CONFIDENCES and fake_graphs.FEATURE_SUPPORT_TEACHER. Strict: this
# fails as soon as those move, so the mark is removed then.
class TensorFlowImported(AssertionError):
  """The dry run imported TensorFlow (any other failure fails the test)."""


BLOCKED = pytest.mark.xfail(strict=True, raises=TensorFlowImported,
                            reason="config classes in TensorFlow modules")


@BLOCKED
@pytest.mark.parametrize("path", PIPELINES, ids=[p.stem for p in PIPELINES])
def test_dry_run_validates_every_stage_without_tensorflow(path):
  done = _run("run", str(path), "--dry-run", "--json")
  if done.returncode == 3:
    raise TensorFlowImported(done.stderr)
  assert done.returncode == 0, done.stderr
  plan = json.loads(done.stdout)
  raw = yaml.safe_load(path.read_text())
  assert [s["kind"] for s in plan["stages"]] == [next(iter(s)) for s in raw["stages"]]
  assert plan["pipeline"] == raw.get("name", path.stem)


def test_a_pipeline_runs_by_its_shipped_name(tmp_path):
  done = subprocess.run([sys.executable, "-m", "edgegnn.cli", "run", "quickstart",
                         "--dry-run", "--json", "--out", "elsewhere"], capture_output=True,
                        text=True, cwd=tmp_path, timeout=300, check=False)
  assert done.returncode == 0, done.stderr
  plan = json.loads(done.stdout)
  assert plan["pipeline"] == "quickstart" and len(plan["stages"]) == 8
  assert plan["out"] == "elsewhere"
  assert pathlib.Path(plan["source"]).resolve() == (ROOT / "pipelines" / "quickstart.yaml").resolve()
  assert not any(tmp_path.iterdir())  # a dry run writes nothing


def test_a_missing_file_fails_before_tensorflow_is_imported(tmp_path):
  missing = tmp_path / "missing.yaml"
  done = _run("run", str(missing))
  assert done.returncode == 1, done.stderr
  assert str(missing) in done.stderr and "quickstart" in done.stderr  # names the shipped ones
