"""Runs a pipeline: stages in order, each cached by a hash of its config and inputs.

Layout of OUT:
  report.json                     the machine-readable result (see docs/report.md)
  models/NAME/seed{S}_fold{F}/    trained weights + model.json (+ checkpoints while training)
  artifacts/NAME.FORMAT.tflite    exported artifacts (+ NAME_mcu/ C sources for mcu)
  .cache/STAGE.json               finished stages: key + SHA-256 of every output file
  .staging/STAGE/                 a running stage's outputs (moved into place when it ends)
  .lock                           held while a run writes OUT (a second run is refused)

Every stage kind is looked up in `edgegnn.pipeline.registry` and run as
`run(StageContext, stage)`; the runner itself knows no kind. Each stage logs
`stage i/N KIND NAME` when it starts and its time and figures when it ends.

A killed run restarted with the same command resumes: finished stages whose files are
intact are read from the cache (`edgegnn.pipeline.stage_cache`), and an unfinished training
run continues from its last checkpoint. A failed stage leaves the previous outputs as
they were. Stage names are identifiers and every path is proven inside OUT
(`edgegnn.safe_paths`).
"""
from __future__ import annotations

import dataclasses
import pathlib
import time
from typing import Any, Optional

from edgegnn import __version__
from edgegnn import strict_json
from edgegnn.atomic import atomic_write_text
from edgegnn.pipeline import registry
from edgegnn.pipeline.config import Pipeline
from edgegnn.pipeline.context import Log, StageContext
from edgegnn.pipeline.stage_cache import StageCache
from edgegnn.pipeline.stage_cache import code_fingerprint as _code_fingerprint
from edgegnn.pipeline.stage_cache import key_hash as _hash
from edgegnn.safe_paths import check_name, check_output_dir, exclusive_lock


@dataclasses.dataclass
class StageTiming:
  """How one stage of a run went: run (seconds of work) or served from the cache."""
  index: int
  kind: str
  name: str
  seconds: float
  cached: bool


class Runner:
  """Executes a validated `Pipeline`.

  After `run()`: `report` is report.json's content, `timings` one `StageTiming` per stage,
  `files` the `ReportFiles` written (report.md, report.html, plots).
  """

  def __init__(self, pipeline: Pipeline, out: Optional[str] = None, log: Log = print,
               progress: bool = True):
    self.pipeline = pipeline
    self.out = pathlib.Path(out or pipeline.out)
    self.log = log
    self.report: dict[str, Any] = {"edgegnn_version": __version__, "pipeline": pipeline.name,
                                   "dataset": pipeline.dataset, "models": [], "artifacts": []}
    if pipeline.dataset_source is not None:  # your own graph: what reloads it
      self.report["dataset_source"] = pipeline.dataset_source
    self.context = StageContext(pipeline, self.out, self.report, log, progress)
    self.stage_hashes: dict[str, str] = {}
    self.timings: list[StageTiming] = []
    self.files = None
    self._source_hash = None
    self.code = _code_fingerprint()

  def _dataset_key(self) -> dict[str, Any]:
    """The dataset part of a stage's cache key: the name; for your own graph also the
    source and a hash of its files (an edited file retrains)."""
    source = self.pipeline.dataset_source
    if source is None:
      return {"dataset": self.pipeline.dataset}
    if self._source_hash is None:
      from edgegnn.data import sources  # pylint: disable=g-import-not-at-top
      self._source_hash = sources.fingerprint(source)
    return {"dataset": self.pipeline.dataset, "dataset_source": source,
            "dataset_files": self._source_hash}

  def run(self) -> dict[str, Any]:
    for i, stage in enumerate(self.pipeline.stages):  # a Pipeline built without `parse`
      check_name(stage.produces, f"stages[{i}]")
    check_output_dir(self.out)
    with exclusive_lock(self.out):
      return self._run_locked()

  def _run_locked(self) -> dict[str, Any]:
    cache = StageCache(self.out, self.log)
    from edgegnn.deploy import pi  # pylint: disable=g-import-not-at-top
    previous_devices = pi.previous_devices(self.out, self.log)
    total = len(self.pipeline.stages)
    for index, stage in enumerate(self.pipeline.stages, 1):
      kind = registry.of(stage)
      title = f"stage {index}/{total} {kind.name} {stage.produces}"
      upstream = [self.stage_hashes[n] for n in stage.requires()]
      key = _hash({"stage": stage.to_dict(), **self._dataset_key(),
                   "upstream": upstream, "code": self.code})
      started = time.perf_counter()
      entry = cache.lookup(stage.produces, key)
      if entry is not None:
        result = entry["result"]
        # Downstream keys depend on what this stage wrote, not only on its config.
        self.stage_hashes[stage.produces] = _hash([key, entry["files"]])
        self._merge(result)
        self.timings.append(StageTiming(index, kind.name, stage.produces,
                                        time.perf_counter() - started, True))
        self.log(f"[cached] {title}: {self._summary(result)}")
        continue
      self.log(title)
      self.context.work = cache.staging(stage.produces, key)
      result = kind.run(self.context, stage)
      files = cache.commit(stage.produces, key, result)
      self.stage_hashes[stage.produces] = _hash([key, files])
      self._merge(result)
      seconds = time.perf_counter() - started
      self.timings.append(StageTiming(index, kind.name, stage.produces, seconds, False))
      self.log(f"[{seconds:6.1f}s] {title}: {self._summary(result)}")
      self._write_report()
    self.context.work = self.out
    if previous_devices:
      devices = pi.carry_over_devices(previous_devices, self.report["artifacts"], self.out)
      if devices:
        self.report["devices"] = devices
      dropped = len(previous_devices) - len(devices)
      if dropped:
        self.log(f"device columns: {dropped} dropped (their artifacts were rebuilt or removed)")
    if self.pipeline.compare_with_stock and self.report["artifacts"]:
      from edgegnn.pipeline import stock_comparison  # pylint: disable=g-import-not-at-top
      stock_comparison.compare(self.report, self.out, self.context.dataset, self.log)
    self._write_report()
    from edgegnn.pipeline import report as report_lib  # pylint: disable=g-import-not-at-top
    self.files = report_lib.write_report(self.out, self.report)
    return self.report

  def _merge(self, result: dict[str, Any]) -> None:
    self.report["models"].extend(result.get("models", []))
    self.report["artifacts"].extend(result.get("artifacts", []))

  def _write_report(self) -> None:
    atomic_write_text(self.out / "report.json", strict_json.dumps(self.report, indent=1))

  @staticmethod
  def _summary(result: dict[str, Any]) -> str:
    """The figures of a stage's result in one line."""
    parts = [f"{m['method']} {m['name']}: test accuracy {100 * m['test_accuracy']:.2f} ± "
             f"{100 * m['test_accuracy_std']:.2f} % over {len(m['runs'])} run(s)"
             for m in result.get("models", [])]
    artifacts = [f"{a['format']} {a['bytes'] / 1024:.1f} KiB acc {100 * a['test_accuracy']:.2f}% "
                 f"agree {a['agreement']:.3f} p50 {a['latency_ms']['p50']:.2f} ms"
                 for a in result.get("artifacts", [])]
    return "; ".join(parts + artifacts)
