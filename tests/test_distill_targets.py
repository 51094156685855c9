"""The distillation done-when rows, 5 seeds each (slow: tens of minutes on 2 cores).

Run with `python -m pytest -m slow tests/test_distill_targets.py`; the same runs, with the
table, come from `python tools/distill_results.py`.
"""
import numpy as np
import pytest

import tools.distill_results as results

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("row", list(results.ROWS))
def test_row_meets_its_target_over_five_seeds(row):
  runs = [results.run_one(results.ROWS[row], seed) for seed in range(5)]
  assert results.verdict(results.ROWS[row], runs) == "met", (
      row, np.mean([r["student"] for r in runs]), runs)
