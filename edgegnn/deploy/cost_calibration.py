"""Fits a target's `Calibration` from measured per-op latencies.

Each sample is one op of an artifact: its kind (`cost_targets.kind_of`), its roofline time
on the target and its measured time (`cost_profile.profile_ops`: the op run alone on the
target's interpreter). A single-op model's time includes one interpreter invoke, so

  invoke_ms   = the median time of the ops with (almost) no work (roofline < 0.1 us:
                shape ops, scalar arithmetic), and
  work        = measured - invoke_ms (at least 0).

Per kind, then per op name (all compute classes pooled) and over all ops ("*"), the work
is fitted as fixed_ms + slowdown * roofline_ms: slowdown = the kind's total work over its
total roofline time (so the large ops, which make a model's latency, set it), fixed = the
median of the remainder (at least 0: the cost of the kind's small ops beyond their
roofline). A kind or op name needs two samples; with fewer, `Calibration.lookup` falls
back to the op name, then to "*".
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
_MIN_SAMPLES = 2


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
  """(fixed, slowdown): slowdown = total work / total roofline time (large ops weigh
  most, as they do in a model's latency), fixed = the median of what is left (>= 0)."""
  total = float(roofline.sum())
  slowdown = float(work.sum()) / total if total > 0 else 0.0
  return max(0.0, float(np.median(work - slowdown * roofline))), slowdown


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
    if len(rows) >= _MIN_SAMPLES or key == "*":
      fixed[key], slowdown[key] = _fit(roofline[rows], work[rows])
  return Calibration(invoke_ms=invoke, fixed_ms=fixed, slowdown=slowdown, source=source)
