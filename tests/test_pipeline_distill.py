"""The distill pipeline stage with the methods that build their own student (cpf), distil
per fold on a graph dataset (gfkd) or need no teacher (gnn-sd): config errors at load, a
saved CPF student that reloads exactly, and each run end to end through the export stage."""
import json

import numpy as np
import pytest

from edgegnn import pipeline
from edgegnn.distill import cpf
from edgegnn.models import feeds
from edgegnn.models.saving import ModelMeta, load_meta, load_trained, save_trained

GCN = {"architecture": "gcn", "weight_decay": 5e-4, "input_normalization": "row"}
CPF_TEACHER = {"train": {"name": "gcn", "model": GCN,
                         "train": {"epochs": 100, "patience": 100}}}
CPF = {"distill": {"name": "cpf", "teacher": "gcn",
                   "distill": {"method": "cpf", "temperature": 0.5, "epochs": 100}}}
GIN = {"architecture": "gin", "hidden_units": 16, "num_layers": 2, "dropout": 0.0}
GIN_TEACHER = {"train": {"name": "gin", "model": GIN,
                         "train": {"epochs": 10, "seeds": [0], "folds": [1]}}}
GFKD = {"distill": {"name": "gfkd", "teacher": "gin", "student": dict(GIN, batch_norm=False),
                    "distill": {"method": "gfkd", "gfkd_graphs": 16, "gfkd_nodes": 12,
                                "gfkd_steps": 3, "gfkd_samples": 2, "epochs": 3,
                                "batch_size": 8, "weight_decay": 0.0}}}


def _pipeline(dataset, *stages):
  return {"name": "distill", "dataset": dataset, "stages": json.loads(json.dumps(stages))}


def _run(raw, tmp_path):
  out = tmp_path / "out"
  report = pipeline.Runner(pipeline.parse(raw), out=str(out), log=lambda _: None,
                           progress=False).run()
  return report, out


def _export(model, **options):
  return {"export": dict({"model": model, "bench_runs": 3}, **options)}


@pytest.mark.parametrize("raw,message", [
    (_pipeline("cora", CPF_TEACHER, dict(GFKD, distill=dict(GFKD["distill"], teacher="gcn"))),
     "distill(gfkd): method gfkd is for graph classification, but dataset cora is a "
     "node-classification dataset. Use method kd, lsp, glnn, cpf, gnn-sd on cora, or run "
     "gfkd in a pipeline on a graph-classification dataset (mutag,"),
    (_pipeline("mutag", GIN_TEACHER, dict(CPF, distill=dict(CPF["distill"], teacher="gin"))),
     "distill(cpf): method cpf is for node classification, but dataset mutag is a "
     "graph-classification dataset. Use method gfkd on mutag"),
    (_pipeline("mutag", GIN_TEACHER, {"distill": {k: v for k, v in GFKD["distill"].items()
                                                  if k != "student"}}),
     "method gfkd needs `student: <model mapping>`"),
    (_pipeline("cora", CPF_TEACHER, {"distill": {"name": "mlp", "teacher": "gcn",
                                                 "student": GCN,
                                                 "distill": {"method": "glnn"}}}),
     "glnn distils into an MLP student; got architecture 'gcn'"),
    (_pipeline("cora", CPF_TEACHER, dict(CPF, distill=dict(CPF["distill"],
                                                           quantization={}))),
     "the CPF student (built by method cpf when `student:` is omitted) has no "
     "quantization-aware form"),
    (_pipeline("cora", CPF_TEACHER, CPF, _export("cpf", layout="dense")),
     "export(cpf): 'cpf', a CPF student, is bound to the one graph it was trained on (its "
     "per-node gate and clamped labels are weights) and is built in the sparse layout only; "
     "got layout 'dense'. Export it with layout sparse"),
    (_pipeline("cora", CPF_TEACHER, CPF, _export("cpf", formats=["tflite-int8"],
                                                 layout="sparse")),
     "export(cpf): 'cpf', a CPF student, exports in float compute only "
     "(tflite-float32, tflite-float16, tflite-dynamic-int8); got ['tflite-int8']"),
    (_pipeline("cora", CPF_TEACHER, CPF, {"ptq": {"name": "q", "model": "cpf"}}),
     "ptq(q): model 'cpf' is a CPF student, which has no quantized form"),
    (_pipeline("mutag", {"train": dict(GIN_TEACHER["train"], model=dict(GIN, batch_norm=False))},
               dict(GFKD, distill=dict(GFKD["distill"], distill=dict(
                   GFKD["distill"]["distill"], gfkd_feature_support=0.01)))),
     "distill(gfkd): gfkd_feature_support reads the node-type mix from the teacher's first "
     "batch-norm layer and needs a GIN teacher with batch_norm: true; teacher 'gin' has "
     "architecture 'gin', batch_norm False. Set gfkd_feature_support to 0"),
    (_pipeline("cora", CPF_TEACHER, dict(CPF, distill=dict(CPF["distill"], studnet={}))),
     "Unknown key stages[1].distill(cpf).studnet. Did you mean 'student'?"),
])
def test_invalid_distill_stages_fail_at_load_naming_method_task_and_fix(raw, message):
  with pytest.raises(pipeline.PipelineError) as error:
    pipeline.parse(raw)
  assert message in str(error.value)


