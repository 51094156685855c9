"""The dry-run plan: one human-readable line per stage (`edgegnn run --dry-run`)."""
from __future__ import annotations

from edgegnn.pipeline.config import Pipeline


def plan(pipeline: Pipeline) -> list[str]:
  """One human-readable line per stage (what `edgegnn run --dry-run` prints): its number,
  kind, name and what the stage's `describe()` says it will do."""
  lines = [f"pipeline {pipeline.name}: dataset {pipeline.dataset}, out {pipeline.out}"]
  for i, stage in enumerate(pipeline.stages):
    lines.append(f"  {i + 1}. {stage.kind} {stage.produces}: {stage.describe()}")
  return lines
