"""The human report: tables, Pareto fronts, plots and a self-contained HTML file."""
import json
import re

import pytest

from edgegnn.pipeline import report as report_lib

# Sizes, latencies and accuracies chosen so the fronts are known by hand:
#   size front: c (1000 B, 0.80), b (3000 B, 0.81), a (10000 B, 0.82); d is dominated by c.
#   latency front: b (1.0 ms, 0.81), a (2.0 ms, 0.82); c (3 ms) and d (4 ms) are dominated.
REPORT = {
    "edgegnn_version": "0.1.0", "pipeline": "tiny", "dataset": "cora",
    "models": [
        {"name": "gcn", "architecture": "gcn", "method": "fp32", "bits": 32, "params": 23063,
         "test_accuracy": 0.8186666, "test_accuracy_std": 0.0028674, "runs": [{}, {}, {}]},
        {"name": "gcn_dq8", "architecture": "gcn", "method": "degree_quant", "bits": 8,
         "weight_bits": 8, "activation_bits": 8, "params": 23063, "test_accuracy": 0.805,
         "test_accuracy_std": 0.0, "runs": [{}]},
    ],
    "artifacts": [
        {"name": "a", "format": "tflite-float32", "bytes": 10000, "runtime": "litert",
         "test_accuracy": 0.82, "agreement": 1.0, "latency_ms": {"p50": 2.0, "p90": 2.5},
         "layer_bits": [{"op": "FULLY_CONNECTED", "weight_shape": [16, 8], "weight_bits": 32,
                         "activation_bits": 32}]},
        {"name": "b", "format": "tflite-float16", "bytes": 3000, "runtime": "litert",
         "test_accuracy": 0.81, "agreement": 0.99, "latency_ms": {"p50": 1.0, "p90": 1.25},
         "layer_bits": [{"op": "FULLY_CONNECTED", "weight_shape": [16, 8], "weight_bits": 16,
                         "activation_bits": 32}]},
        {"name": "c", "format": "tflite-int8", "bytes": 1000, "runtime": "tflm",
         "test_accuracy": 0.80, "agreement": 0.975, "latency_ms": {"p50": 3.0, "p90": 3.5},
         "arena_bytes": 16384,
         "layer_bits": [{"op": "FULLY_CONNECTED", "weight_shape": [16, 8], "weight_bits": 8,
                         "activation_bits": 8},
                        {"op": "FULLY_CONNECTED", "weight_shape": [7, 16], "weight_bits": 8,
                         "activation_bits": 8}]},
        {"name": "d", "format": "tflite-dynamic-int8", "bytes": 1200, "runtime": "litert",
         "test_accuracy": 0.79, "agreement": 0.97, "latency_ms": {"p50": 4.0, "p90": 5.0},
         "layer_bits": []},
    ],
    "devices": [{"label": "pi5", "host": "pi@pi5", "machine": "aarch64", "threads": 1,
                 "runs": 20,
                 "artifacts": {"a": {"agreement": 1.0, "latency_ms": {"p50": 7.125, "p90": 8.5}},
                               "c": {"error": "no runtime"}}}],
}


def test_pareto_front_golden():
  points = [(10000, 0.82), (3000, 0.81), (1000, 0.80), (1200, 0.79)]
  assert report_lib.pareto_front(points) == [2, 1, 0]
  assert report_lib.pareto_front([(2.0, .82), (1.0, .81), (3.0, .80), (4.0, .79)]) == [1, 0]
  # Equal points both stay; a point equal in cost but less accurate goes.
  assert report_lib.pareto_front([(1, .5), (1, .5), (1, .4)]) == [0, 1]
  assert report_lib.pareto_front([]) == []


def test_tables_rows_and_numbers():
  header, rows = report_lib.model_rows(REPORT)
  assert header[:6] == ["model", "architecture", "method", "bits", "params",
                        "test accuracy (%)"]
  assert rows == [["gcn", "gcn", "fp32", "32", "23063", "81.87 ± 0.29", "3"],
                  ["gcn_dq8", "gcn", "degree_quant", "w8/a8", "23063", "80.50 ± 0.00", "1"]]
  header, rows = report_lib.artifact_rows(REPORT)
  assert header[-3:] == ["pi5 agreement", "pi5 p50 (ms)", "pi5 p90 (ms)"]
  assert rows[0] == ["a", "tflite-float32", "10000", "litert", "82.00", "1.0000", "2.00",
                     "2.50", "–", "1.0000", "7.12", "8.50"]
  assert rows[2] == ["c", "tflite-int8", "1000", "tflm", "80.00", "0.9750", "3.00", "3.50",
                     "16384", "error", "–", "–"]
  assert rows[3][-3:] == ["–", "–", "–"]


def test_write_report_files(tmp_path):
  (tmp_path / "report.json").write_text(json.dumps(REPORT))
  files = report_lib.write_report(tmp_path)
  md = files.markdown.read_text()
  assert "| b | tflite-float16 | 3000 | litert | 81.00 | 0.9900 | 1.00 | 1.25 | – |" in md
  assert "- Pareto front (size): c, b, a" in md
  assert "- Pareto front (p50 latency): b, a" in md
  assert "| c | 2 | FULLY_CONNECTED | 7x16 | 8 | 8 |" in md
  for path in files.plots.values():
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 5000
  page = files.html.read_text()
  assert page.count("src='data:image/png;base64,") == 3
  # Self-contained: no reference to anything outside the file.
  text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "DATA", page)
  assert not re.search(r"(https?:|//|<link|<script|url\(|src=['\"](?!DATA))", text)
  assert "<td>81.87 ± 0.29</td>" in page


