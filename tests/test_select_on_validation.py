"""tools/select_on_validation.py, run as users run it: per-method choice on validation only,
ties to the first listed, the table it prints, and clear errors for a missing report, no
matching model or untrained stages (nothing written then)."""
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _select(*args):
  return subprocess.run([sys.executable, "tools/select_on_validation.py", *map(str, args)],
                        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def _report(tmp_path, models, name="report.json"):
  path = tmp_path / name
  path.write_text(json.dumps({"models": models}))
  return path


def _model(name, method, val, test):
  return {"name": name, "method": method,
          "runs": [{"seed": s, "val_accuracy": v, "test_accuracy": t}
                   for s, (v, t) in enumerate(zip(val, test))]}


def test_selects_per_method_on_validation_not_test(tmp_path):
  report = _report(tmp_path, [
      _model("qat_a", "qat", [0.60, 0.62], [0.90, 0.90]),   # best test, worse validation
      _model("qat_b", "qat", [0.70, 0.72], [0.50, 0.50]),
      _model("dq_a", "dq", [0.80, 0.80], [0.70, 0.72]),
      _model("dq_b", "dq", [0.80, 0.80], [0.99, 0.99]),     # tie on validation: first wins
      _model("fp32", "fp32", [0.9], [0.9])])
  out = tmp_path / "sel.json"
  done = _select(report, "--models", "qat_*", "dq_*", "--out", out)
  assert done.returncode == 0, done.stderr
  result = json.loads(out.read_text())
  assert [c["model"] for c in result["models"]] == ["qat_a", "qat_b", "dq_a", "dq_b"]
  dq_a = result["models"][2]
  assert abs(dq_a["test_mean"] - 0.71) < 1e-9 and abs(dq_a["test_std"] - 0.01) < 1e-9
  assert result["selected_on_validation"] == {"qat": "qat_b", "dq": "dq_a"}
  table = done.stdout.splitlines()
  assert table[2] == "| qat_a | qat | 61.0 | 90.0 ± 0.0 |  |"
  assert table[3] == "| qat_b | qat | 71.0 | 50.0 ± 0.0 | yes |"


def test_bad_input_is_named_and_nothing_is_written(tmp_path):
  out = tmp_path / "sel.json"
  done = _select(tmp_path / "missing.json", "--out", out)
  assert done.returncode != 0 and "no such report.json" in done.stderr
  report = _report(tmp_path, [_model("a", "dq", [0.5], [0.4])])
  done = _select(report, "--models", "qat*", "--out", out)
  assert done.returncode != 0 and "matches qat*" in done.stderr
  ptq = {"name": "ptq_int8", "method": "ptq", "runs": [{"seed": 0, "test_accuracy": 0.5}]}
  done = _select(_report(tmp_path, [ptq], "ptq.json"), "--out", out)
  assert done.returncode != 0 and "no per-run validation accuracy" in done.stderr
  assert not out.exists()
