"""The dry-run plan: one human-readable line per stage (`edgegnn run --dry-run`)."""
from __future__ import annotations

from edgegnn.pipeline.config import Pipeline
from edgegnn.pipeline.stages import (BinarizeStage, DistillStage, FederatedStage, ExportStage,
                                     PtqStage, QuantizedTrainStage, TrainStage)


def plan(pipeline: Pipeline) -> list[str]:
  """One human-readable line per stage (what `edgegnn run --dry-run` prints)."""
  from edgegnn.distill import methods  # pylint: disable=g-import-not-at-top
  lines = [f"pipeline {pipeline.name}: dataset {pipeline.dataset}, out {pipeline.out}"]
  for i, stage in enumerate(pipeline.stages):
    if isinstance(stage, TrainStage):
      s, t = stage.model_spec, stage.train_config
      kind = (f"{stage.kind} ({stage.quantization_config.label})"
              if isinstance(stage, QuantizedTrainStage) else "train")
      lines.append(f"  {i + 1}. {kind} {stage.name}: {s.architecture} ({s.num_layers} layers, "
                   f"{s.hidden_units} units), {t.epochs} epochs max, seeds {list(t.seeds)}")
    elif isinstance(stage, DistillStage):
      c, s = stage.distill_config, stage.model_spec
      student = (f"a CPF student ({c.cpf_steps} propagation steps)" if s is None else
                 f"{s.architecture} ({s.hidden_units} units"
                 + (f", {stage.quantization_config.label}" if stage.quantization_config else "")
                 + ")")
      folds = (f" x the folds of {stage.teacher}"
               if methods.get(c.method).task == "graph" else "")
      lines.append(f"  {i + 1}. distill {stage.name}: {c.method} from "
                   f"{stage.teacher or 'itself'} into {student}, {c.epochs} epochs max, "
                   f"seeds {list(stage.seeds)}{folds}")
    elif isinstance(stage, FederatedStage):
      c, m = stage.federated_config, stage.model_spec
      lines.append(f"  {i + 1}. federated {stage.name}: {m.architecture} on {c.num_clients} "
                   f"{c.setting}-level clients, {c.strategy}, {c.rounds} rounds x "
                   f"{c.local_epochs} local epochs, {c.engine} engine"
                   + (" (Degree-Quant clients)" if c.quantization else "")
                   + f", seeds {list(c.seeds)}")
    elif isinstance(stage, BinarizeStage):
      c = stage.binarize_config
      how = (f"staged distillation from {stage.teacher}" if c.staged else "trained from scratch")
      lines.append(f"  {i + 1}. binarize {stage.name}: binary {c.spec.architecture} "
                   f"({c.spec.hidden_units} units), {how}, {c.epochs} epochs per stage, seeds "
                   f"{list(stage.seeds)}; lce artifact verified on the LCE interpreter + bench")
    elif isinstance(stage, PtqStage):
      lines.append(f"  {i + 1}. ptq {stage.name}: {stage.quantization_config.label} of model "
                   f"{stage.model}, ranges calibrated on training graphs")
    else:
      lines.append(f"  {i + 1}. export {stage.produces}: model {stage.model}, {stage.layout} "
                   f"layout, formats {list(stage.formats)}, target {stage.target or 'none'}; "
                   "verify + bench each artifact")
  return lines
