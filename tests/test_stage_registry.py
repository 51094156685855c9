"""Stage kinds as plug-ins: every built-in kind comes from its registered module, a new kind
is one module plus `registry.register`, and each kind's options are checked by its own
config dataclass (unknown and foreign options named, with the valid ones)."""
import collections
import dataclasses
import json
import pathlib
from typing import ClassVar

import numpy as np
import pytest

from edgegnn import pipeline
from edgegnn.pipeline import registry
from edgegnn.pipeline.context import model_entry
from edgegnn.pipeline.stages.base import Stage

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_every_built_in_kind_is_registered_by_its_module():
  for name, module in registry.BUILT_IN.items():
    kind = registry.get(name)
    assert kind.name == name and kind.config.kind == name
    assert kind.config.__module__ == module and callable(kind.run)
    assert dataclasses.is_dataclass(kind.config) and issubclass(kind.config, Stage)
  assert set(registry.names()) >= set(registry.BUILT_IN)


def test_an_unknown_kind_lists_every_kind():
  raw = {"dataset": "cora", "stages": [{"quantize": {"name": "q"}}]}
  with pytest.raises(pipeline.PipelineError) as error:
    pipeline.parse(raw)
  for name in registry.BUILT_IN:
    assert name in str(error.value)


@pytest.mark.parametrize("stage,words", [
    # An option of another distillation method names the method and its options.
    ({"distill": {"name": "s", "teacher": "gcn", "student": {"architecture": "mlp"},
                  "distill": {"method": "kd", "gfkd_graphs": 512}}},
     ["method kd", "gfkd_graphs", "gfkd"]),
    ({"distill": {"name": "s", "teacher": "gcn",
                  "distill": {"method": "glnn", "lsp_weight": 0.1}}},
     ["method glnn", "lsp_weight", "lsp"]),
    # A typo in a stage's own keys suggests the key and lists the valid ones.
    ({"export": {"model": "gcn", "formts": ["tflite-float32"]}},
     ["formts", "'formats'", "bench_runs"]),
    ({"ptq": {"name": "q", "model": "gcn", "quantization": {"method": "dq"}}},
     ["quantization.method", "ptq"]),
    ({"qat": {"name": "q", "quantization": {"weight_bit": 4}}}, ["weight_bit", "weight_bits"]),
])
def test_unknown_and_foreign_options_name_the_stage_and_valid_options(stage, words):
  raw = {"dataset": "cora", "stages": [{"train": {"name": "gcn"}}, stage]}
  with pytest.raises(pipeline.PipelineError) as error:
    pipeline.parse(raw)
  message = str(error.value)
  assert message.startswith("stages[1].") or "stages[1]." in message, message
  for word in words:
    assert word in message, (word, message)


def test_nested_sections_are_their_config_dataclasses_not_mappings():
  from edgegnn.models.spec import ModelSpec
  from edgegnn.quantization.config import QuantizationConfig
  from edgegnn.training.config import TrainConfig
  loaded = pipeline.load(ROOT / "pipelines" / "quickstart.yaml")
  train, dq = loaded.stages[0], loaded.stages[3]
  assert isinstance(train.model, ModelSpec) and isinstance(train.train, TrainConfig)
  assert train.model.hidden_units == 16 and train.train.seeds == (0, 1, 2)
  assert isinstance(dq.quantization, QuantizationConfig) and dq.quantization.method == "dq"
  # The cache key is the stage's whole config, defaults included.
  assert dq.to_dict()["degree_quant"]["quantization"]["p_max"] == 0.1


def test_spec_option_tables_match_the_layers_that_implement_them():
  from edgegnn.layers import activations, attention, readout
  from edgegnn.models import spec
  assert spec.ACTIVATIONS == activations.ACTIVATIONS
  assert spec.ATTENTIONS == attention.ATTENTIONS
  assert spec.READOUTS == readout.REDUCTIONS


def test_config_option_tables_match_the_modules_that_implement_them():
  from edgegnn.binary import config as binary_config, knn, quantizers
  from edgegnn.distill import config as distill_config, cpf, lsp, self_distillation
  from edgegnn.distill import fake_graphs
  assert binary_config.METRICS == knn.METRICS
  assert binary_config.QUANTIZERS == quantizers.QUANTIZERS
  for alias in binary_config.QUANTIZERS:
    quantizers.get(alias)
  assert distill_config.LSP_KERNELS == lsp.KERNELS
  for kernel in lsp.KERNELS:
    lsp.get_kernel(kernel)
  assert distill_config.LSP_DIRECTIONS == lsp.DIRECTIONS
  assert distill_config.CPF_CONFIDENCES == cpf.CONFIDENCES
  assert distill_config.SD_GATES == self_distillation.GATES
  assert distill_config.FEATURE_SUPPORT_TEACHER == fake_graphs.FEATURE_SUPPORT_TEACHER


# The plug-in of docs/architecture.md: one module with a config dataclass and a run.
@dataclasses.dataclass(frozen=True)
class MajorityStage(Stage):
  """Predicts the most frequent training label for every node (an accuracy floor)."""
  kind: ClassVar[str] = "majority"
  name: str
  smoothing: float = 0.0

  def __post_init__(self):
    if self.smoothing < 0:
      raise ValueError(f"smoothing must be >= 0, got {self.smoothing}.")

  def describe(self) -> str:
    return "the most frequent training label for every node"


