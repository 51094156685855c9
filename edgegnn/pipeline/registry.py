"""The stage kinds a pipeline file may use, by name: each one a config dataclass and a run.

A stage kind is one module that defines

  - its config dataclass (a `edgegnn.pipeline.stages.base.Stage`: the stage's own fields,
    nested sections typed as their config classes, checks in `__post_init__`), and
  - `run(ctx, stage) -> {"models": [...], "artifacts": [...]}` (`StageContext`: the
    dataset, the run's directories and earlier stages' models),

and ends with `registry.register(TheStage, run)`. `BUILT_IN` below names the module of
every kind the package ships; the module is imported the first time a pipeline uses its
kind, so reading a pipeline file imports only the kinds it names (and no TensorFlow:
runs import their heavy libraries inside `run`). A kind defined outside this table (a
plug-in of your own) is registered by importing its module before the pipeline is parsed.
docs/architecture.md has a worked example.
"""
from __future__ import annotations

import dataclasses
import importlib
from typing import Any, Callable

# kind -> the module that registers it.
BUILT_IN = {
    "train": "edgegnn.pipeline.stages.train",
    "degree_quant": "edgegnn.pipeline.stages.train",
    "qat": "edgegnn.pipeline.stages.train",
    "ptq": "edgegnn.pipeline.stages.ptq",
    "distill": "edgegnn.pipeline.stages.distill",
    "binarize": "edgegnn.pipeline.stages.binarize",
    "federated": "edgegnn.pipeline.stages.federated",
    "export": "edgegnn.pipeline.stages.export",
    "search": "edgegnn.search.stage",
}


@dataclasses.dataclass(frozen=True)
class StageKind:
  """A registered stage kind: its config dataclass and the function that runs it."""
  name: str
  config: type
  run: Callable[[Any, Any], dict]


_KINDS: dict[str, StageKind] = {}


def register(config: type, run: Callable[[Any, Any], dict]) -> StageKind:
  """Registers `config` (a Stage dataclass with a `kind` class attribute) and its `run`.
  Registering a kind twice with a different config or run is an error (two modules
  claiming one name)."""
  name = config.kind
  kind = StageKind(name, config, run)
  if name in _KINDS and _KINDS[name] != kind:
    raise ValueError(f"Stage kind {name!r} is registered twice ({_KINDS[name].config.__module__}"
                     f" and {config.__module__}); give one of them another name.")
  _KINDS[name] = kind
  return kind


def names() -> tuple[str, ...]:
  """Every stage kind a pipeline file may use: the built-in ones, then registered plug-ins."""
  return tuple(BUILT_IN) + tuple(k for k in _KINDS if k not in BUILT_IN)


def get(name: str) -> StageKind:
  """The stage kind called `name` (importing its module on first use); an unknown name is
  a ValueError that lists the valid ones."""
  if name not in _KINDS and name in BUILT_IN:
    importlib.import_module(BUILT_IN[name])
  if name not in _KINDS:
    raise ValueError(f"unknown stage kind {name!r}; expected one of {', '.join(names())}.")
  return _KINDS[name]


def of(stage: Any) -> StageKind:
  """The registered kind of a stage config object."""
  return get(type(stage).kind)
