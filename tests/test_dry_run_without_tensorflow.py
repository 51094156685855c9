"""`edgegnn run --dry-run` checks a whole pipeline file without TensorFlow or larq: every
shipped pipeline validates and prints its plan in a process where `import tensorflow` and
`import larq` fail, and a missing file fails before any heavy import. The packages that
load names lazily still give every public name."""
import importlib
import json
import pathlib
import subprocess
import sys
import types

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
PIPELINES = sorted((ROOT / "pipelines").glob("*.yaml"))

# Runs the CLI with TensorFlow and larq made unimportable; exits 3 if anything imported
# them anyway.
_NO_TENSORFLOW = """
import sys
sys.modules['tensorflow'] = None
sys.modules['larq'] = None
from edgegnn.cli import main
try:
  main(sys.argv[1:], standalone_mode=False)
except Exception as e:
  print(type(e).__name__, e, file=sys.stderr)
  sys.exit(3 if 'tensorflow' in str(e) or 'larq' in str(e) else 1)
"""


def _run(*args):
  return subprocess.run([sys.executable, "-c", _NO_TENSORFLOW, *args], capture_output=True,
                        text=True, cwd=ROOT, timeout=120, check=False)


def test_the_shipped_pipelines_are_in_the_package():
  assert PIPELINES and all(p.resolve().parent == ROOT / "edgegnn" / "pipelines"
                           for p in PIPELINES)


# Config classes live in modules free of TensorFlow and larq (`edgegnn.*.config`,
# `edgegnn.deploy.formats`, `edgegnn.distill.cpf_export`); the packages load the rest lazily.
class TensorFlowImported(AssertionError):
  """The dry run imported TensorFlow or larq (any other failure fails the test)."""


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


# The config modules a pipeline file is checked with, and what each builds.
_CONFIGS = """
import sys
sys.modules['tensorflow'] = None
sys.modules['larq'] = None
from edgegnn.binary import BinarizeConfig, BinarySpec
from edgegnn.deploy.formats import FORMATS, TargetError, check_format_target
from edgegnn.distill import GLNN_STUDENT, METHOD_CONFIGS, DistillConfig
from edgegnn.federated import FederatedConfig
from edgegnn.quantization.config import QuantizationConfig
from edgegnn.training import TrainConfig
config = BinarizeConfig.from_dict({"model": {"architecture": "xor_edgeconv", "k": 4}})
assert config.spec == BinarySpec("xor_edgeconv", k=4) and config.spec.task == "graph"
for bad in ({"model": {"quantizer": "sign"}}, {"model": {"metric": "cosine"}},
            {"model": {"activation": "gelu"}}, {"lsp_kernel": "cosine"}):
  try:
    BinarizeConfig.from_dict(bad)
    raise SystemExit(f"accepted {bad}")
  except ValueError:
    pass
for method in METHOD_CONFIGS:
  assert type(DistillConfig(method=method)) is METHOD_CONFIGS[method]
try:
  check_format_target("lce", "mobile")
  raise SystemExit("lce accepted for mobile")
except TargetError:
  pass
assert GLNN_STUDENT.architecture == "mlp" and len(FORMATS) == 7
FederatedConfig(quantization={"method": "dq"}).quantization_config
print("ok")
"""


def test_config_classes_build_and_check_without_tensorflow_or_larq():
  done = subprocess.run([sys.executable, "-c", _CONFIGS], capture_output=True, text=True,
                        cwd=ROOT, timeout=120, check=False)
  assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


# The public names of the packages that load them lazily (as they were when imported eagerly).
PUBLIC = {
    "edgegnn.training": (
        "TrainConfig CrossValidationResult cross_validate GraphTask NodeTask make_task "
        "TrainResult accuracy cross_entropy predict train reestimate_batch_norm"),
    "edgegnn.distill": (
        "METHOD_CONFIGS CPFConfig GFKDConfig GLNNConfig KDConfig LSPConfig "
        "SelfDistillationConfig config_class DistillConfig GLNN_STUDENT distill KERNELS "
        "local_structure lsp_loss union_edges METHODS get"),
    "edgegnn.binary": (
        "knn quantizers BinEdgeConv XorEdgeConv BinaryLinear ARCHITECTURES BinarySpec "
        "binary_layers build_binary_model binary_gcn_conv binary_sage_conv"),
    "edgegnn.quantization": (
        "METHODS QuantizationConfig ActivationQuantizer QuantDense fake_quant POINTS "
        "LayerQuantization ProtectiveMask protection_probability"),
}


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_lazy_packages_give_every_public_name(package):
  module = importlib.import_module(package)
  names = PUBLIC[package].split()
  assert set(names) <= set(module.__all__)
  for name in module.__all__:
    value = getattr(module, name)
    assert value is not None and getattr(module, name) is value, name
  with pytest.raises(AttributeError, match="no attribute 'nothing'"):
    getattr(module, "nothing")


def test_the_distill_function_is_the_package_attribute():
  from edgegnn.distill import distill  # the function, also once its module is imported
  import edgegnn.distill.distill as _  # noqa: F401
  from edgegnn.distill import distill as again
  assert callable(distill) and again is distill
  assert not isinstance(distill, types.ModuleType)