def test_students_built_by_the_method_need_no_student_mapping():
  glnn = {"distill": {"name": "mlp", "teacher": "gcn",
                      "distill": {"method": "glnn", "alpha": 0.0}}}
  loaded = pipeline.parse(_pipeline("cora", CPF_TEACHER, CPF, glnn, _export("cpf")))
  _, cpf_stage, glnn_stage, _ = loaded.stages
  assert cpf_stage.builds_cpf_student and cpf_stage.model_spec is None
  assert cpf_stage.to_dict()["distill"]["student"] is None
  assert glnn_stage.model_spec.architecture == "mlp" and not glnn_stage.builds_cpf_student
  plan = pipeline.plan(loaded)
  assert "2. distill cpf: cpf from gcn into a CPF student (10 propagation steps)" in plan[2]
  assert "3. distill mlp: glnn from gcn into mlp (256 units)" in plan[3]
  gfkd_plan = pipeline.plan(pipeline.parse(_pipeline("mutag", GIN_TEACHER, GFKD)))
  assert gfkd_plan[2].endswith("seeds [0] x the folds of gin")


def test_cpf_student_saves_and_reloads_exactly(cora, tmp_path):
  from edgegnn.distill.distill import cpf_student_arguments
  from edgegnn.distill import DistillConfig
  arguments = cpf_student_arguments(cora, DistillConfig(method="cpf", cpf_steps=3,
                                                        cpf_hidden_units=8))
  model = cpf.build_cpf_student(cora.num_features, cora.num_classes,
                                labelled_index=cora.train_index,
                                labels=cora.labels[cora.train_index], **arguments)
  rng = np.random.default_rng(0)
  for weight in model.trainable_weights:
    weight.assign(weight + rng.normal(scale=0.3, size=weight.shape).astype(np.float32))
  meta = ModelMeta(None, cora.name, cora.task, cora.num_features, cora.num_classes,
                   kind="cpf", arguments=arguments)
  save_trained(tmp_path, model, meta)
  saved = json.loads((tmp_path / "model.json").read_text())
  assert saved["kind"] == "cpf" and saved["spec"] is None
  assert saved["arguments"] == dict(num_nodes=2708, num_steps=3, confidence="inductive",
                                    hidden_units=8, dropout=0.8, edge_dropout=0.5)
  loaded, loaded_meta = load_trained(tmp_path)
  assert loaded_meta == meta and loaded_meta.bound_nodes == 2708
  assert [type(l) for l in loaded.layers] == [type(l) for l in model.layers]
  plp, trained_plp = loaded.get_layer("plp"), model.get_layer("plp")
  assert type(plp) is cpf.ParameterizedLabelPropagation
  unnamed = lambda layer: {k: v for k, v in layer.get_config().items()
                           if k not in ("name", "feature_transform")}
  assert unnamed(plp) == unnamed(trained_plp)
  assert [(type(l), unnamed(l)) for l in plp.feature_transform.layers] == [
      (type(l), unnamed(l)) for l in trained_plp.feature_transform.layers]
  for a, b in zip(loaded.get_weights(), model.get_weights()):
    np.testing.assert_array_equal(a, b)        # the clamped prior is restored too
  feed = feeds.graph_feed(cora.graph)
  np.testing.assert_array_equal(loaded(feed)["logits"].numpy(), model(feed)["logits"].numpy())
  with pytest.raises(ValueError, match="bound to the one graph of 2708 nodes .* sparse layout "
                                       "only; got layout 'dense'"):
    load_trained(tmp_path, layout="dense", capacity=2708)
  # `edgegnn convert` sizes the artifact to the student's graph and refuses other layouts.
  from click.testing import CliRunner
  from edgegnn.cli import main
  artifact = tmp_path / "cpf.tflite"
  converted = CliRunner().invoke(main, ["convert", str(tmp_path), "-o", str(artifact)])
  assert converted.exit_code == 0, converted.output
  assert json.loads((tmp_path / "cpf.tflite.json").read_text())["capacity"] == 2708
  dense = CliRunner().invoke(main, ["convert", str(tmp_path), "--layout", "dense", "-o",
                                    str(tmp_path / "dense.tflite")])
  assert dense.exit_code != 0 and "sparse layout only" in dense.output
  int8 = CliRunner().invoke(main, ["convert", str(tmp_path), "--format", "tflite-int8", "-o",
                                   str(tmp_path / "int8.tflite")])
  assert int8.exit_code != 0 and "exports in float compute only" in int8.output
  assert not (tmp_path / "int8.tflite").exists() and not (tmp_path / "dense.tflite").exists()
  with pytest.raises(ValueError, match="no ModelSpec and no quantized form"):
    ModelMeta(None, cora.name, cora.task, cora.num_features, cora.num_classes,
              extra={"quantization": {}}, kind="cpf", arguments=arguments)


