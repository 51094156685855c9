"""Runs a pipeline: stages in order, each cached by a hash of its config and inputs.

Layout of OUT:
  report.json                     the machine-readable result (see docs/report.md)
  models/NAME/seed{S}_fold{F}/    trained weights + model.json (+ checkpoints while training)
  artifacts/NAME.FORMAT.tflite    exported artifacts (+ NAME_mcu/ C sources for mcu)
  .cache/STAGE.json               finished stages: key + SHA-256 of every output file
  .staging/STAGE/                 a running stage's outputs (moved into place when it ends)
  .lock                           held while a run writes OUT (a second run is refused)

A killed run restarted with the same command resumes: finished stages whose files are
intact are read from the cache (`edgegnn.pipeline.stage_cache`), and an unfinished training
run continues from its last checkpoint. A failed stage leaves the previous outputs as
they were. Stage names are identifiers and every path is proven inside OUT
(`edgegnn.safe_paths`).
"""
from __future__ import annotations

import json
import pathlib
import time
from typing import Any, Callable, Optional

import numpy as np

from edgegnn import __version__
from edgegnn import strict_json
from edgegnn.atomic import atomic_write_text
from edgegnn.safe_paths import check_name, check_output_dir, exclusive_lock
from edgegnn.pipeline.plan import plan  # noqa: F401  (re-exported: edgegnn.pipeline.plan)
from edgegnn.pipeline.stage_cache import StageCache
from edgegnn.pipeline.stage_cache import code_fingerprint as _code_fingerprint
from edgegnn.pipeline.stage_cache import key_hash as _hash
from edgegnn.pipeline.config import Pipeline
from edgegnn.pipeline.stages import (BinarizeStage, DistillStage, FederatedStage, ExportStage,
                                     PtqStage, QuantizedTrainStage, TrainStage)

Log = Callable[[str], None]


