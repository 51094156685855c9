"""Stage kind search: an LPGNAS search round on the pipeline's dataset, the argmax genotype
retrained from scratch with Degree-Quant at its per-layer precisions for every seed, and
the first seed's model shipped (converted, verified on its interpreter, benchmarked).

    stages:
      - search:
          name: lpgnas
          search: {epochs: 200, size_weight: 0.5}
          train: {epochs: 200, patience: 100, seeds: [0, 1, 2, 3, 4]}

report.json's model entry carries the genotype (`genotype`, `genotype_describe`), the
search's time and the final softmax of every component (`search`). The artifact is
tflite-int8 (every layer integer), tflite-int8-float16 (int8 and float16 layers) or
tflite-float16, in the neighbors layout, for the mobile target.
"""
from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Any, ClassVar

from edgegnn.pipeline import registry
from edgegnn.pipeline.context import StageContext, model_entry
from edgegnn.pipeline.stages.base import PipelineContext, Stage, check_bench
from edgegnn.search.search import SearchConfig
from edgegnn.training.config import TrainConfig

WEIGHT_DECAY = 5e-4


@dataclasses.dataclass(frozen=True)
class SearchStage(Stage):
  """Searches, retrains the genotype with Degree-Quant (5e-4 weight decay) and ships it.

  Attributes:
    name: the searched model's name.
    search: the `SearchConfig` mapping (space, epochs, size_weight, ...).
    train: the `TrainConfig` of the retraining (its seeds are the runs).
    agreement_floor: verification floor of the artifact against its Keras model.
    bench_runs / bench_warmup / bench_threads: latency benchmark settings.
  """
  kind: ClassVar[str] = "search"
  name: str
  search: SearchConfig = dataclasses.field(default_factory=SearchConfig)
  train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
  agreement_floor: float = 0.97
  bench_runs: int = 20
  bench_warmup: int = 3
  bench_threads: int = 1

  def __post_init__(self):
    if not 0.0 <= self.agreement_floor <= 1.0:
      raise ValueError(f"agreement_floor must be in [0, 1], got {self.agreement_floor}.")
    check_bench(self.bench_runs, self.bench_warmup, self.bench_threads)

  def check_context(self, context: PipelineContext) -> None:
    if context.task != "node":
      raise ValueError(f"search: LPGNAS searches node-classification models; dataset "
                       f"{context.dataset} is a {context.task}-classification dataset.")

  def describe(self) -> str:
    s = self.search
    return (f"LPGNAS over {s.space.num_layers} layers, {s.epochs} search epochs, size "
            f"weight {s.size_weight}; genotype retrained with Degree-Quant, seeds "
            f"{list(self.train.seeds)}; artifact verified + bench")


def run(ctx: StageContext, stage: SearchStage) -> dict[str, Any]:
  """Searches once (seed 0), retrains every seed, ships the first seed's model."""
  from edgegnn.atomic import atomic_write_text  # pylint: disable=g-import-not-at-top
  from edgegnn.deploy.ship import Bench, ship  # pylint: disable=g-import-not-at-top
  from edgegnn.models import ModelSpec, feeds, transfer_weights  # pylint: disable=g-import-not-at-top
  from edgegnn.quantization import QuantizationConfig  # pylint: disable=g-import-not-at-top
  from edgegnn.search.genotype_model import build_genotype_model, export_format  # pylint: disable=g-import-not-at-top
  from edgegnn.search.search import search  # pylint: disable=g-import-not-at-top
  from edgegnn.training import train  # pylint: disable=g-import-not-at-top
  dataset = ctx.dataset
  found = search(dataset, stage.search, seed=0)
  genotype = found.genotype
  quantization = QuantizationConfig("dq", layers=genotype.layer_precisions)
  common = dict(num_features=dataset.num_features, num_classes=dataset.num_classes,
                quantization=quantization)
  spec = ModelSpec("mp", weight_decay=WEIGHT_DECAY)
  runs, first = [], None
  for seed in stage.train.seeds:
    directory = ctx.model_dir(stage.name, seed, 0)
    result = train(spec, dataset, stage.train, seed=seed,
                   checkpoint_dir=str(directory / "checkpoint"), progress=ctx.progress,
                   description=f"{stage.name} seed {seed}",
                   model=build_genotype_model(genotype, **common))
    directory.mkdir(parents=True, exist_ok=True)
    result.model.save_weights(str(directory / "weights.h5"))
    atomic_write_text(directory / "genotype.json", json.dumps(
        {"genotype": genotype.to_dict(), "quantization": quantization.to_dict(),
         "dataset": dataset.name, **ctx.meta_extra({})}))
    runs.append(dict(result.metrics, path=ctx.relative(directory)))
    first = first or result.model
  entry = model_entry(stage.name, "lpgnas", quantization, int(first.count_params()), runs,
                      list(stage.train.seeds), [0])
  entry.update(genotype=genotype.to_dict(), genotype_describe=genotype.describe(),
               search=found.to_dict())
  k = int(dataset.graph.in_degree().max())
  export = transfer_weights(first, build_genotype_model(genotype, layout="neighbors",
                                                        max_neighbors=k, **common))
  feed = feeds.select(feeds.graph_feed(dataset.graph, "neighbors", max_neighbors=k),
                      feeds.model_input_names(export))
  reference = export(feed)["logits"].numpy()[dataset.test_index]
  fmt = export_format(genotype)
  name = f"{stage.name}_neighbors.{fmt}"
  relative = pathlib.Path("artifacts") / f"{name}.tflite"
  figures = ship(export, fmt, ctx.work / relative, dataset=dataset,
                 reference_logits=reference, test_index=dataset.test_index,
                 layout="neighbors", max_neighbors=k, target="mobile",
                 representative_feeds=[feed] if fmt == "tflite-int8" else None,
                 floor=stage.agreement_floor, bench_inputs=feed,
                 bench_settings=Bench(stage.bench_runs, stage.bench_warmup,
                                      stage.bench_threads))
  return {"models": [entry], "artifacts": [ctx.artifact_entry(name, stage.name, relative,
                                                              figures)]}


registry.register(SearchStage, run)