# The default run checks the stage's plumbing on 20 epochs each; the accuracy figures
# need 100 (slow).
@pytest.mark.parametrize("epochs", [pytest.param(20, id="20-epochs"),
                                    pytest.param(100, id="100-epochs", marks=pytest.mark.slow)])
def test_cpf_stage_distils_a_gcn_teacher_and_exports_for_its_graph(cora, tmp_path, epochs):
  # float16 (the third float format) of a CPF student: tests/test_distill_cpf.py
  formats = ["tflite-float32", "tflite-dynamic-int8"]
  teacher_stage = {"train": dict(CPF_TEACHER["train"],
                                 train={"epochs": epochs, "patience": 100})}
  cpf_stage = {"distill": dict(CPF["distill"],
                               distill=dict(CPF["distill"]["distill"], epochs=epochs))}
  report, out = _run(_pipeline("cora", teacher_stage, cpf_stage,
                               _export("cpf", formats=formats)), tmp_path)
  teacher, student = report["models"]
  if epochs == 100:
    # measured (seed 0, teacher and CPF 100 epochs each): teacher 0.815, CPF 0.837
    assert teacher["test_accuracy"] > 0.77
    assert student["test_accuracy"] > 0.78
  assert (student["method"], student["architecture"], student["teacher"]) == ("cpf", "cpf",
                                                                            "gcn")
  run, = student["runs"]
  assert run["teacher_test_accuracy"] == teacher["test_accuracy"]
  assert (run["seed"], run["fold"]) == (0, 0)
  # confidence kernel, per-node gate, feature transformation; prior labels and label mask
  assert student["params"] == 1433 + 2708 + (1433 * 7 + 7) + (2708 * 7 + 2708)
  model, meta = load_trained(out / student["path"])
  assert meta.kind == "cpf" and meta.extra["distill"] == {"method": "cpf", "teacher": "gcn"}
  logits = model(feeds.graph_feed(cora.graph))["logits"].numpy()
  accuracy = np.mean(logits[cora.test_index].argmax(1) == cora.labels[cora.test_index])
  assert accuracy == pytest.approx(student["test_accuracy"])
  assert [a["format"] for a in report["artifacts"]] == formats
  for artifact in report["artifacts"]:
    assert artifact["capacity"] == 2708 and artifact["layout"] == "sparse"
    assert artifact["agreement"] >= 0.99
    assert artifact["test_accuracy"] == pytest.approx(student["test_accuracy"], abs=0.01)
    assert json.loads((out / artifact["sidecar"]).read_text())["capacity"] == 2708