class Runner:
  """Executes a validated `Pipeline`."""

  def __init__(self, pipeline: Pipeline, out: Optional[str] = None, log: Log = print,
               progress: bool = True):
    self.pipeline = pipeline
    self.out = pathlib.Path(out or pipeline.out)
    self.log = log
    self.progress = progress
    self.report: dict[str, Any] = {"edgegnn_version": __version__, "pipeline": pipeline.name,
                                   "dataset": pipeline.dataset, "models": [], "artifacts": []}
    if pipeline.dataset_source is not None:  # your own graph: what reloads it
      self.report["dataset_source"] = pipeline.dataset_source
    self.stage_hashes: dict[str, str] = {}
    self._dataset = None
    self._source_hash = None
    self.code = _code_fingerprint()
    self.work = self.out  # the running stage's staging directory (`StageCache.staging`)

  @property
  def dataset(self):
    if self._dataset is None:
      from edgegnn.data import sources  # pylint: disable=g-import-not-at-top
      self._dataset, summary = sources.load_source_summary(
          self.pipeline.dataset_source or self.pipeline.dataset)
      if self.pipeline.dataset_source is not None:
        self.log(f"dataset {summary}")
    return self._dataset

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

  def _meta_extra(self, extra: dict[str, Any]) -> dict[str, Any]:
    """A saved model's `extra` with the dataset source, so `edgegnn convert` reloads it."""
    if self.pipeline.dataset_source is None:
      return extra
    return dict(extra, dataset_source=self.pipeline.dataset_source)

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
    for stage in self.pipeline.stages:
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
        self.log(f"[cached] {self._summary(stage, result)}")
        continue
      self.work = cache.staging(stage.produces, key)
      if isinstance(stage, TrainStage):
        result = self._train(stage)
      elif isinstance(stage, PtqStage):
        result = self._ptq(stage)
      elif isinstance(stage, DistillStage):
        result = self._distill(stage)
      elif isinstance(stage, BinarizeStage):
        result = self._binarize(stage)
      elif isinstance(stage, FederatedStage):
        result = self._federated(stage)
      else:
        result = self._export(stage)
      files = cache.commit(stage.produces, key, result)
      self.stage_hashes[stage.produces] = _hash([key, files])
      self._merge(result)
      self.log(f"[{time.perf_counter() - started:6.1f}s] {self._summary(stage, result)}")
      self._write_report()
    if previous_devices:
      devices = pi.carry_over_devices(previous_devices, self.report["artifacts"], self.out)
      if devices:
        self.report["devices"] = devices
      dropped = len(previous_devices) - len(devices)
      if dropped:
        self.log(f"device columns: {dropped} dropped (their artifacts were rebuilt or removed)")
    if self.pipeline.compare_with_stock and self.report["artifacts"]:
      from edgegnn.pipeline import stock_comparison  # pylint: disable=g-import-not-at-top
      stock_comparison.compare(self.report, self.out, self.dataset, self.log)
    self._write_report()
    from edgegnn.pipeline import report as report_lib  # pylint: disable=g-import-not-at-top
    files = report_lib.write_report(self.out, self.report)
    self.log(f"report: {files.markdown}, {files.html}")
    return self.report

  def _merge(self, result: dict[str, Any]) -> None:
    self.report["models"].extend(result.get("models", []))
    self.report["artifacts"].extend(result.get("artifacts", []))

  def _write_report(self) -> None:
    atomic_write_text(self.out / "report.json", strict_json.dumps(self.report, indent=1))

  @staticmethod
  def _summary(stage, result) -> str:
    parts = [f"{m['method']} {m['name']}: test accuracy {100 * m['test_accuracy']:.2f} ± "
             f"{100 * m['test_accuracy_std']:.2f} % over {len(m['runs'])} run(s)"
             for m in result.get("models", [])]
    artifacts = [f"{a['format']} {a['bytes'] / 1024:.1f} KiB acc {100 * a['test_accuracy']:.2f}% "
                 f"agree {a['agreement']:.3f} p50 {a['latency_ms']['p50']:.2f} ms"
                 for a in result.get("artifacts", [])]
    if isinstance(stage, ExportStage):
      return f"export {stage.produces}: " + "; ".join(artifacts)
    return "; ".join(parts + artifacts)

  def model_dir(self, name: str, seed: int, fold: int) -> pathlib.Path:
    return self.work / "models" / name / f"seed{seed}_fold{fold}"

  def _train(self, stage) -> dict[str, Any]:
    from edgegnn.models import build_model
    from edgegnn.models.saving import ModelMeta, save_trained
    from edgegnn.training import train
    dataset, config = self.dataset, stage.train_config
    quantization = getattr(stage, "quantization_config", None)
    extra = {"quantization": quantization.to_dict()} if quantization else {}
    folds = config.folds if dataset.task == "graph" and dataset.num_folds > 1 else (0,)
    runs = []
    for seed in config.seeds:
      for fold in folds:
        directory = self.model_dir(stage.name, seed, fold)
        model = None
        if quantization is not None:
          import tensorflow as tf  # pylint: disable=g-import-not-at-top
          tf.keras.utils.set_random_seed(seed)
          model = build_model(stage.model_spec, num_features=dataset.num_features,
                              num_classes=dataset.num_classes, task=dataset.task,
                              batched=dataset.task == "graph", quantization=quantization)
        result = train(stage.model_spec, dataset, config, seed=seed, fold=fold,
                       checkpoint_dir=str(directory / "checkpoint"), progress=self.progress,
                       description=f"{stage.name} seed {seed} fold {fold}", model=model)
        meta = ModelMeta(stage.model_spec, dataset.name, dataset.task, dataset.num_features,
                         dataset.num_classes, extra=self._meta_extra(extra))
        save_trained(directory, result.model, meta)
        runs.append(dict(result.metrics, path=str(directory.relative_to(self.work))))
        params = int(result.model.count_params())
    return {"models": [self._model_entry(stage.name, stage.model_spec.architecture,
                                         quantization, params, runs, list(config.seeds),
                                         list(folds))]}

  @staticmethod
  def _model_entry(name, architecture, quantization, params, runs, seeds, folds) -> dict:
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

  def _teacher(self, stage_name: Optional[str], seed: int, fold: int = 0):
    """The trained model of stage `stage_name` for `seed` (its first run if it has no run
    of that seed), on a graph dataset of `fold`; None without a teacher stage."""
    if not stage_name:
      return None
    from edgegnn.models.saving import load_trained  # pylint: disable=g-import-not-at-top
    source = next(m for m in self.report["models"] if m["name"] == stage_name)
    graph = self.dataset.task == "graph"
    of_fold = [r for r in source["runs"] if r["fold"] == fold or not graph]
    if not of_fold:
      raise ValueError(f"The teacher {stage_name} has no run of fold {fold} (its folds: "
                       f"{source['folds']}); a student must not distil a teacher that "
                       "trained on its test fold.")
    run = next((r for r in of_fold if r["seed"] == seed), of_fold[0])
    return load_trained(self.out / run["path"], batched=graph)[0]

  def _distill(self, stage: DistillStage) -> dict[str, Any]:
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    from edgegnn.distill import distill
    from edgegnn.distill.distill import cpf_student_arguments
    from edgegnn.models import build_model
    from edgegnn.models.saving import ModelMeta, save_trained
    dataset, quantization = self.dataset, stage.quantization_config
    config, spec = stage.distill_config, stage.model_spec
    extra = {"quantization": quantization.to_dict()} if quantization else {}
    extra["distill"] = {"method": config.method, "teacher": stage.teacher}
    extra = self._meta_extra(extra)
    meta = (ModelMeta(None, dataset.name, dataset.task, dataset.num_features,
                      dataset.num_classes, extra=extra, kind="cpf",
                      arguments=cpf_student_arguments(dataset, config))
            if stage.builds_cpf_student else
            ModelMeta(spec, dataset.name, dataset.task, dataset.num_features,
                      dataset.num_classes, extra=extra))
    folds = [0]
    if dataset.task == "graph" and stage.teacher:
      folds = next(m for m in self.report["models"] if m["name"] == stage.teacher)["folds"]
    runs = []
    for seed in stage.seeds:
      for fold in folds:
        teacher = self._teacher(stage.teacher, seed, fold)
        tf.keras.utils.set_random_seed(seed)
        student = None if spec is None else build_model(
            spec, num_features=dataset.num_features, num_classes=dataset.num_classes,
            task=dataset.task, batched=dataset.task == "graph", quantization=quantization)
        result = distill(teacher, student, dataset, config, seed=seed, fold=fold,
                         progress=self.progress)
        directory = self.model_dir(stage.name, seed, fold)
        save_trained(directory, result.model, meta)
        metrics = {k: v for k, v in result.metrics.items() if isinstance(v, (int, float, str))}
        runs.append(dict(metrics, seed=seed, fold=fold,
                         path=str(directory.relative_to(self.work))))
    entry = self._model_entry(stage.name, spec.architecture if spec else "cpf", quantization,
                              int(result.model.count_params()), runs, list(stage.seeds),
                              list(folds))
    entry.update(method=f"{config.method}" + (f"+{quantization.method}" if quantization else ""),
                 teacher=stage.teacher)
    return {"models": [entry]}

  def _federated(self, stage: FederatedStage) -> dict[str, Any]:
    from edgegnn.federated import run_federated
    dataset, config = self.dataset, stage.federated_config
    quantization = config.quantization_config
    runs, params = [], 0
    for seed in config.seeds:
      directory = self.model_dir(stage.name, seed, config.fold)
      result = run_federated(stage.model_spec, dataset, config, seed, directory,
                             log=self.log if self.progress else (lambda _: None))
      model_path = pathlib.Path(result["model_path"])
      runs.append({"seed": seed, "fold": config.fold,
                   "test_accuracy": result["test_accuracy"],
                   "val_accuracy": result["val_accuracy"],
                   "client_subgraph_test_accuracy": result["client_subgraph_test_accuracy"],
                   "rounds_completed": result["rounds_completed"],
                   "failures": result["failures"], "seconds": result["seconds"],
                   "path": str(model_path.relative_to(self.work))})
      if not params:
        from edgegnn.models.saving import load_trained  # pylint: disable=g-import-not-at-top
        params = int(load_trained(model_path, batched=dataset.task == "graph")[0].count_params())
    entry = self._model_entry(stage.name, stage.model_spec.architecture, quantization, params,
                              runs, list(config.seeds), [config.fold])
    entry.update(method=f"fedavg-{config.setting}" + (f"+{quantization.method}"
                                                      if quantization else ""),
                 federated={"setting": config.setting, "clients": config.num_clients,
                            "rounds": config.rounds, "strategy": config.strategy,
                            "engine": config.engine})
    return {"models": [entry]}

  def _binarize(self, stage: BinarizeStage) -> dict[str, Any]:
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    from edgegnn.binary.staged import binarize, export_model, predict_logits
    from edgegnn.deploy.ship import Bench, ship
    from edgegnn.models import feeds
    from edgegnn.training import make_task
    dataset, config = self.dataset, stage.binarize_config
    spec = config.spec
    runs, first = [], None
    for seed in stage.seeds:
      teacher = self._teacher(stage.teacher, seed)
      tf.keras.utils.set_random_seed(seed)
      result = binarize(teacher, dataset, config, seed=seed)
      directory = self.model_dir(stage.name, seed, 0)
      directory.mkdir(parents=True, exist_ok=True)
      result.model.save_weights(str(directory / "weights.h5"))
      atomic_write_text(directory / "binary_spec.json",
                        json.dumps({"binarize": config.to_dict(), "dataset": dataset.name,
                                    **self._meta_extra({})}))
      metrics = {k: v for k, v in result.metrics.items() if isinstance(v, (int, float, str))}
      runs.append(dict(metrics, seed=seed, fold=0, path=str(directory.relative_to(self.work))))
      first = first or result
    entry = self._model_entry(stage.name, spec.architecture, None,
                              int(first.model.count_params()), runs, list(stage.seeds), [0])
    entry.update(method="binary" + ("+kd" if config.staged else ""), bits=1,
                 teacher=stage.teacher, binary_summary=first.metrics.get("summary"))

    # The first seed's model as an lce artifact, verified on the LCE interpreter.
    task = make_task(dataset, 0)
    test_index = task.split("test")
    node = spec.task == "node"
    layout = "sparse" if node else "dense"
    capacity = dataset.graph.num_nodes if node else dataset.max_nodes
    export = export_model(first.model, spec, dataset)
    names = feeds.model_input_names(export)
    reference = predict_logits(first.model, task, test_index)
    if node:
      reference = reference[test_index]
    name = f"{stage.name}.lce"
    relative = pathlib.Path("artifacts") / f"{name}.tflite"
    graph = dataset.graph if node else dataset.graphs[int(test_index[0])]
    sample = feeds.select(feeds.graph_feed(graph, layout, None if node else capacity), names)
    figures = ship(export, "lce", self.work / relative, dataset=dataset,
                   reference_logits=reference, test_index=test_index, layout=layout,
                   capacity=capacity, target="arm-linux", floor=stage.agreement_floor,
                   bench_inputs=sample,
                   bench_settings=Bench(stage.bench_runs, stage.bench_warmup,
                                        stage.bench_threads))
    artifact = self._artifact_entry(name, stage.name, relative, figures)
    return {"models": [entry], "artifacts": [artifact]}

  def _ptq(self, stage: PtqStage) -> dict[str, Any]:
    from edgegnn.models import feeds
    from edgegnn.models.saving import ModelMeta, load_trained, save_trained
    from edgegnn.quantization import calibration
    from edgegnn.training import accuracy, make_task, predict
    dataset, quantization = self.dataset, stage.quantization_config
    source = next(m for m in self.report["models"] if m["name"] == stage.model)
    runs = []
    for run in source["runs"]:
      float_model, meta = load_trained(self.out / run["path"], batched=dataset.task == "graph")
      meta = ModelMeta(meta.spec, meta.dataset, meta.task, meta.num_features, meta.num_classes,
                       extra=self._meta_extra({"quantization": quantization.to_dict()}))
      model = meta.build("sparse", batched=dataset.task == "graph")
      calibration.transfer_float_weights(float_model, model)
      task = make_task(dataset, run["fold"])
      names = feeds.model_input_names(model)
      if dataset.task == "node":
        calibration.calibrate(model, [feeds.select(task.full_feed(), names)])
      else:
        index = task.split("train")[: stage.calibration_graphs]
        calibration.calibrate(model, [feeds.select(f, names) for f, _ in task.batches(index, 32)])
      metrics = {"seed": run["seed"], "fold": run["fold"]}
      for split in ("train", "val", "test"):
        index = task.split(split)
        if index is None or not len(index):
          continue
        logits = (predict(model, task)[index] if dataset.task == "node"
                  else predict(model, task, index))
        metrics[f"{split}_accuracy"] = accuracy(logits, task.labels[index])
      directory = self.model_dir(stage.name, run["seed"], run["fold"])
      save_trained(directory, model, meta)
      runs.append(dict(metrics, path=str(directory.relative_to(self.work))))
    return {"models": [self._model_entry(stage.name, meta.spec.architecture, quantization,
                                         int(model.count_params()), runs, source["seeds"],
                                         source["folds"])]}

  def _artifact_entry(self, name: str, model: str, relative: pathlib.Path,
                      figures: dict[str, Any]) -> dict[str, Any]:
    """report.json's entry of an artifact shipped to self.work / relative (`ship`)."""
    entry = {"name": name, "model": model, "path": str(relative),
             **{k: v for k, v in figures.items() if k not in ("artifact", "sidecar")}}
    entry["sidecar"] = str(pathlib.Path(figures["sidecar"]).relative_to(self.work))
    return entry

  def _export(self, stage: ExportStage) -> dict[str, Any]:
    from edgegnn.deploy import mcu, verify as verify_lib
    from edgegnn.deploy.ship import Bench, ship
    from edgegnn.models import feeds
    from edgegnn.models.feeds import check_binary_features
    from edgegnn.models.saving import load_trained, serving_build
    from edgegnn.training import make_task, predict
    dataset = self.dataset
    source = next(m for m in self.report["models"] if m["name"] == stage.model)
    model_dir = self.out / source["path"]
    run = source["runs"][0]
    trained, meta = load_trained(model_dir, batched=dataset.task == "graph")
    # A model bound to one graph (a CPF student) takes exactly its nodes: the artifact and
    # its sidecar say so as their capacity.
    capacity, max_neighbors = feeds.layout_sizes(
        dataset, stage.layout, stage.capacity if stage.capacity is not None
        else meta.bound_nodes, stage.max_neighbors)
    if stage.features == "binary":
      check_binary_features(dataset)
    export_model, _ = load_trained(model_dir, layout=stage.layout, capacity=capacity,
                                   max_neighbors=max_neighbors, features=stage.features,
                                   serving=serving_build(stage.formats))
    names = feeds.model_input_names(export_model)
    task = make_task(dataset, run["fold"])
    test_index = task.split("test")
    if dataset.task == "node":
      reference = predict(trained, task)[test_index]
      representative = [feeds.graph_feed(dataset.graph, stage.layout, capacity,
                                         max_neighbors=max_neighbors)]
    else:
      reference = predict(trained, task, test_index)
      train_graphs = task.split("train")[: stage.representative_graphs]
      representative = [feeds.graph_feed(dataset.graphs[i], stage.layout, capacity,
                                         max_neighbors=max_neighbors) for i in train_graphs]
    representative = [feeds.select(f, names) for f in representative]
    artifacts = []
    floors = {"float": stage.agreement_floor_float, "int8": stage.agreement_floor_int8}
    for fmt in stage.formats:
      name = f"{stage.produces}.{fmt}"
      relative = pathlib.Path("artifacts") / f"{name}.tflite"
      figures = ship(
          export_model, fmt, self.work / relative, dataset=dataset, reference_logits=reference,
          test_index=test_index, layout=stage.layout, capacity=capacity,
          max_neighbors=max_neighbors, features=stage.features, target=stage.target,
          representative_feeds=representative, integer_io=stage.integer_io,
          floor=verify_lib.floor_for(fmt, floors), bench_inputs=representative[0],
          bench_settings=Bench(stage.bench_runs, stage.bench_warmup, stage.bench_threads))
      artifact = self._artifact_entry(name, stage.model, relative, figures)
      if stage.target == "mcu":
        data = (self.work / relative).read_bytes()
        arena = mcu.find_arena_size(data, representative[0])
        c_dir = self.work / "artifacts" / f"{stage.produces}_mcu"
        c_path, h_path = mcu.write_c_sources(data, arena, c_dir)
        artifact.update(arena_bytes=arena,
                        c_sources=[str(pathlib.Path(p).relative_to(self.work))
                                   for p in (c_path, h_path)])
      artifacts.append(artifact)
    return {"artifacts": artifacts}
