"""Pipeline files: a dataset and a list of stages, validated whole before anything runs.

    name: quickstart
    dataset: cora
    out: runs/quickstart          # relative to the current directory
    stages:
      - train:
          name: gcn
          model: {architecture: gcn, hidden_units: 16}
          train: {epochs: 200, seeds: [0, 1, 2]}
      - export:
          model: gcn
          layout: sparse
          formats: [tflite-float32]
          target: mobile

`dataset` is a bundled name or your own graph: a .npz path or a source mapping such as
`{format: csv, nodes: nodes.csv, edges: edges.csv, ...}` (`edgegnn.data.sources`,
docs/data.md; relative paths start at the pipeline file's directory). It is loaded and
checked at parse time.

Every key is checked: an unknown key or a wrong type fails naming the stage and key; so
does a stage that does not fit the dataset's task (e.g. distill method gfkd on cora) or the
model it reads (e.g. a CPF student exported in the dense layout). The stage kinds are
looked up in `edgegnn.pipeline.registry`; their options are their config dataclasses in
`edgegnn.pipeline.stages`. Parsing imports no TensorFlow.
"""
from __future__ import annotations

import dataclasses
import pathlib
from typing import Any, Optional

import yaml

from edgegnn.pipeline import registry
from edgegnn.pipeline.stages.base import PipelineContext, Stage
from edgegnn.safe_paths import check_name


class PipelineError(ValueError):
  """The pipeline file is invalid (names the file, stage and key)."""


@dataclasses.dataclass(frozen=True)
class Pipeline:
  name: str
  dataset: str
  out: str
  stages: tuple[Stage, ...]
  source: Optional[str] = None
  # Your own graph (`edgegnn.data.sources`): the resolved source mapping (absolute paths,
  # `name` = `dataset`); None for a bundled dataset.
  dataset_source: Optional[dict] = None
  # Time every artifact beside the stock TFLite path at the end of the run (node tasks;
  # edgegnn.pipeline.stock_comparison): report.json's stock_comparison, ratio columns.
  compare_with_stock: bool = False


def _where(index: int, kind: str, body: Any) -> str:
  """How errors name a stage: `stages[1].distill(mlp)` (its name, or the model it reads)."""
  label = None
  if isinstance(body, dict):
    label = next((body[k] for k in ("name", "model") if isinstance(body.get(k), str)), None)
  return f"stages[{index}].{kind}" + (f"({label})" if label else "")


def _parse_stage(index: int, raw: Any) -> tuple[Stage, str]:
  """(stage, where) of the `index`th entry of `stages:`."""
  if not isinstance(raw, dict) or len(raw) != 1:
    raise PipelineError(f"stages[{index}] must be a mapping with one stage kind "
                        f"({', '.join(registry.names())}), got {raw!r}.")
  (kind, body), = raw.items()
  where = _where(index, str(kind), body)
  try:
    stage_kind = registry.get(kind)
  except ValueError as e:
    raise PipelineError(f"stages[{index}]: {e}") from None
  try:
    stage = stage_kind.config.from_dict(body or {}, where)
    # The name becomes OUT/models/NAME and OUT/artifacts/NAME.*: an identifier only.
    check_name(stage.produces, f"stages[{index}].{kind}.name")
    return stage, where
  except (TypeError, ValueError) as e:
    raise PipelineError(str(e)) from None


def _dataset_of(value: Any, source: Optional[str]) -> tuple[str, Optional[dict], str, Any]:
  """(name, resolved source mapping or None, task, loader) of a pipeline's `dataset:`: a
  bundled name, a path (.npz, or a .yaml/.json source file) or a source mapping, relative
  paths from the pipeline file's directory; `loader()` gives the dataset (loaded once). A
  source is loaded here, so a broken file fails before anything runs or is written.
  Raises ValueError."""
  from edgegnn.data import registry, sources  # pylint: disable=g-import-not-at-top
  base = pathlib.Path(source).resolve().parent if source else None
  resolved = sources.resolve(value if isinstance(value, dict) else str(value), base)
  loaded = []

  def loader():
    if not loaded:
      loaded.append(sources.load_source(resolved))
    return loaded[0]
  if isinstance(resolved, str):
    return resolved, None, registry.task_of(resolved), loader
  return resolved["name"], resolved, loader().task, loader


