"""The distillation done-when rows, 5 seeds each (slow: tens of minutes on 2 cores).

Run with `python -m pytest -m slow tests/test_distill_targets.py`. Each row runs through
`tools/distill_results.py --runs FILE --no-render` (fresh runs in a file of the test's own),
and its target from experiments/distillation/rows.yaml is checked on the five students.
"""
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from quoted_results import ROWS, meets_target

pytestmark = pytest.mark.slow
ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("row", list(ROWS))
def test_row_meets_its_target_over_five_seeds(row, tmp_path):
  runs_file = tmp_path / "runs.json"
  subprocess.run([sys.executable, "tools/distill_results.py", "--rows", row, "--seeds", "0", "1",
                  "2", "3", "4", "--runs", str(runs_file), "--no-render"], cwd=ROOT, check=True,
                 capture_output=True, timeout=6 * 3600)
  runs = json.loads(runs_file.read_text())
  assert len(runs) == 5
  assert meets_target(ROWS[row]["target"], runs), (
      row, np.mean([r["student"] for r in runs]), runs)
