"""tools/pipeline_results.py keeps exactly the recorded figures of a report.json (run as users
run it, with --summarize: nothing is trained)."""
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_summarize_keeps_accuracies_and_artifact_figures_only(tmp_path):
  report = {
      "edgegnn_version": "0.1.0", "pipeline": "p", "dataset": "cora",
      "models": [{"name": "gcn", "test_accuracy": 0.815, "params": 23063, "runs": [{}]},
                 {"name": "cpf", "test_accuracy": 0.835, "teacher": "gcn"}],
      "artifacts": [{"name": "a", "model": "cpf", "format": "tflite-float16",
                     "layout": "sparse", "bytes": 169972, "test_accuracy": 0.835,
                     "agreement": 1.0, "ops": {"LOG": 1}, "latency_ms": {"p50": 3.0}}]}
  path = tmp_path / "report.json"
  path.write_text(json.dumps(report))
  done = subprocess.run([sys.executable, "tools/pipeline_results.py", "--summarize", str(path)],
                        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
  assert json.loads(done.stdout) == {
      "models": {"gcn": {"test_accuracy": 0.815},
                 "cpf": {"test_accuracy": 0.835, "teacher": "gcn"}},
      "artifacts": [{"model": "cpf", "format": "tflite-float16", "layout": "sparse",
                     "bytes": 169972, "test_accuracy": 0.835, "agreement": 1.0}]}
