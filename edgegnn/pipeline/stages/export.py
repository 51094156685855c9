"""Stage kind export: a trained model converted to artifacts, each verified against its
Keras model on the test split and benchmarked (`edgegnn.deploy.ship`)."""
from __future__ import annotations

import dataclasses
import pathlib
from typing import Any, ClassVar, Optional

from edgegnn.models.spec import LAYOUTS
from edgegnn.pipeline import registry
from edgegnn.pipeline.context import StageContext
from edgegnn.pipeline.stages.base import PipelineContext, Stage, check_bench


@dataclasses.dataclass(frozen=True)
class ExportStage(Stage):
  """Converts a trained model to artifacts, verifies and benchmarks each one.

  Attributes:
    model: name of the stage whose model is exported.
    name: prefix of the artifact names (default: MODEL_LAYOUT).
    layout: sparse, dense or neighbors.
    capacity: node capacity of dense artifacts (default: the largest graph of the dataset).
    max_neighbors: in-neighbour slots per node of neighbors artifacts (default: the
      dataset's largest in-degree).
    formats: tflite-float32, tflite-float16, tflite-dynamic-int8, tflite-int8, lce.
    target: mobile, arm-linux or mcu (None: no device check).
    agreement_floor_float / agreement_floor_int8: verification floors.
    bench_runs / bench_warmup / bench_threads: latency benchmark settings.
    representative_graphs: training graphs used to calibrate tflite-int8.
    integer_io: tflite-int8 with int8 inputs/outputs (the app passes quantized features;
      None: int8 for target mcu, float otherwise).
    features: how the artifact takes node features: dense (`node_features` [N, F]), sparse
      (their non-zeros: `feature_node`, `feature_index`, `feature_value`) or binary (the
      same without values, for 0/1 features such as bag-of-words); see
      `edgegnn.layers.sparse_features`. sparse and binary: node-level gcn, sage, gat, mp
      and mlp models, float formats (their segment sums have no int8 kernel).
  """
  kind: ClassVar[str] = "export"
  produces_model: ClassVar[bool] = False
  model: str
  name: Optional[str] = None
  layout: str = "sparse"
  capacity: Optional[int] = None
  max_neighbors: Optional[int] = None
  formats: tuple[str, ...] = ("tflite-float32",)
  target: Optional[str] = None
  agreement_floor_float: float = 0.99
  agreement_floor_int8: float = 0.97
  bench_runs: int = 50
  bench_warmup: int = 5
  bench_threads: int = 1
  representative_graphs: int = 100
  integer_io: Optional[bool] = None
  features: str = "dense"

  def __post_init__(self):
    # pylint: disable=g-import-not-at-top
    from edgegnn.deploy.formats import FORMATS, TARGETS, check_format_target
    from edgegnn.models.feeds import check_feature_encoding
    check_feature_encoding("export", self.features, self.layout, self.formats, self.target)
    if self.layout not in LAYOUTS:
      raise ValueError(f"layout must be one of {LAYOUTS}, got {self.layout!r}.")
    if not self.formats:
      raise ValueError(f"formats must list at least one of {', '.join(FORMATS)}.")
    for fmt in self.formats:
      if fmt not in FORMATS:
        raise ValueError(f"formats: unknown {fmt!r}; expected {', '.join(FORMATS)}.")
      check_format_target(fmt, self.target)
    if self.target is not None and self.target not in TARGETS:
      raise ValueError(f"target: unknown {self.target!r}; expected {', '.join(TARGETS)}.")
    if self.target == "mcu" and self.layout == "sparse":
      raise ValueError("target mcu needs layout dense or neighbors (tflite-micro has no "
                       "segment-sum kernel for the sparse layout).")
    if self.integer_io and any(fmt != "tflite-int8" for fmt in self.formats):
      raise ValueError(f"integer_io applies to tflite-int8 only; formats {list(self.formats)} "
                       "has others: export them in a separate stage.")
    if self.representative_graphs < 1:
      raise ValueError("representative_graphs must be >= 1.")
    check_bench(self.bench_runs, self.bench_warmup, self.bench_threads)
    for key in ("capacity", "max_neighbors"):
      if getattr(self, key) is not None and getattr(self, key) < 1:
        raise ValueError(f"{key} must be >= 1 (or omitted), got {getattr(self, key)}.")
    for key in ("agreement_floor_float", "agreement_floor_int8"):
      if not 0.0 <= getattr(self, key) <= 1.0:
        raise ValueError(f"{key} must be in [0, 1], got {getattr(self, key)}.")

  def check_context(self, context: PipelineContext) -> None:
    """Raises ValueError if the model it reads cannot be exported as configured: a CPF
    student (bound to its graph's N nodes) exports in the sparse layout, float formats; a
    model with activations under 8 bits has no integer artifact."""
    # pylint: disable=g-import-not-at-top
    from edgegnn.models import feeds
    from edgegnn.quantization.config import check_integer_export
    source = context.earlier[self.model]
    check_integer_export(source.model_quantization, self.formats, "formats")
    if self.capacity is not None or self.features == "binary":
      dataset = context.load_dataset()
      graphs = [dataset.graph] if dataset.task == "node" else dataset.graphs
      largest = max(g.num_nodes for g in graphs)
      pads = self.layout == "dense" or (self.layout == "neighbors" and context.task == "graph")
      if pads and self.capacity is not None and self.capacity < largest:
        raise ValueError(f"capacity {self.capacity} is below the {largest} nodes of "
                         f"{context.dataset}'s largest graph; omit it (the largest graph) or "
                         f"give at least {largest}.")
      if self.features == "binary":
        feeds.check_binary_features(dataset)
    if not source.builds_cpf_student:
      return
    if self.features != "dense":
      raise ValueError(f"{self.model!r} is a CPF student, bound to its graph's dense "
                       "features; use features: dense.")
    from edgegnn.distill import cpf_export  # pylint: disable=g-import-not-at-top
    cpf_export.check_export(layout=self.layout, formats=self.formats,
                            where=f"{self.model!r}, a CPF student,")

  @property
  def produces(self) -> str:
    return self.name or f"{self.model}_{self.layout}"

  def requires(self) -> list[str]:
    return [self.model]

  def describe(self) -> str:
    return (f"model {self.model}, {self.layout} layout, formats {list(self.formats)}, target "
            f"{self.target or 'none'}; verify + bench each artifact")


