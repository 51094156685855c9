"""How well a target's cost model ranks artifacts: leave-one-model-out calibration.

Each artifact record (as `tools/bench_cost_model.py` writes them) holds its `group` (the
trained model it was exported from), its measured latency (`measured_ms`, fastest run;
`measured_p50_ms`), its roofline time, predicted peak memory, the memory it added to a
fresh process, and its ops as rows `[index, name, kind, bound, roofline_ms, measured_ms]`.

An artifact's prediction uses a `Calibration` fitted on the ops of every OTHER trained
model only, so no artifact is predicted from its own measurements (nor from its siblings
exported from the same weights).
"""
from __future__ import annotations

import numpy as np

from edgegnn.deploy import cost_calibration


def _ranks(values) -> np.ndarray:
  """Ranks 0..n-1, ties sharing their mean rank."""
  values = np.asarray(values, np.float64)
  ranks = np.empty(len(values))
  ranks[values.argsort(kind="stable")] = np.arange(len(values))
  for value in np.unique(values):
    tied = values == value
    ranks[tied] = ranks[tied].mean()
  return ranks


def spearman(x, y) -> float:
  """Spearman's rank correlation: Pearson's correlation of the (tie-averaged) ranks."""
  return float(np.corrcoef(_ranks(x), _ranks(y))[0, 1])


def _samples(a: dict) -> list:
  return [cost_calibration.OpSample(kind, name, roofline, measured)
          for _, name, kind, _, roofline, measured in a["ops"]]


def _predict(a: dict, calibration) -> tuple[float, float]:
  """(predicted ms, memory-bound share) of an artifact's ops under a calibration."""
  times = []
  for _, _, kind, bound, roofline, _ in a["ops"]:
    fixed, slowdown = calibration.lookup(kind)
    times.append((bound, fixed + slowdown * roofline))
  total = calibration.invoke_ms + sum(t for _, t in times)
  return total, sum(t for b, t in times if b == "memory") / max(total, 1e-12)


def leave_one_model_out(artifacts: list[dict]) -> dict:
  """Adds `predicted_ms`, `memory_bound_share` and `sum_of_ops_ms` to every artifact;
  returns the rank correlations and the calibration fitted on every op."""
  for a in artifacts:
    held_out = [s for b in artifacts if b["group"] != a["group"] for s in _samples(b)]
    a["predicted_ms"], a["memory_bound_share"] = _predict(
        a, cost_calibration.fit_calibration(held_out))
    a["sum_of_ops_ms"] = float(sum(op[5] for op in a["ops"]))
  full = cost_calibration.fit_calibration(
      [s for a in artifacts for s in _samples(a)],
      source="tools/bench_cost_model.py: every op of every artifact")
  measured = [a["measured_ms"] for a in artifacts]
  p50 = [a["measured_p50_ms"] for a in artifacts]
  predicted = np.array([a["predicted_ms"] for a in artifacts])
  return {
      "spearman_calibrated_leave_one_model_out": spearman(predicted, measured),
      "spearman_calibrated_leave_one_model_out_vs_p50": spearman(predicted, p50),
      "spearman_roofline_uncalibrated": spearman([a["roofline_ms"] for a in artifacts],
                                                 measured),
      "spearman_sum_of_measured_ops": spearman([a["sum_of_ops_ms"] for a in artifacts],
                                               measured),
      "median_abs_log_ratio_calibrated": float(np.median(np.abs(np.log(
          predicted / np.array(measured))))),
      "spearman_peak_memory": spearman(
          [a["predicted_peak_memory_bytes"] for a in artifacts],
          [a["bench"]["model_memory_bytes"] for a in artifacts]),
      "calibration": full.to_json(),
  }
