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
