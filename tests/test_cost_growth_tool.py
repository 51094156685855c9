"""tools/bench_cost_growth.py's arithmetic (no benchmark runs here): per-edge latency, growth
ratios, the issue-25 criterion, the dense-feature skip rule, and that docs/cost_growth.md
quotes the table the tool renders from docs/results/cost_growth.json."""
import json
import pathlib

import pytest

import tools.bench_cost_growth as cg

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _row(variant, n, cpu, peak, repeat=0, wall=None):
  return {"variant": variant, "num_nodes": n, "num_edges": 10 * n, "cpu_p50_ms": cpu,
          "p50_ms": 2 * cpu if wall is None else wall, "peak_bytes": peak, "repeat": repeat}


def test_summary_takes_the_median_p50_the_largest_peak_and_per_edge_ratios():
  rows = [_row("edgegnn-sparse-binary", 10_000, 1.0, 100),
          _row("edgegnn-sparse-binary", 100_000, 10.0, 300, 0),
          _row("edgegnn-sparse-binary", 100_000, 14.0, 200, 1),
          _row("edgegnn-sparse-binary", 100_000, 12.0, 250, 2),
          _row("edgegnn-sparse-binary", 1_000_000, 300.0, 1000),
          {"variant": "stock-float32", "num_nodes": 1_000_000, "skipped": "too big"},
          _row("stock-float32", 100_000, 20.0, 500)]
  summary = cg.summarize(rows)
  points = summary["edgegnn-sparse-binary"]["points"]
  assert points[100_000]["cpu_p50_ms"] == 12.0 and points[100_000]["repeats"] == 3
  assert points[100_000]["p50_ms"] == 24.0 and points[100_000]["best_p50_ms"] == 20.0
  assert points[100_000]["peak_bytes"] == 300
  assert points[100_000]["cpu_ns_per_edge"] == pytest.approx(12e6 / 1e6)
  assert points[100_000]["ns_per_edge"] == pytest.approx(24e6 / 1e6)
  ratios = summary["edgegnn-sparse-binary"]["cpu_per_edge_ratio"]
  assert ratios["100000/10000"] == pytest.approx(1.2)
  assert ratios["1000000/100000"] == pytest.approx(2.5)
  assert summary["edgegnn-sparse-binary"]["per_edge_ratio"] == pytest.approx(ratios)
  assert summary["stock-float32"]["points"][1_000_000] == {"skipped": "too big"}
  assert summary["stock-float32"]["cpu_per_edge_ratio"] == {}


def test_criterion_needs_both_the_peak_and_the_cpu_ratio():
  good = cg.summarize([_row("edgegnn-sparse-binary", 100_000, 10.0, 1, wall=10.0),
                       _row("edgegnn-sparse-binary", 1_000_000, 150.0, 3 * cg.GIB,
                            wall=250.0)])
  assert cg.criterion(good)["met"] and cg.criterion(good)["cpu_per_edge_ratio"] == 1.5
  assert cg.criterion(good)["wall_per_edge_ratio"] == 2.5 and not cg.criterion(good)["wall_met"]
  slow = cg.summarize([_row("edgegnn-sparse-binary", 100_000, 10.0, 1),
                       _row("edgegnn-sparse-binary", 1_000_000, 250.0, 3 * cg.GIB)])
  assert cg.criterion(slow)["peak_met"] and not cg.criterion(slow)["met"]
  big = cg.summarize([_row("edgegnn-sparse-binary", 100_000, 10.0, 1),
                      _row("edgegnn-sparse-binary", 1_000_000, 100.0, 5 * cg.GIB)])
  assert cg.criterion(big)["cpu_met"] and not cg.criterion(big)["met"]
  assert not cg.criterion(cg.summarize([]))["met"]


def test_dense_variants_are_skipped_beyond_the_limit_only():
  limit = 2 * cg.GIB
  assert cg.skip_reason("stock-float32", 100_000, 500, limit) is None
  assert "GiB" in cg.skip_reason("stock-float32", 2_000_000, 500, limit)
  assert cg.skip_reason("edgegnn-sparse-dense", 2_000_000, 500, limit)
  assert cg.skip_reason("edgegnn-sparse-binary", 10**8, 500, limit) is None


def test_docs_quote_the_rendered_table():
  report = json.loads((ROOT / "docs" / "results" / "cost_growth.json").read_text())
  page = (ROOT / "docs" / "cost_growth.md").read_text()
  assert cg.render_table(report) in page
  assert report["command"] in page
