"""docs/distillation.md's done-when column is each row's target (experiments/distillation/
rows.yaml) applied to its runs in docs/results/distill_runs.json, and its GLNN latency table
holds the figures of docs/results/glnn_latency.json."""
import json
import pathlib
import re

import numpy as np

from quoted_results import DISTILL_RUNS, DISTILLATION, ROWS, meets_target

ROOT = pathlib.Path(__file__).resolve().parents[1]



def test_done_when_column_is_the_target_on_the_recorded_runs():
  table = {line.split(" | ")[0].lstrip("| "): line.split(" | ")
           for line in DISTILLATION.split("## Configurations")[0].splitlines()
           if line.startswith("| ") and not line.startswith("| row ")}
  assert list(table) == list(ROWS)
  for name, row in ROWS.items():
    runs = [r for r in DISTILL_RUNS if r["row"] == name]
    verdict = "met" if meets_target(row["target"], runs) else "NOT met"
    assert table[name][6] == verdict, name
    student = f"{100 * np.mean([r['student'] for r in runs]):.1f}"
    assert table[name][5].startswith(student), name


def test_target_rules_compare_means():
  runs = lambda student, baseline, teacher=0.8: [
      {"student": student + d, "baseline": baseline + d, "teacher": teacher}
      for d in (-0.01, 0.0, 0.01)]
  assert meets_target(">=baseline", runs(0.80, 0.80))          # at least as good
  assert not meets_target(">=baseline", runs(0.799, 0.80))
  assert not meets_target("baseline", runs(0.80, 0.80))         # must beat
  assert meets_target("baseline", runs(0.801, 0.80))
  assert meets_target("teacher+2", runs(0.821, 0.0, teacher=0.80))
  assert not meets_target("teacher+2", runs(0.819, 0.0, teacher=0.80))


def test_latency_table_is_the_json():
  bench = json.loads((ROOT / "docs" / "results" / "glnn_latency.json").read_text())
  node = bench["per_node_latency_ms"]
  ratio = bench["per_node_p50_ratio_teacher_over_student"]
  line = next(l for l in DISTILLATION.splitlines() if l.startswith("| per-node p50 (ms) |"))
  assert re.findall(r"\d+\.\d+", line) == [f"{node['student']['p50']:.3f}",
                                          f"{node['teacher']['p50']:.3f}", f"{ratio:.1f}"]
