"""The microcontroller kit (deploy/mcu): its TFLM pin matches the tflite-micro package that
measures arenas, and its Makefile writes sources that fit the measured arena and compile.

TFLM itself is cloned from GitHub by `make tflm`, which this machine cannot reach, so the
library and app targets are not built here (docs/devices.md says so).
"""
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from edgegnn.runtime import arena
from test_deploy_runtime import models  # noqa: F401  (the module's model fixture)

KIT = Path(__file__).resolve().parents[1] / "deploy" / "mcu"
ROOT = KIT.parents[1]


def _makefile_revision() -> str:
  return re.search(r"^TFLM_REVISION := ([0-9a-f]+)$", (KIT / "Makefile").read_text(),
                   re.M).group(1)


def test_tflm_pin_is_the_commit_the_python_package_was_built_from():
  text = metadata.metadata("tflite_micro").get_payload()
  built_from = re.search(r"built from commit\s*\[([0-9a-f]+)\]", text).group(1)
  assert _makefile_revision() == built_from


def test_make_sources_writes_the_measured_arena_and_compiling_sources(  # noqa: F811
    models, tmp_path):
  kit = tmp_path / "mcu"
  shutil.copytree(KIT, kit)
  model = models["paths"]["int8"]
  done = subprocess.run(["make", "sources", f"MODEL={model}", f"PYTHON={sys.executable}",
                         "MARGIN=512"], cwd=kit, capture_output=True, text=True, timeout=600,
                        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
  assert done.returncode == 0, done.stderr[-2000:]
  needed = arena.find_arena_size(model.read_bytes())
  header = (kit / "edgegnn_model.h").read_text()
  assert f"#define EDGEGNN_TENSOR_ARENA_SIZE {needed + 512}\n" in header
  subprocess.run(["g++", "-std=c++17", "-Wall", "-c", "edgegnn_model.cc", "-o", "model.o"],
                 cwd=kit, check=True, capture_output=True)


def test_make_refuses_a_checkout_at_another_revision(tmp_path):
  other = tmp_path / "tflite-micro"
  other.mkdir()
  git = ["git", "-C", str(other), "-c", "user.name=t", "-c", "user.email=t@t"]
  subprocess.run(git[:3] + ["init", "-q"], check=True)
  subprocess.run(git + ["commit", "-q", "--allow-empty", "-m", "x"], check=True)
  done = subprocess.run(["make", "check-revision", f"TFLM_DIR={other}"], cwd=KIT,
                        capture_output=True, text=True)
  assert done.returncode != 0 and _makefile_revision() in done.stdout
  missing = subprocess.run(["make", "sources"], cwd=KIT, capture_output=True, text=True)
  assert missing.returncode != 0 and "MODEL=" in missing.stderr
