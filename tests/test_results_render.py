"""Results tables rendered from their JSON are up to date in the docs (each tool's --check
re-renders the table from the committed JSON and compares)."""
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("tool", ["render_quant_noise.py", "render_fast_artifacts.py"])
def test_rendered_tables_match_their_json(tool):
  done = subprocess.run([sys.executable, str(ROOT / "tools" / tool), "--check"],
                        capture_output=True, text=True)
  assert done.returncode == 0, done.stderr


def _ratio(dataset: str, artifact: str) -> float:
  import json
  run = json.loads((ROOT / "docs" / "results" / f"fast_artifacts_{dataset}.json").read_text())
  return run["results"][artifact]["x_baseline_p50"]


def test_quoted_stock_ratios_are_the_json_ones():
  """The README and docs/fast_artifacts.md quote the float32 sparse-feature GCN's ratio to
  stock float32 as measured, to two decimals."""
  readme = (ROOT / "README.md").read_text()
  page = (ROOT / "docs" / "fast_artifacts.md").read_text()
  cora = f"{_ratio('cora', 'gcn_binary_features.tflite-float32'):.2f}"
  citeseer = f"{_ratio('citeseer', 'gcn_binary_features.tflite-float32'):.2f}"
  for figure in (f"{cora}x", f"{citeseer}x"):
    assert figure in readme, figure
  for figure in (cora, citeseer):
    assert figure in page, figure