@pytest.fixture(scope="module")
def gfkd_run(tmp_path_factory):
  """One pipeline, one GIN teacher, two GFKD students (plain and Degree-Quant INT8), each
  exported to full int8 (a dense GIN's float32 export is in tests/test_models_tflite.py)."""
  quantized = dict(GFKD, distill=dict(GFKD["distill"], name="gfkd_dq", quantization={
      "method": "dq", "weight_bits": 8, "activation_bits": 8}))
  raw = _pipeline("mutag", GIN_TEACHER, GFKD, quantized,
                  _export("gfkd", layout="dense", formats=["tflite-int8"]),
                  _export("gfkd_dq", layout="dense", formats=["tflite-int8"]))
  return _run(raw, tmp_path_factory.mktemp("gfkd"))


def _model_and_artifacts(report, name):
  model, = [m for m in report["models"] if m["name"] == name]
  return model, [a for a in report["artifacts"] if a["model"] == name]


def test_gfkd_stage_distils_per_fold_and_exports_like_any_graph_model(mutag, gfkd_run):
  formats = ["tflite-int8"]
  report, out = gfkd_run
  assert [m["name"] for m in report["models"]] == ["gin", "gfkd", "gfkd_dq"]
  teacher, _ = _model_and_artifacts(report, "gin")
  student, artifacts = _model_and_artifacts(report, "gfkd")
  assert (student["method"], student["architecture"], student["folds"]) == ("gfkd", "gin", [1])
  run, = student["runs"]
  assert (run["seed"], run["fold"]) == (0, 1)
  assert run["path"] == "models/gfkd/seed0_fold1"
  # The student is tested on the fold its teacher was trained for (fold 1's test graphs).
  assert run["teacher_test_accuracy"] == teacher["runs"][0]["test_accuracy"]
  for key in ("test_accuracy", "teacher_test_accuracy", "generator_teacher_agreement"):
    assert 0.0 <= run[key] <= 1.0
  model, meta = load_trained(out / run["path"], batched=True)
  assert meta.kind == "zoo" and meta.spec.batch_norm is False
  assert meta.extra["distill"] == {"method": "gfkd", "teacher": "gin"}
  from edgegnn.training import make_task, predict, accuracy
  task = make_task(mutag, 1)
  test = task.split("test")
  assert accuracy(predict(model, task, test), mutag.labels[test]) == pytest.approx(
      run["test_accuracy"])
  assert [a["format"] for a in artifacts] == formats
  for artifact in artifacts:
    assert artifact["agreement"] >= 0.97 and artifact["layout"] == "dense"
    assert 0.0 <= artifact["test_accuracy"] <= 1.0
  # MUTAG's folds have no validation split: the teacher's val_accuracy (NaN in memory) is
  # written as null, and report.json parses with a strict parser.
  def refuse(token):
    raise ValueError(f"non-standard JSON token {token}")
  written = json.loads((out / "report.json").read_text(), parse_constant=refuse)
  assert written["models"][0]["runs"][0]["val_accuracy"] is None
  assert np.isnan(teacher["runs"][0]["val_accuracy"])


