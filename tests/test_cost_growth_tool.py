"""tools/bench_cost_growth.py, run as users run it with `--resummarize` (no benchmark runs
here): per-edge latency, growth ratios and the criterion recomputed from rows, the recorded
JSON reproduced from its own rows, docs/cost_growth.md quoting the table the tool prints, and
the recorded skips following the dense-feature limit."""
import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
RECORDED = json.loads((ROOT / "docs" / "results" / "cost_growth.json").read_text())
GIB = 2**30


def _resummarize(tmp_path, report):
  path = tmp_path / "cost_growth.json"
  path.write_text(json.dumps(report))
  done = subprocess.run([sys.executable, "tools/bench_cost_growth.py", "--resummarize",
                         "--json", str(path), "--plot", str(tmp_path / "plot.png")],
                        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
  assert done.returncode == 0, done.stderr[-2000:]
  return json.loads(path.read_text()), done.stdout


def _row(variant, n, cpu, peak, repeat=0, wall=None):
  return {"variant": variant, "num_nodes": n, "num_edges": 10 * n, "cpu_p50_ms": cpu,
          "p50_ms": 2 * cpu if wall is None else wall, "peak_bytes": peak, "repeat": repeat}


def test_recorded_json_and_page_are_what_the_tool_makes_of_the_rows(tmp_path):
  report, table = _resummarize(tmp_path, RECORDED)
  for key in ("summary", "criterion", "criterion_sorted_edges"):
    assert report[key] == RECORDED[key], key
  page = (ROOT / "docs" / "cost_growth.md").read_text()
  assert table.split("\ncriterion:")[0].strip() in page
  assert RECORDED["command"] in page


def test_summary_takes_the_median_p50_the_largest_peak_and_per_edge_ratios(tmp_path):
  rows = [_row("edgegnn-sparse-binary", 10_000, 1.0, 100),
          _row("edgegnn-sparse-binary", 100_000, 10.0, 300, 0, wall=20.0),
          _row("edgegnn-sparse-binary", 100_000, 14.0, 200, 1, wall=28.0),
          _row("edgegnn-sparse-binary", 100_000, 12.0, 250, 2, wall=24.0),
          _row("edgegnn-sparse-binary", 1_000_000, 150.0, 3 * GIB, wall=250.0),
          {"variant": "stock-float32", "num_nodes": 1_000_000, "skipped": "too big"},
          _row("stock-float32", 100_000, 20.0, 500)]
  report, _ = _resummarize(tmp_path, {**RECORDED, "rows": rows})
  binary = report["summary"]["edgegnn-sparse-binary"]
  point = binary["points"]["100000"]
  assert point["cpu_p50_ms"] == 12.0 and point["repeats"] == 3
  assert point["p50_ms"] == 24.0 and point["best_p50_ms"] == 20.0
  assert point["peak_bytes"] == 300
  assert point["cpu_ns_per_edge"] == pytest.approx(12e6 / 1e6)
  assert binary["cpu_per_edge_ratio"]["100000/10000"] == pytest.approx(1.2)
  assert binary["cpu_per_edge_ratio"]["1000000/100000"] == pytest.approx(1.25)
  assert report["summary"]["stock-float32"]["points"]["1000000"] == {"skipped": "too big"}
  # The criterion: CPU per-edge ratio <= 2 and peak <= 4 GiB at 1 M (wall time reported).
  criterion = report["criterion"]
  assert criterion["met"] and criterion["cpu_per_edge_ratio"] == pytest.approx(1.25)
  assert criterion["wall_per_edge_ratio"] == pytest.approx(250 / 24 / 10)


def test_recorded_skips_follow_the_dense_feature_limit():
  """A dense-feature variant is skipped exactly where its N x F float32 features exceed the
  limit; the binary-feature variants never are."""
  limit = RECORDED.get("dense_limit_gib", 2.0) * GIB
  features = RECORDED.get("num_features", 500)
  for row in RECORDED["rows"]:
    dense = row["variant"] in ("stock-float32", "edgegnn-sparse-dense")
    too_big = row["num_nodes"] * features * 4 > limit
    assert ("skipped" in row) == (dense and too_big), row
