"""The measured lines that docs/distillation.md and the README quote, the distillation rows, and the arithmetic that
turns them into the quoted figures (shared by the results-docs tests)."""
import json
import re
import pathlib

import numpy as np

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
SELECTION = json.loads((ROOT / "docs" / "results" / "distill_selection.json").read_text())
DISTILLATION = (ROOT / "docs" / "distillation.md").read_text()
README = (ROOT / "README.md").read_text()
DISTILL_RUNS = json.loads((ROOT / "docs" / "results" / "distill_runs.json").read_text())
# The distillation rows (experiments/distillation/rows.yaml), by name, as plain mappings.
ROWS = {r["name"]: r for r in yaml.safe_load(
    (ROOT / "experiments" / "distillation" / "rows.yaml").read_text())["rows"]}


def selection(command):
  """The runs of the one distill_selection.json entry whose command starts with COMMAND."""
  (entry,) = [e for e in SELECTION if e["command"].startswith(command)]
  return entry["runs"]


def mean_val(runs, variant):
  """Mean validation accuracy of VARIANT's runs, in points, as quoted (one decimal)."""
  return f"{100 * np.mean([r['val'] for r in runs if r['v'] == variant]):.1f}"


def mean_val_at(runs, lr, variant):
  """As `mean_val`, among the runs at Adam step LR."""
  return f"{100 * np.mean([r['val'] for r in runs if r['lr'] == lr and r['v'] == variant]):.1f}"


def paired(runs, variant, key="val"):
  """Mean ± standard error of VARIANT minus the same seed's plain GCN, in points."""
  plain = {r["seed"]: r[key] for r in runs if r["v"] == "baseline"}
  diff = 100 * np.array([r[key] - plain[r["seed"]] for r in runs if r["v"] == variant])
  return f"{diff.mean():+.1f} ± {diff.std(ddof=1) / np.sqrt(len(diff)):.1f}"


def row_mean(row, key):
  """Mean of KEY over a distillation row's 5 recorded seeds, in points, as quoted."""
  runs = [r for r in DISTILL_RUNS if r["row"] == row]
  assert len(runs) == 5, (row, len(runs))
  return f"{100 * np.mean([r[key] for r in runs]):.1f}"


def meets_target(target: str, runs: list[dict]) -> bool:
  """The row's target on the means of its runs (the rule the page's done-when column uses)."""
  student = np.mean([r["student"] for r in runs])
  teacher = np.mean([r["teacher"] for r in runs if "teacher" in r] or [np.nan])
  baseline = np.mean([r["baseline"] for r in runs if "baseline" in r] or [np.nan])
  return {"teacher+2": student >= teacher + 0.02,
          "baseline+12&teacher-2": student >= baseline + 0.12 and student >= teacher - 0.02,
          "baseline": student > baseline, ">=baseline": student >= baseline,
          ">=0.70": student >= 0.70}[target]


def figures(text):
  """The numbers in TEXT, in order (digits glued to a word, as in float32 or FP32, are not)."""
  return re.findall(r"(?<![\w.])[-+−]?\d+(?:\.\d+)?(?:e[-+]\d+)?", text)


def assert_quoted(expected, page):
  """The figures of EXPECTED (a quote computed from the JSON) appear in PAGE in the same
  order, one after another: the numbers are checked, never the wording around them."""
  want, have = figures(expected), figures(page)
  assert want, f"no figure in {expected!r}"
  assert any(have[i:i + len(want)] == want for i in range(len(have) - len(want) + 1)), (
      f"the figures {want} ({expected!r}) are not quoted in that order")
