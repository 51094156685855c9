"""Fits a target's `Calibration` from measured per-op latencies.

Each sample is one op of an artifact: its kind (`cost_targets.kind_of`), its roofline time
on the target and its measured time (`cost_profile.profile_ops`: the op run alone on the
target's interpreter). A single-op model's time includes one interpreter invoke, so

  invoke_ms   = the median time of the ops with (almost) no work (roofline < 0.1 us:
                shape ops, scalar arithmetic), and
  work        = measured - invoke_ms (at least 0).

Per kind, then per op name (all compute classes pooled) and over all ops ("*"), the work
is fitted as fixed_ms + slowdown * roofline_ms by least squares on relative error (each op
weighs the same whatever its size), both terms kept >= 0. A kind seen once gets the
slowdown of its one sample.
"""
from __future__ import annotations

import collections
import dataclasses
from typing import Iterable, Sequence

import numpy as np

from edgegnn.deploy.cost import CostReport
from edgegnn.deploy.cost_profile import OpRun
from edgegnn.deploy.cost_targets import Calibration

_NO_WORK_MS = 1e-4


@dataclasses.dataclass(frozen=True)
class OpSample:
  """One measured op: its kind, op name, roofline time and measured time (ms)."""
  kind: str
  name: str
  roofline_ms: float
  measured_ms: float


def op_samples(report: CostReport, runs: Sequence[OpRun]) -> list[OpSample]:
  """Pairs the ops of a cost report with their measured single-op times.

  Raises:
    ValueError: the two list different ops (not the same artifact).
  """
  if [op.index for op in report.ops] != [run.index for run in runs]:
    raise ValueError("op_samples: the report and the runs are not of the same artifact.")
  return [OpSample(op.kind, op.name, op.roofline_ms, run.latency_ms)
          for op, run in zip(report.ops, runs) if run.latency_ms is not None]


def _fit(roofline: np.ndarray, work: np.ndarray) -> tuple[float, float]:
  """(fixed, slowdown) >= 0 minimising sum(((fixed + slowdown * r - w) / w') ** 2)."""
  weight = 1.0 / np.maximum(work, 1e-3) ** 2
  if len(work) == 1 or np.ptp(roofline) <= 1e-12:
    if roofline.max() > _NO_WORK_MS:
      return 0.0, float(np.sum(weight * roofline * work) / np.sum(weight * roofline ** 2))
    return float(np.median(work)), 1.0
  a = np.stack([np.ones_like(roofline), roofline], axis=1) * np.sqrt(weight)[:, None]
  (fixed, slowdown), *_ = np.linalg.lstsq(a, work * np.sqrt(weight), rcond=None)
  if fixed < 0:
    fixed, slowdown = 0.0, float(np.sum(weight * roofline * work)
                                 / max(np.sum(weight * roofline ** 2), 1e-30))
  if slowdown < 0:
    fixed, slowdown = float(np.sum(weight * work) / np.sum(weight)), 0.0
  return float(fixed), float(slowdown)


def fit_calibration(samples: Iterable[OpSample], source: str = "") -> Calibration:
  """The `Calibration` of the samples (module doc).

  Raises:
    ValueError: no samples.
  """
  samples = list(samples)
  if not samples:
    raise ValueError("fit_calibration needs at least one measured op.")
  measured = np.array([s.measured_ms for s in samples])
  roofline = np.array([s.roofline_ms for s in samples])
  idle = measured[roofline < _NO_WORK_MS]
  invoke = float(np.median(idle)) if len(idle) else float(measured.min())
  work = np.maximum(measured - invoke, 0.0)
  groups: dict[str, list[int]] = collections.defaultdict(list)
  for i, s in enumerate(samples):
    groups[s.kind].append(i)
    groups[s.name].append(i)
    groups["*"].append(i)
  fixed, slowdown = {}, {}
  for key, rows in sorted(groups.items()):
    fixed[key], slowdown[key] = _fit(roofline[rows], work[rows])
  return Calibration(invoke_ms=invoke, fixed_ms=fixed, slowdown=slowdown, source=source)
