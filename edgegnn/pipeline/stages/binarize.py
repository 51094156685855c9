"""Stage kind binarize: a teacher stage's model distilled into a binary (Larq) model and
shipped as an `lce` artifact, verified on the LCE interpreter and benchmarked."""
from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Any, ClassVar, Optional

from edgegnn.binary.config import BinarizeConfig
from edgegnn.pipeline import registry
from edgegnn.pipeline.context import StageContext, model_entry
from edgegnn.pipeline.stages.base import PipelineContext, Stage, check_bench, check_seeds


@dataclasses.dataclass(frozen=True)
class BinarizeStage(Stage):
  """Distils a teacher stage's model into a binary (Larq) model and ships it as `lce`.

  The staged distillation of `edgegnn.binary.binarize` (FP32 teacher -> binary weights
  -> fully binary) runs for every seed; the first seed's model is converted with the LCE
  converter for target arm-linux, verified on the LCE interpreter over the test split
  and benchmarked, like an export stage's artifact.

  Attributes:
    name: the binary model's name.
    binarize: the `edgegnn.binary.BinarizeConfig` mapping (binary architecture in `model`,
      epochs per stage, loss weights, staged / scratch).
    teacher: the FP32 teacher's stage name (a train stage; omit with `staged: false`).
    seeds: student seeds (each distils from the teacher run of the same seed, if any).
    agreement_floor: verification floor of the lce artifact against the Keras model.
    bench_runs / bench_warmup / bench_threads: latency benchmark settings.
  """
  kind: ClassVar[str] = "binarize"
  name: str
  binarize: BinarizeConfig = dataclasses.field(default_factory=BinarizeConfig)
  teacher: Optional[str] = None
  seeds: tuple[int, ...] = (0,)
  agreement_floor: float = 0.99
  bench_runs: int = 20
  bench_warmup: int = 3
  bench_threads: int = 1

  def __post_init__(self):
    if self.binarize.staged and not self.teacher:
      raise ValueError("the staged distillation needs `teacher: <stage name>` (or set "
                       "binarize.staged: false to train from scratch).")
    check_seeds(self.seeds)
    if not 0.0 <= self.agreement_floor <= 1.0:
      raise ValueError(f"agreement_floor must be in [0, 1], got {self.agreement_floor}.")
    check_bench(self.bench_runs, self.bench_warmup, self.bench_threads)

  def requires(self) -> list[str]:
    return [self.teacher] if self.teacher else []

  def check_context(self, context: PipelineContext) -> None:
    """Raises ValueError if the binary architecture is for the other task (a node model
    such as gcn on a graph dataset, or a point-cloud model on a node dataset)."""
    spec = self.binarize.spec
    if spec.task != context.task:
      raise ValueError(f"binarize.model.architecture {spec.architecture} is a "
                       f"{spec.task}-classification model, but dataset {context.dataset} is a "
                       f"{context.task}-classification dataset.")

  def describe(self) -> str:
    c = self.binarize
    spec = c.spec
    how = f"staged distillation from {self.teacher}" if c.staged else "trained from scratch"
    return (f"binary {spec.architecture} ({spec.hidden_units} units), {how}, {c.epochs} "
            f"epochs per stage, seeds {list(self.seeds)}; lce artifact verified on the LCE "
            "interpreter + bench")


def run(ctx: StageContext, stage: BinarizeStage) -> dict[str, Any]:
  """Binarizes every seed, then ships the first seed's model as a verified lce artifact."""
  # pylint: disable=g-import-not-at-top
  import tensorflow as tf
  from edgegnn.atomic import atomic_write_text
  from edgegnn.binary.staged import binarize, export_model, predict_logits
  from edgegnn.deploy.ship import Bench, ship
  from edgegnn.models import feeds
  from edgegnn.training import make_task
  dataset, config = ctx.dataset, stage.binarize
  spec = config.spec
  runs, first = [], None
  for seed in stage.seeds:
    teacher = ctx.teacher(stage.teacher, seed)
    tf.keras.utils.set_random_seed(seed)
    result = binarize(teacher, dataset, config, seed=seed)
    directory = ctx.model_dir(stage.name, seed, 0)
    directory.mkdir(parents=True, exist_ok=True)
    result.model.save_weights(str(directory / "weights.h5"))
    atomic_write_text(directory / "binary_spec.json",
                      json.dumps({"binarize": config.to_dict(), "dataset": dataset.name,
                                  **ctx.meta_extra({})}))
    metrics = {k: v for k, v in result.metrics.items() if isinstance(v, (int, float, str))}
    runs.append(dict(metrics, seed=seed, fold=0, path=ctx.relative(directory)))
    first = first or result
  entry = model_entry(stage.name, spec.architecture, None, int(first.model.count_params()),
                      runs, list(stage.seeds), [0])
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
  figures = ship(export, "lce", ctx.work / relative, dataset=dataset,
                 reference_logits=reference, test_index=test_index, layout=layout,
                 capacity=capacity, target="arm-linux", floor=stage.agreement_floor,
                 bench_inputs=sample,
                 bench_settings=Bench(stage.bench_runs, stage.bench_warmup, stage.bench_threads))
  return {"models": [entry], "artifacts": [ctx.artifact_entry(name, stage.name, relative,
                                                              figures)]}


registry.register(BinarizeStage, run)
