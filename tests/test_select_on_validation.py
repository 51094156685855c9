"""tools/select_on_validation.py: per-method choice on validation only, ties to the first
listed, and clear errors for a missing report, no matching model or untrained stages."""
import json

import pytest

import tools.select_on_validation as sov


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
  found = sov.candidates([report], ["qat_*", "dq_*"])
  assert [c["model"] for c in found] == ["qat_a", "qat_b", "dq_a", "dq_b"]
  assert found[2]["test_mean"] == pytest.approx(0.71)
  assert found[2]["test_std"] == pytest.approx(0.01)
  assert sov.select(found) == {"qat": "qat_b", "dq": "dq_a"}


def test_main_writes_json_and_table(tmp_path, capsys):
  report = _report(tmp_path, [_model("a", "dq", [0.5], [0.4]), _model("b", "dq", [0.6], [0.3])])
  out = tmp_path / "sel.json"
  sov.main([str(report), "--out", str(out)])
  result = json.loads(out.read_text())
  assert result["selected_on_validation"] == {"dq": "b"}
  assert "| b | dq | 60.0 | 30.0 ± 0.0 | yes |" in capsys.readouterr().out
  assert sov.markdown_table(result).splitlines()[2] == "| a | dq | 50.0 | 40.0 ± 0.0 |  |"


def test_bad_input_is_named_and_nothing_is_written(tmp_path):
  out = tmp_path / "sel.json"
  with pytest.raises(FileNotFoundError, match="no such report.json"):
    sov.main([str(tmp_path / "missing.json"), "--out", str(out)])
  report = _report(tmp_path, [_model("a", "dq", [0.5], [0.4])])
  with pytest.raises(ValueError, match=r"no model of .* matches qat\*"):
    sov.main([str(report), "--models", "qat*", "--out", str(out)])
  ptq = {"name": "ptq_int8", "method": "ptq", "runs": [{"seed": 0, "test_accuracy": 0.5}]}
  with pytest.raises(ValueError, match="no per-run validation accuracy"):
    sov.main([str(_report(tmp_path, [ptq], "ptq.json")), "--out", str(out)])
  assert not out.exists()