def parse(raw: Any, source: Optional[str] = None, default_name: str = "pipeline") -> Pipeline:
  """Validates a pipeline mapping (as loaded from YAML) completely."""
  if not isinstance(raw, dict):
    raise PipelineError(f"{source or 'pipeline'}: expected a mapping at the top level.")
  allowed = {"name", "dataset", "out", "stages", "compare_with_stock"}
  unknown = sorted(set(raw) - allowed)
  if unknown:
    raise PipelineError(f"Unknown top-level key(s) {unknown}; valid keys: {sorted(allowed)}.")
  if "dataset" not in raw or "stages" not in raw:
    raise PipelineError("A pipeline needs `dataset` and `stages`.")
  try:
    dataset, dataset_source, task, loader = _dataset_of(raw["dataset"], source)
  except ValueError as e:
    raise PipelineError(f"dataset: {e}") from None
  if not isinstance(raw["stages"], list) or not raw["stages"]:
    raise PipelineError("stages must be a non-empty list.")
  parsed = [_parse_stage(i, s) for i, s in enumerate(raw["stages"])]
  produced: dict[str, Stage] = {}
  for stage, where in parsed:
    for need in stage.requires():
      if need not in produced:
        raise PipelineError(f"{where} uses model {need!r}, which no earlier stage "
                            f"produces (earlier: {sorted(produced) or 'none'}).")
      if not produced[need].produces_model:
        models = sorted(n for n, s in produced.items() if s.produces_model)
        raise PipelineError(f"{where} uses {need!r}, which is a {produced[need].kind} stage's "
                            f"artifacts, not a model; name the model it reads "
                            f"({', '.join(map(repr, produced[need].requires()))}; models: "
                            f"{models}).")
    if stage.produces in produced:
      raise PipelineError(f"{where}: the name {stage.produces!r} is used twice.")
    try:
      stage.check_context(PipelineContext(dataset, task, dict(produced), loader))
    except ValueError as e:
      raise PipelineError(f"{where}: {e}") from None
    produced[stage.produces] = stage
  stages = tuple(stage for stage, _ in parsed)
  name = raw.get("name", default_name)
  try:
    check_name(name, "name")
  except ValueError as e:
    raise PipelineError(str(e)) from None
  out = raw.get("out", f"runs/{name}")
  if not isinstance(out, str) or not out:
    raise PipelineError(f"out must be a directory path (a string), got {out!r}.")
  compare = raw.get("compare_with_stock", False)
  if not isinstance(compare, bool):
    raise PipelineError(f"compare_with_stock must be true or false, got {compare!r}.")
  if compare and task != "node":
    raise PipelineError("compare_with_stock times full-graph node artifacts; "
                        f"{dataset} is a graph task. Drop the key.")
  return Pipeline(name=name, dataset=dataset, out=out, stages=stages, source=source,
                  compare_with_stock=compare, dataset_source=dataset_source)


# A pipeline file is a few kB; a larger one is a mistake (or an attempt to stall the
# loader with a huge document).
MAX_FILE_BYTES = 1 << 20


class _UniqueKeyLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
  """yaml.SafeLoader that refuses a mapping with a key twice (plain YAML keeps the last)."""

  def construct_mapping(self, node, deep=False):
    if isinstance(node, yaml.MappingNode):
      self.flatten_mapping(node)
      seen = set()
      for key_node, _ in node.value:
        key = self.construct_object(key_node, deep=True)
        try:
          duplicate = key in seen
        except TypeError:  # an unhashable key: SafeLoader names it below
          break
        if duplicate:
          raise yaml.constructor.ConstructorError(
              "while constructing a mapping", node.start_mark,
              f"found key {key!r} twice; each key may appear once", key_node.start_mark)
        seen.add(key)
    return super().construct_mapping(node, deep=deep)


def load_yaml(path: pathlib.Path) -> Any:
  """The YAML document of `path`: size-limited, safe types only, no duplicate keys."""
  size = path.stat().st_size
  if size > MAX_FILE_BYTES:
    raise PipelineError(f"{path} is {size} bytes; a pipeline file may have at most "
                        f"{MAX_FILE_BYTES} bytes. Check that this is the right file.")
  try:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
  except UnicodeDecodeError as e:
    raise PipelineError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start}).") from None
  except yaml.MarkedYAMLError as e:  # one line: the problem and where it is
    mark = e.problem_mark or e.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    raise PipelineError(f"{path}: not valid YAML: {e.problem or e.context}{where}.") from None
  except yaml.YAMLError as e:
    raise PipelineError(f"{path}: not valid YAML: {' '.join(str(e).split())}") from None
  except RecursionError:
    raise PipelineError(f"{path}: nested too deeply to be a pipeline file.") from None


def load(path: str | pathlib.Path) -> Pipeline:
  path = pathlib.Path(path)
  if not path.is_file():
    raise PipelineError(f"Pipeline file {path} does not exist (or is not a file).")
  return parse(load_yaml(path), source=str(path), default_name=path.stem)