def test_glnn_stage_without_student_distils_the_default_mlp(tmp_path):
  glnn = {"distill": {"name": "mlp", "teacher": "gcn",
                      "distill": {"method": "glnn", "alpha": 0.0, "temperature": 0.5,
                                  "epochs": 30}}}
  teacher = dict(CPF_TEACHER, train=dict(CPF_TEACHER["train"], train={"epochs": 30}))
  report, _ = _run(_pipeline("cora", teacher, glnn), tmp_path)
  student = report["models"][1]
  assert (student["method"], student["architecture"]) == ("glnn", "mlp")
  assert student["params"] == 1433 * 256 + 256 + 256 * 7 + 7     # GLNN_STUDENT
  # measured (seed 0, teacher and student 30 epochs each): teacher 0.751, GLNN MLP 0.687
  assert student["test_accuracy"] > 0.63


def test_gfkd_stage_trains_a_degree_quant_student_on_generated_graphs(gfkd_run):
  """A quantization-aware GFKD student: Degree-Quant INT8 fake-quant layers trained on the
  generator's graphs only, saved with its quantization, exported to full int8."""
  report, out = gfkd_run
  student, (artifact,) = _model_and_artifacts(report, "gfkd_dq")
  assert (student["method"], student["bits"], student["weight_bits"]) == ("gfkd+dq", 8, 8)
  run, = student["runs"]
  assert run["path"] == "models/gfkd_dq/seed0_fold1"
  model, meta = load_trained(out / run["path"], batched=True)
  assert meta.quantization is not None and meta.quantization.method == "dq"
  assert any("quant" in type(layer).__name__.lower() for layer in model.submodules)
  plain, _ = load_trained(out / "models/gfkd/seed0_fold1", batched=True)
  assert not any("quant" in type(layer).__name__.lower() for layer in plain.submodules)
  assert artifact["format"] == "tflite-int8" and artifact["agreement"] >= 0.97


def test_gnn_sd_stage_needs_no_teacher_and_exports_its_gcn(cora, tmp_path):
  """The stage's plumbing on 20 epochs; what 60 epochs of the same training reach
  (>= 0.6) is checked in tests/test_distill_end_to_end.py (node gate)."""
  deep = dict(GCN, num_layers=4)
  sd = {"distill": {"name": "sd", "student": deep,
                    "distill": {"method": "gnn-sd", "sd_weight": 1.0, "sd_gate": "node",
                                "epochs": 20, "learning_rate": 0.02}}}
  formats = ["tflite-float32"]
  raw = _pipeline("cora", sd, _export("sd", formats=formats, layout="sparse"))
  loaded = pipeline.parse(raw)
  assert loaded.stages[0].teacher is None and loaded.stages[0].requires() == []
  report, out = _run(raw, tmp_path)
  student, = report["models"]
  assert (student["method"], student["architecture"]) == ("gnn-sd", "gcn")
  assert student["runs"][0]["epochs_run"] == 20        # patience 100: no early stop
  model, meta = load_trained(out / student["path"])
  assert meta.kind == "zoo" and meta.spec.num_layers == 4
  assert meta.extra["distill"] == {"method": "gnn-sd", "teacher": None}
  assert [a["format"] for a in report["artifacts"]] == formats
  # measured: agreement 1.000 (float32), 4 FULLY_CONNECTED
  for artifact in report["artifacts"]:
    assert artifact["ops"]["FULLY_CONNECTED"] == 4          # one per GCN layer
    assert artifact["agreement"] >= 0.99, artifact
    assert artifact["test_accuracy"] == pytest.approx(student["test_accuracy"], abs=0.01)
