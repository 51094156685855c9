"""The pipelines shipped inside the package (`edgegnn/pipelines/*.yaml`), by name:
`edgegnn run quickstart` runs `edgegnn/pipelines/quickstart.yaml` from any directory, also
from an installed wheel. The repository's `pipelines/` directory is the same files."""
from __future__ import annotations

import importlib.resources
import pathlib

from edgegnn.pipeline.config import PipelineError


def shipped() -> dict[str, pathlib.Path]:
  """Every shipped pipeline: name -> path of its file, sorted by name."""
  directory = pathlib.Path(str(importlib.resources.files("edgegnn") / "pipelines"))
  if not directory.is_dir():
    return {}
  return {p.stem: p for p in sorted(directory.glob("*.yaml"))}


def resolve(argument: str) -> pathlib.Path:
  """The pipeline file `argument` names: a path to an existing file, else the name of a
  shipped pipeline (`quickstart`). Neither: a PipelineError listing the shipped names."""
  path = pathlib.Path(argument)
  if path.is_file():
    return path
  pipelines = shipped()
  if argument in pipelines:
    return pipelines[argument]
  if path.exists():
    raise PipelineError(f"Pipeline file {path} is not a file.")
  raise PipelineError(f"Pipeline file {path} does not exist, and no pipeline shipped with "
                      f"edgegnn has that name (shipped: {', '.join(pipelines) or 'none'}).")