def test_missing_report_json_names_the_fix(tmp_path):
  with pytest.raises(FileNotFoundError, match="edgegnn run PIPELINE"):
    report_lib.write_report(tmp_path)


def _with_stock(report):
  """REPORT plus a stock comparison, model names and per-node latency on artifact b."""
  report = json.loads(json.dumps(report))
  for a, model, side in zip(report["artifacts"], ["gcn", "gcn", "gcn_dq8", "gcn"],
                            [2.2, 1.1, 3.3, 4.4]):
    a["model"] = model
    a["side_by_side_p50_ms"] = side
    a["x_stock_p50"] = side / 4.0
    a["x_stock_bytes"] = a["bytes"] / 8000
  report["artifacts"][1]["per_node_latency_ms"] = {"p50": 0.0125, "p90": 0.02}
  report["stock_comparison"] = {
      "baseline": "stock-float32", "hidden_units": 16, "rounds": 5,
      "anchors": {"stock-float32": {"p50_ms": 4.0, "p90_ms": 4.5, "bytes": 8000},
                  "stock-dynamic-int8": {"p50_ms": 5.0, "p90_ms": 6.0, "bytes": 2000}}}
  return report


def test_fp32_baseline_and_stock_rows_and_ratio_columns():
  report = _with_stock(REPORT)
  assert report_lib.baseline_artifact(report)["name"] == "a"   # float32 of the fp32 model
  header, rows = report_lib.artifact_rows(report)
  column = {h: i for i, h in enumerate(header)}
  by_name = {r[0]: r for r in rows}
  assert list(by_name)[:3] == ["stock-float32 (stock TFLite path)",
                               "stock-dynamic-int8 (stock TFLite path)", "a (FP32 baseline)"]
  # x fp32: side-by-side p50 and bytes over the baseline's (a: 2.2 ms, 10000 B).
  for name, p50, size in (("a (FP32 baseline)", 2.2, 10000), ("b", 1.1, 3000),
                          ("c", 3.3, 1000), ("stock-float32 (stock TFLite path)", 4.0, 8000)):
    assert by_name[name][column["x fp32 p50"]] == f"{p50 / 2.2:.3f}"
    assert by_name[name][column["x fp32 bytes"]] == f"{size / 10000:.3f}"
  stock_int8 = by_name["stock-dynamic-int8 (stock TFLite path)"]
  assert stock_int8[column["x stock p50"]] == "1.250" and stock_int8[column["x stock bytes"]] == "0.250"
  assert stock_int8[column["accuracy (%)"]] == "–"
  assert by_name["b"][column["per-node p50 (ms)"]] == "0.0125"
  assert by_name["c"][column["per-node p50 (ms)"]] == "–"


def test_no_baseline_without_a_float32_artifact_of_an_fp32_model():
  report = _with_stock(REPORT)
  report["artifacts"][0]["model"] = "gcn_dq8"
  assert report_lib.baseline_artifact(report) is None
  header, _ = report_lib.artifact_rows(report)
  assert "x fp32 p50" not in header and "x stock p50" in header


def _text_boxes(fig):
  fig.canvas.draw()
  renderer = fig.canvas.get_renderer()
  from matplotlib.text import Text  # pylint: disable=g-import-not-at-top
  texts = {id(t): t for t in fig.findobj(Text)}
  return [(t.get_text(), t.get_window_extent(renderer)) for t in texts.values()
          if t.get_visible() and t.get_text().strip()]


def test_plot_labels_never_overlap_even_for_coinciding_points():
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  from edgegnn.pipeline import report_plots
  points = [report_plots.Point(f"artifact_number_{i}.tflite-int8", 1000 + i, 0.8,
                               on_front=i == 0, baseline=i == 1) for i in range(14)]
  references = [report_plots.Reference("FP32 Keras gcn (81.9 %)", accuracy=0.819),
                report_plots.Reference("stock-float32 (stock TFLite path)", cost=1005)]
  fig = report_plots.accuracy_figure(points, references, "bytes", log_x=True)
  boxes = _text_boxes(fig)
  assert sum("artifact_number_" in text for text, _ in boxes) == 14
  for i, (text_i, box_i) in enumerate(boxes):
    for text_j, box_j in boxes[i + 1:]:
      assert not box_i.overlaps(box_j), (text_i, text_j)
  plt.close(fig)
  bits = {f"artifact_{i}": [{"weight_bits": 8, "activation_bits": 8}] * 4 for i in range(6)}
  fig = report_plots.bits_figure(bits)
  boxes = _text_boxes(fig)
  for i, (text_i, box_i) in enumerate(boxes):
    for text_j, box_j in boxes[i + 1:]:
      assert not box_i.overlaps(box_j), (text_i, text_j)
  plt.close(fig)
