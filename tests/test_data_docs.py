"""docs/data.md's format examples run as printed: each Python block that ends with
`print(...)   # EXPECTED` is run in a fresh directory (the npz block first, the others
may read its ring.npz) and prints EXPECTED. Blocks that import TensorFlow run with -m slow."""
import pathlib
import re
import subprocess
import sys

import pytest

DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "data.md"


def _examples():
  blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
  found = []
  for block in blocks:
    last = block.rstrip().splitlines()[-1]
    match = re.match(r"print\(.*\)\s+# (.+)$", last)
    if match:
      found.append((block, match.group(1).strip()))
  return found


EXAMPLES = _examples()


def test_every_format_has_a_checked_example():
  assert len(EXAMPLES) >= 4
  for fmt in ("npz", "csv", "ogb", "tfgnn"):
    assert any(f'"format": "{fmt}"' in block for block, _ in EXAMPLES), fmt


@pytest.mark.parametrize("index", [
    pytest.param(i, marks=pytest.mark.slow) if "tensorflow" in block else i
    for i, (block, _) in enumerate(EXAMPLES)])
def test_example_prints_what_the_doc_says(tmp_path, index):
  npz_block = next(block for block, _ in EXAMPLES if "np.savez(" in block)
  block, expected = EXAMPLES[index]
  if block is not npz_block:   # some examples read ring.npz
    subprocess.run([sys.executable, "-c", npz_block], cwd=tmp_path, check=True,
                   capture_output=True)
  result = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True,
                          text=True)
  assert result.returncode == 0, result.stderr[-2000:]
  assert result.stdout.strip().splitlines()[-1] == expected
