"""tools/pipeline_results.py keeps exactly the README's figures of a report.json."""
import tools.pipeline_results as pipeline_results


def test_summarize_keeps_accuracies_and_artifact_figures_only():
  report = {
      "edgegnn_version": "0.1.0", "pipeline": "p", "dataset": "cora",
      "models": [{"name": "gcn", "test_accuracy": 0.815, "params": 23063, "runs": [{}]},
                 {"name": "cpf", "test_accuracy": 0.835, "teacher": "gcn"}],
      "artifacts": [{"name": "a", "model": "cpf", "format": "tflite-float16",
                     "layout": "sparse", "bytes": 169972, "test_accuracy": 0.835,
                     "agreement": 1.0, "ops": {"LOG": 1}, "latency_ms": {"p50": 3.0}}]}
  assert pipeline_results.summarize(report) == {
      "models": {"gcn": {"test_accuracy": 0.815},
                 "cpf": {"test_accuracy": 0.835, "teacher": "gcn"}},
      "artifacts": [{"model": "cpf", "format": "tflite-float16", "layout": "sparse",
                     "bytes": 169972, "test_accuracy": 0.835, "agreement": 1.0}]}
