"""What a stage's `run(ctx, stage)` gets: the dataset, where to write, earlier stages' models,
and the report entries every stage kind writes the same way."""
from __future__ import annotations

import pathlib
from typing import Any, Callable, Optional

import numpy as np

Log = Callable[[str], None]


class StageContext:
  """The running pipeline as one stage sees it.

  Attributes:
    pipeline: the validated `Pipeline`.
    out: the run's output directory (finished stages' files are under it).
    work: the running stage's staging directory, laid out like `out`: write here only
      (`edgegnn.pipeline.stage_cache` moves it into `out` when the stage ends).
    log: one line to the user.
    progress: show progress bars.
    report: report.json so far (`models` and `artifacts` of the finished stages).
  """

  def __init__(self, pipeline, out: pathlib.Path, report: dict[str, Any], log: Log,
               progress: bool):
    self.pipeline = pipeline
    self.out = out
    self.work = out
    self.report = report
    self.log = log
    self.progress = progress
    self._dataset = None

  @property
  def dataset(self):
    """The pipeline's dataset, loaded on first use."""
    if self._dataset is None:
      from edgegnn.data import sources  # pylint: disable=g-import-not-at-top
      self._dataset, summary = sources.load_source_summary(
          self.pipeline.dataset_source or self.pipeline.dataset)
      if self.pipeline.dataset_source is not None:
        self.log(f"dataset {summary}")
    return self._dataset

  def model_dir(self, name: str, seed: int, fold: int) -> pathlib.Path:
    """Where the running stage saves model `name`'s run of `seed` and `fold`."""
    return self.work / "models" / name / f"seed{seed}_fold{fold}"

  def relative(self, path: pathlib.Path) -> str:
    """`path` (under the staging directory) as report.json names it: relative to OUT."""
    return str(pathlib.Path(path).relative_to(self.work))

  def meta_extra(self, extra: dict[str, Any]) -> dict[str, Any]:
    """A saved model's `extra` with the dataset source, so `edgegnn convert` reloads it."""
    if self.pipeline.dataset_source is None:
      return extra
    return dict(extra, dataset_source=self.pipeline.dataset_source)

  def model_entry_of(self, name: str) -> dict[str, Any]:
    """report.json's entry of the model an earlier stage called `name` produced."""
    return next(m for m in self.report["models"] if m["name"] == name)

  def teacher(self, stage_name: Optional[str], seed: int, fold: int = 0):
    """The trained model of stage `stage_name` for `seed` (its first run if it has no run
    of that seed), on a graph dataset of `fold`; None without a teacher stage."""
    if not stage_name:
      return None
    from edgegnn.models.saving import load_trained  # pylint: disable=g-import-not-at-top
    source = self.model_entry_of(stage_name)
    graph = self.dataset.task == "graph"
    of_fold = [r for r in source["runs"] if r["fold"] == fold or not graph]
    if not of_fold:
      raise ValueError(f"The teacher {stage_name} has no run of fold {fold} (its folds: "
                       f"{source['folds']}); a student must not distil a teacher that "
                       "trained on its test fold.")
    run = next((r for r in of_fold if r["seed"] == seed), of_fold[0])
    return load_trained(self.out / run["path"], batched=graph)[0]

  def artifact_entry(self, name: str, model: str, relative: pathlib.Path,
                     figures: dict[str, Any]) -> dict[str, Any]:
    """report.json's entry of an artifact shipped to work / relative (`deploy.ship`)."""
    entry = {"name": name, "model": model, "path": str(relative),
             **{k: v for k, v in figures.items() if k not in ("artifact", "sidecar")}}
    entry["sidecar"] = self.relative(figures["sidecar"])
    return entry


def model_entry(name, architecture, quantization, params, runs, seeds, folds) -> dict:
  """report.json's entry of a trained model: its runs and their mean and spread."""
  accuracies = [r["test_accuracy"] for r in runs]
  entry = {"name": name, "architecture": architecture,
           "method": quantization.method if quantization else "fp32",
           "bits": quantization.activation_bits if quantization else 32,
           "params": params, "test_accuracy": float(np.mean(accuracies)),
           "test_accuracy_std": float(np.std(accuracies)), "seeds": seeds, "folds": folds,
           "runs": runs, "path": runs[0]["path"]}
  if quantization:
    entry.update(weight_bits=quantization.weight_bits,
                 activation_bits=quantization.activation_bits,
                 quantization=quantization.to_dict())
  return entry