def run_majority(ctx, stage):
  dataset = ctx.dataset
  counts = collections.Counter(dataset.labels[dataset.train_index].tolist())
  label = max(sorted(counts), key=counts.get)
  test = dataset.labels[dataset.test_index]
  directory = ctx.model_dir(stage.name, 0, 0)
  directory.mkdir(parents=True)
  (directory / "label.json").write_text(json.dumps({"label": label}))
  run = {"seed": 0, "fold": 0, "test_accuracy": float((test == label).mean()),
         "path": ctx.relative(directory / "label.json")}
  return {"models": [model_entry(stage.name, "majority", None, 0, [run], [0], [0])]}


@pytest.fixture
def majority_kind():
  kind = registry.register(MajorityStage, run_majority)
  yield kind
  registry._KINDS.pop("majority")  # pylint: disable=protected-access


def test_a_new_kind_is_one_class_and_one_run(majority_kind, tmp_path, cora):
  assert "majority" in registry.names()
  raw = {"name": "floor", "dataset": "cora",
         "stages": [{"majority": {"name": "prior"}}]}
  loaded = pipeline.parse(raw)
  assert pipeline.plan(loaded)[1] == ("  1. majority prior: the most frequent training label "
                                      "for every node")
  with pytest.raises(pipeline.PipelineError, match=r"stages\[0\]\.majority\(prior\): "
                                                   r"smoothing must be >= 0"):
    pipeline.parse({**raw, "stages": [{"majority": {"name": "prior", "smoothing": -1.0}}]})
  with pytest.raises(pipeline.PipelineError, match="Valid keys: name, smoothing"):
    pipeline.parse({**raw, "stages": [{"majority": {"name": "prior", "smothing": 1.0}}]})
  lines = []
  report = pipeline.Runner(loaded, out=str(tmp_path / "out"), log=lines.append).run()
  labels = cora.labels
  expected = np.mean(labels[cora.test_index]
                     == np.bincount(labels[cora.train_index]).argmax())
  model, = report["models"]
  assert model["test_accuracy"] == pytest.approx(expected)
  assert json.loads((tmp_path / "out" / model["path"]).read_text())["label"] == \
      int(np.bincount(labels[cora.train_index]).argmax())
  assert lines[0] == "stage 1/1 majority prior"
  again = []
  pipeline.Runner(loaded, out=str(tmp_path / "out"), log=again.append).run()
  assert again[0].startswith("[cached] stage 1/1 majority prior: ")


def test_registering_a_taken_name_with_another_class_fails(majority_kind):
  @dataclasses.dataclass(frozen=True)
  class Other(Stage):
    kind: ClassVar[str] = "majority"
    name: str
  with pytest.raises(ValueError, match="registered twice"):
    registry.register(Other, run_majority)


def test_a_binary_model_of_the_other_task_fails_at_load():
  raw = {"dataset": "mutag", "stages": [{"binarize": {
      "name": "b", "binarize": {"staged": False, "scratch": True,
                                "model": {"architecture": "gcn"}}}}]}
  with pytest.raises(pipeline.PipelineError,
                     match=r"stages\[0\]\.binarize\(b\): .*gcn is a node-classification model"):
    pipeline.parse(raw)


@pytest.mark.parametrize("dataset,export,words", [
    # Checked against the dataset when the file loads, not after training.
    ("mutag", {"model": "m", "layout": "dense", "capacity": 10}, ["capacity 10", "28 nodes"]),
])
def test_dataset_dependent_export_options_fail_at_load(dataset, export, words):
  import edgegnn.data
  ds = edgegnn.data.load(dataset)
  assert max(g.num_nodes for g in ds.graphs) == 28  # the figure the message names
  arch = "gin" if dataset == "mutag" else "gcn"
  raw = {"dataset": dataset, "stages": [{"train": {"name": "m", "model": {"architecture": arch}}},
                                        {"export": export}]}
  with pytest.raises(pipeline.PipelineError) as error:
    pipeline.parse(raw)
  for word in words:
    assert word in str(error.value), str(error.value)


def test_binary_features_of_a_real_valued_graph_fail_at_load(tmp_path):
  n = 30
  ring = np.arange(n)
  features = np.random.default_rng(0).normal(size=(n, 4)).astype(np.float32)
  assert np.any((features != 0) & (features != 1))
  np.savez(tmp_path / "ring.npz", node_features=features,
           edge_source=np.concatenate([ring, (ring + 1) % n]),
           edge_target=np.concatenate([(ring + 1) % n, ring]), labels=ring % 3)
  raw = {"dataset": {"format": "npz", "path": str(tmp_path / "ring.npz"),
                     "split": {"train": 0.6, "val": 0.2, "seed": 0}},
         "stages": [{"train": {"name": "m"}}, {"export": {"model": "m", "features": "binary"}}]}
  with pytest.raises(pipeline.PipelineError, match=r"stages\[1\]\.export\(m\): features: binary"):
    pipeline.parse(raw)
  raw["stages"][1]["export"]["features"] = "sparse"
  assert pipeline.parse(raw).stages[1].features == "sparse"