def run(ctx: StageContext, stage: ExportStage) -> dict[str, Any]:
  """Converts the first run of the model to every format; ships each (verify, sidecar,
  bench) and, for target mcu, writes the C sources with the smallest arena."""
  # pylint: disable=g-import-not-at-top
  from edgegnn.deploy import verify as verify_lib
  from edgegnn.deploy.ship import Bench, ship
  from edgegnn.models import feeds
  from edgegnn.models.saving import load_trained, serving_build
  from edgegnn.training import make_task, predict
  dataset = ctx.dataset
  source = ctx.model_entry_of(stage.model)
  model_dir = ctx.out / source["path"]
  first_run = source["runs"][0]
  trained, meta = load_trained(model_dir, batched=dataset.task == "graph")
  # A model bound to one graph (a CPF student) takes exactly its nodes: the artifact and
  # its sidecar say so as their capacity.
  capacity, max_neighbors = feeds.layout_sizes(
      dataset, stage.layout, stage.capacity if stage.capacity is not None
      else meta.bound_nodes, stage.max_neighbors)
  export_model, _ = load_trained(model_dir, layout=stage.layout, capacity=capacity,
                                 max_neighbors=max_neighbors, features=stage.features,
                                 serving=serving_build(stage.formats))
  names = feeds.model_input_names(export_model)
  task = make_task(dataset, first_run["fold"])
  test_index = task.split("test")
  if dataset.task == "node":
    reference = predict(trained, task)[test_index]
    graphs = [dataset.graph]
  else:
    reference = predict(trained, task, test_index)
    graphs = [dataset.graphs[i] for i in task.split("train")[: stage.representative_graphs]]
  representative = [feeds.select(feeds.graph_feed(g, stage.layout, capacity,
                                                  max_neighbors=max_neighbors), names)
                    for g in graphs]
  artifacts = []
  floors = {"float": stage.agreement_floor_float, "int8": stage.agreement_floor_int8}
  for fmt in stage.formats:
    name = f"{stage.produces}.{fmt}"
    relative = pathlib.Path("artifacts") / f"{name}.tflite"
    figures = ship(
        export_model, fmt, ctx.work / relative, dataset=dataset, reference_logits=reference,
        test_index=test_index, layout=stage.layout, capacity=capacity,
        max_neighbors=max_neighbors, features=stage.features, target=stage.target,
        representative_feeds=representative, integer_io=stage.integer_io,
        floor=verify_lib.floor_for(fmt, floors), bench_inputs=representative[0],
        bench_settings=Bench(stage.bench_runs, stage.bench_warmup, stage.bench_threads))
    artifact = ctx.artifact_entry(name, stage.model, relative, figures)
    if stage.target == "mcu":
      artifact.update(_mcu_sources(ctx, stage, relative, representative[0]))
    artifacts.append(artifact)
  return {"artifacts": artifacts}


def _mcu_sources(ctx: StageContext, stage: ExportStage, relative: pathlib.Path,
                 inputs) -> dict[str, Any]:
  """The smallest tflite-micro arena of the artifact and its C sources (report fields)."""
  from edgegnn.runtime import arena as arena_lib, mcu  # pylint: disable=g-import-not-at-top
  data = (ctx.work / relative).read_bytes()
  arena = arena_lib.find_arena_size(data, inputs)
  c_path, h_path = mcu.write_c_sources(data, arena, ctx.work / "artifacts"
                                       / f"{stage.produces}_mcu")
  return {"arena_bytes": arena, "c_sources": [ctx.relative(p) for p in (c_path, h_path)]}


registry.register(ExportStage, run)
