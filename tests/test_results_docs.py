"""The committed results pages and the README quote the measured JSON, not typed-in figures:
docs/binary.md and docs/distillation.md are exactly what tools/binary_results.py and
tools/distill_results.py render from their JSON, the README's binary, distillation and
Degree-Quant figures are those JSON files' means, the pipeline figures are
docs/results/pipelines.json (tools/pipeline_results.py), and the sweep figures quoted in
docs/distillation.md are the means of docs/results/distill_selection.json's lines (GNN-SD's:
test_results_docs_gnn_sd.py)."""
import json
import pathlib

import numpy as np
import yaml

from edgegnn.training import TrainConfig
import tools.binary_results as binary_results
import tools.distill_results as distill_results
import tools.select_on_validation as select_on_validation

from quoted_results import DISTILL_RUNS, DISTILLATION, README, SELECTION, row_mean, selection

ROOT = pathlib.Path(__file__).resolve().parents[1]
RECORDS = json.loads(binary_results.RESULTS.read_text())
DEGREE_QUANT = json.loads((ROOT / "docs" / "results" / "degree_quant.json").read_text())


def _runs(experiment):
  runs = [r for r in RECORDS if r["experiment"] == experiment]
  assert len(runs) == 5, (experiment, len(runs))
  return runs


def test_binary_page_is_rendered_from_the_json():
  assert binary_results.DOC.read_text() == binary_results.render_text(RECORDS)


def test_readme_binary_figures_are_the_json_means():
  for experiment in ("cora_gcn", "citeseer_gcn_kd", "cora_sage", "digits_bin_edgeconv_wide",
                     "digits_xor_edgeconv_wide", "digits_bin_edgeconv_wide_long"):
    assert binary_results._stat([r["test_accuracy"] for r in _runs(experiment)]) in README
  for experiment, key in (("digits_bin_edgeconv_wide", "teacher_test_accuracy"),
                          ("digits_xor_edgeconv_wide", "teacher_test_accuracy"),
                          ("digits_xor_edgeconv_wide", "scratch_test_accuracy"),
                          ("digits_bin_edgeconv_wide_fp32kd", "test_accuracy"),
                          ("digits_bin_edgeconv_wide_ft", "test_accuracy"),
                          ("digits_bin_edgeconv_wide_lsp0.1", "test_accuracy"),
                          ("digits_bin_edgeconv_wide_long", "scratch_test_accuracy")):
    assert f"{binary_results._mean_pt(_runs(experiment), key):.1f}" in README


def test_readme_long_schedule_validation_figures_are_the_json_means():
  long, wide = _runs("digits_bin_edgeconv_wide_long"), _runs("digits_bin_edgeconv_wide")
  staged, scratch = (binary_results._stage_val_pt(long, s) for s in ("binary", "scratch"))
  assert f"(validation {staged:.1f} vs {scratch:.1f}, " in README
  # Each method's best recipe on validation is the long one.
  assert staged > binary_results._stage_val_pt(wide, "binary")
  assert scratch > binary_results._stage_val_pt(wide, "scratch")
  wins = sum(r["test_accuracy"] > r["scratch_test_accuracy"] for r in long)
  assert f"{wins} of 5 seeds" in README


def test_quoted_gfkd_step_figures_are_the_json_lines():
  steps = selection("python tools/distill_sweep.py gfkd FOLD '{\"bn2_s100\"")
  acc = {(r["seed"], r["v"]): f"{100 * r['train_fold_acc']:.1f}" for r in steps}
  (first,) = [e for e in SELECTION if e["command"].startswith(
      "python tools/distill_sweep.py gfkd 0 '{\"sz_ent_bn1_first2\"")]
  acc[0, "bn2_s100"] = f"{100 * first['runs'][0]['train_fold_acc']:.1f}"
  quoted = (f"folds 0 / 1 is {acc[0, 'bn2_s100']} / {acc[1, 'bn2_s100']} after 100 steps, "
            f"{acc[0, 'bn2_s500']} / {acc[1, 'bn2_s500']} after 500 and {acc[0, 'bn2_s2000']} / "
            f"{acc[1, 'bn2_s2000']} after the authors' 2000")
  assert quoted in DISTILLATION


def test_quoted_gfkd_pool_figures_are_the_json_lines():
  (entry,) = [e for e in SELECTION if e["command"].startswith(
      "python tools/distill_sweep.py gfkd FOLD '{\"bn2\": ")]
  line = {(r["seed"], r["v"]): r for r in entry["runs"]}
  pct = lambda fold, v, key: f"{100 * line[fold, v][key]:.1f}"
  for key, what in (("train_fold_acc", "lifted the student"),
                    ("agree_teacher", "its agreement with the teacher")):
    before = " / ".join(pct(f, "bn2", key) for f in (0, 1, 4))
    after = " / ".join(pct(f, "bn2_snap10", key) for f in (0, 1, 4))
    assert f"{what} from {before} % to {after} %" in DISTILLATION, key
  runs = sorted((r for r in DISTILL_RUNS if r["row"] == "gfkd-mutag-pool"),
                key=lambda r: r["seed"])
  test = ", ".join(f"{100 * r['student']:.1f}" for r in runs[:-1])
  assert f"test folds it scores {test} and {100 * runs[-1]['student']:.1f} %" in DISTILLATION


def test_quoted_gfkd_rebn_figures_are_the_json_lines():
  rebn = '\'{"reestimate_batch_norm": true}\''
  (stats,) = selection(f"python tools/distill_sweep.py gfkd-bn-stats 0 {rebn}")
  real, fake = np.array([r[1:] for r in stats["real"]]), np.array([r[1:] for r in stats["fake_init"]])
  assert (f"at most {real[:, 0].max():.2f} (means) and {real[:, 1].max():.1f} (variances; "
          f"running-variance norm {real[:, 3].max():.1f}) in all {len(real)} batch-norm layers, "
          f"against up to {fake[:, 0].max():.1f} and {fake[:, 1].max():.1f}") in DISTILLATION
  lines = {(r["seed"], r["v"]): r for e in SELECTION
           if e["command"].startswith("python tools/distill_sweep.py gfkd FOLD")
           and e["command"].endswith(rebn) for r in e["runs"]}
  acc = lambda v: " / ".join(f"{100 * lines[f, v]['train_fold_acc']:.1f}" for f in (0, 1, 4))
  for what, variant in (("(the paper's)", "rebn_bnall"), ("on the first two layers", "rebn_bn2"),
                        ("all layers with the snapshot pool", "rebn_bnall_snap10"),
                        ("the first two with the pool", "rebn_bn2_snap10")):
    assert f"{what} {acc(variant)} %" in DISTILLATION, variant
  losses = [lines[f, "rebn_bnall"]["gen_loss"] for f in (0, 1, 4)]
  assert f"still {min(losses):.0f}-{max(losses):.0f}:" in DISTILLATION
  stale = {(r["seed"], r["v"]): r for r in selection(
      "python tools/distill_sweep.py gfkd FOLD '{\"bn2\": ")}
  mean = lambda table, v: np.mean([table[f, v]["train_fold_acc"] for f in (0, 1, 4)])
  assert (f"chosen (mean {100 * mean(lines, 'rebn_bn2_snap10'):.1f}, against "
          f"{100 * mean(stale, 'bn2_snap10'):.1f} for") in DISTILLATION
  assert (f"the fold-0 teacher scored {100 * stale[0, 'bn2']['teacher_train_acc']:.1f} % on its "
          f"own training graphs") in DISTILLATION
  assert f"lifts that teacher to {100 * lines[0, 'rebn_bn2']['teacher_train_acc']:.1f} %" in DISTILLATION
  runs = sorted((r for r in DISTILL_RUNS if r["row"] == "gfkd-mutag-rebn-pool"),
                key=lambda r: r["seed"])
  test = ", ".join(f"{100 * r['student']:.1f}" for r in runs[:-1])
  assert (f"test folds it scores {test} and {100 * runs[-1]['student']:.1f} % (teachers "
          f"{100 * np.mean([r['teacher'] for r in runs]):.1f} % on average)") in DISTILLATION


def test_distillation_page_is_rendered_from_the_json():
  assert DISTILLATION == distill_results.render(DISTILL_RUNS)


def test_readme_distillation_figures_are_the_json_means():
  m = row_mean
  for quoted in (
      f"CPF Cora {m('cpf-cora', 'student')} (teacher {m('cpf-cora', 'teacher')}) and CiteSeer "
      f"{m('cpf-citeseer', 'student')} ({m('cpf-citeseer', 'teacher')})",
      f"GLNN MLP {m('glnn-cora', 'student')} (MLP {m('glnn-cora', 'baseline')})",
      f"DQ INT8 + KD {m('dq-kd-cora', 'student')} (DQ alone {m('dq-kd-cora', 'baseline')})",
      f"GCN-8 Cora {m('lsp-cora-val', 'student')} (no KD {m('lsp-cora-val', 'baseline')}) and "
      f"CiteSeer {m('lsp-citeseer-val', 'student')} ({m('lsp-citeseer-val', 'baseline')})",
      f"GNN-SD ({m('sd-cora-400', 'student')} vs plain {m('sd-cora-400', 'baseline')};",
      f"chosen on validation, {m('sd-cora-lr', 'student')} against {m('sd-cora-lr', 'baseline')} "
      f"or {m('sd-cora-lr-0.02', 'baseline')} for the two plain steps",
      f"over 10 validation seeds, both at 0.02: {m('sd-cora-lr10', 'student')} against "
      f"{m('sd-cora-lr10', 'baseline')}; a 64-wide 4-layer GCN: {m('sd-cora-h64', 'student')} "
      f"against {m('sd-cora-h64', 'baseline')}; paired over 10 seeds no test difference is "
      "positive; beyond the target's depth, where plain training breaks down, GNN-SD does "
      f"help: 6 layers {m('sd-cora-6l', 'student')} against {m('sd-cora-6l', 'baseline')}, "
      "paired over 10 seeds",
      f"8 layers {m('sd-cora-8l', 'student')} against {m('sd-cora-8l', 'baseline')}, paired "
      "over 10 seeds",
      f"GFKD (student trained on generated graphs only) {m('gfkd-mutag-support', 'student')} "
      f"% on MUTAG test folds (target 70, GIN teachers {m('gfkd-mutag-support', 'teacher')})",
      "the earlier rows reached at most " + max(
          (m(row, "student") for row in distill_results.ROWS
           if row.startswith("gfkd") and row != "gfkd-mutag-support"), key=float) + " %",
      f"adversarial rounds {m('gfkd-mutag-adv', 'student')} %"):
    assert quoted in README, quoted


def _dq(case, model):
  return f"{100 * DEGREE_QUANT[case]['models'][model]['test_accuracy']:.1f}"


def _dq_delta(case, reference):
  (target,) = [t for t in DEGREE_QUANT[case]["targets"]
               if t["model"] == "dq_int4" and t["reference"] == reference]
  return f"{target['delta']:.1f}"


def test_readme_degree_quant_figures_are_the_json_means():
  for quoted in (
      f"({_dq('mutag_gin', 'dq_int8')} vs {_dq('mutag_gin', 'fp32')}, 5 seeds x 10 folds",
      f"DQ INT4 over QAT INT4 by {_dq_delta('cora_gcn', 'qat_int4')} (GCN Cora), "
      f"{_dq_delta('citeseer_gcn', 'qat_int4')} (GCN CiteSeer: {_dq('citeseer_gcn', 'dq_int4')} "
      f"vs {_dq('citeseer_gcn', 'qat_int4')}, each method's Adam step chosen on validation), "
      f"{_dq_delta('cora_gat', 'qat_int4')} (GAT Cora, QAT fails to train) and "
      f"{_dq_delta('citeseer_gat', 'qat_int4')} pt (GAT CiteSeer)"):
    assert quoted in README, quoted
  for case, label in (("cora_gcn", "Cora GCN"), ("citeseer_gcn", "CiteSeer GCN"),
                      ("cora_gat", "Cora GAT"), ("citeseer_gat", "CiteSeer GAT"),
                      ("mutag_gin", "MUTAG GIN (5 seeds × 10 folds)")):
    models = DEGREE_QUANT[case]["models"]
    cells = [f"{100 * models[m]['test_accuracy']:.1f} ± {100 * models[m]['test_accuracy_std']:.1f}"
             for m in ("fp32", "dq_int8", "qat_int4", "dq_int4")]
    row = f"| {label} | {' | '.join(cells)} |"
    assert row in README, row
  artifact_gaps = [abs(a["test_accuracy"] - a["keras_test_accuracy"])
                   for case in DEGREE_QUANT.values() for a in case["artifacts"]]
  assert f"artifacts within {100 * max(artifact_gaps):.1f} pt of their Keras models" in README


def _learning_rates(pipeline_file) -> dict:
  """Stage name -> Adam step of a pipeline file (TrainConfig's default where unset)."""
  raw = yaml.safe_load((ROOT / "pipelines" / pipeline_file).read_text())
  default = TrainConfig().learning_rate
  return {body["name"]: body.get("train", {}).get("learning_rate", default)
          for stage in raw["stages"] for kind, body in stage.items() if "train" in body}


def test_learning_rate_selection_is_the_json_and_the_reference_case_uses_it():
  result = json.loads(
      (ROOT / "docs" / "results" / "degree_quant_citeseer_gcn_int4_learning_rate.json").read_text())
  doc = (ROOT / "docs" / "degree_quant.md").read_text()
  assert select_on_validation.markdown_table(result) in doc
  assert select_on_validation.select(result["models"]) == result["selected_on_validation"]
  # The reference case trains each INT4 method at the step selected for it on validation.
  steps = {**_learning_rates("citeseer_gcn_int4_learning_rate.yaml"),
           **_learning_rates("degree_quant_citeseer_gcn.yaml")}
  reference = _learning_rates("degree_quant_citeseer_gcn.yaml")
  chosen = result["selected_on_validation"]
  assert reference["qat_int4"] == steps[chosen["qat"]]
  assert reference["dq_int4"] == steps[chosen["dq"]]
  # ... and its dq_int4 runs are the sweep's runs at that step, seed by seed.
  sweep = {m["model"]: m["runs"] for m in result["models"]}[chosen["dq"]]
  case = DEGREE_QUANT["citeseer_gcn"]["models"]["dq_int4"]["runs"]
  assert [(r["seed"], r["test_accuracy"]) for r in sweep] == [
      (r["seed"], r["test_accuracy"]) for r in case]
  seconds = {m["method"]: [] for m in result["models"]}
  for m in result["models"]:
    seconds[m["method"]].append(sum(r["seconds"] for r in m["runs"]))
  assert (f"took {min(seconds['dq']):.0f}–{max(seconds['dq']):.0f} s of training (DQ) and "
          f"{min(seconds['qat']):.0f}–{max(seconds['qat']):.0f} s (QAT)") in doc


def test_quoted_gfkd_adversarial_figures_are_the_json_lines():
  """Session 10's GFKD sweep (each fold's training graphs), the prior-steps diagnostic and
  the gfkd-mutag-adv row's test folds, as quoted in docs/distillation.md."""
  rebn = '\'{"reestimate_batch_norm": true}\''
  lines = {(r["seed"], r["v"]): r for e in SELECTION
           if e["command"].startswith("python tools/distill_sweep.py gfkd FOLD")
           and e["command"].endswith(rebn) for r in e["runs"]}
  for fold in (0, 1, 4):                          # session 9's lines of the same setting
    lines[fold, "pool"] = lines[fold, "rebn_bn2_snap10"]
  acc = lambda fold, v: (f"{100 * lines[fold, v]['train_fold_acc']:.1f}"
                         if (fold, v) in lines else "-")
  row = lambda v: " / ".join(acc(f, v) for f in range(5))
  mean = lambda v: f"{100 * np.mean([lines[f, v]['train_fold_acc'] for f in range(5)]):.1f}"
  assert f"the pool alone {row('pool')} % (mean {mean('pool')})" in DISTILLATION
  assert f"10 more epochs) {row('adv')} % (mean {mean('adv')})" in DISTILLATION
  assert f"between the classes) {row('dir1')} %" in DISTILLATION
  g256 = " / ".join(acc(f, "pool_g256") for f in (1, 2, 3))
  assert f"graphs instead of 128: {g256} % on folds 1 / 2 / 3" in DISTILLATION
  hist = lines[3, "pool"]["pred_hist"]
  assert f"fold 3: {hist[0]} of {sum(hist)} training graphs, {acc(3, 'pool')} %" in DISTILLATION
  assert all(max(lines[f, "pool_g256"]["pred_hist"]) == 169 for f in (1, 3))
  prior = selection("python tools/distill_sweep.py gfkd-prior-steps 1 0.05 400")
  by_lr = {r["lr"]: r["loss"] for r in prior}
  assert (f"from {by_lr[0.05][0]} to {by_lr[0.05][-1]} after 400 steps at Adam step 0.05 and "
          f"to {by_lr[0.2][-1]} at 0.2") in DISTILLATION
  (stats,) = selection(f"python tools/distill_sweep.py gfkd-bn-stats 0 {rebn}")
  r_bn = lambda key: f"{sum(r[1] + r[2] for r in stats[key]):.1f}"
  assert (f"R_BN of real training graphs is {r_bn('real')} (fold 0's teacher; fresh fake "
          f"graphs: {r_bn('fake_init')})") in DISTILLATION
  runs = sorted((r for r in DISTILL_RUNS if r["row"] == "gfkd-mutag-adv"), key=lambda r: r["seed"])
  test = ", ".join(f"{100 * r['student']:.1f}" for r in runs[:-1])
  assert (f"test folds: {test} and {100 * runs[-1]['student']:.1f} % "
          f"({100 * np.mean([r['student'] for r in runs]):.1f} on average, below "
          f"gfkd-mutag-rebn-pool's {row_mean('gfkd-mutag-rebn-pool', 'student')})"
          ) in DISTILLATION


PIPELINES = json.loads((ROOT / "docs" / "results" / "pipelines.json").read_text())


def test_readme_pipeline_figures_are_the_json_of_their_runs():
  """tools/pipeline_results.py's record of the two distillation pipelines, as quoted."""
  pct = lambda x: f"{100 * x:.1f}"
  kib = lambda a: f"{round(a['bytes'] / 1024)} KiB"
  def artifacts(entry):          # by format, with the accuracy and agreement they all share
    arts = {a["format"]: a for a in entry["artifacts"]}
    (accuracy,) = {a["test_accuracy"] for a in arts.values()}
    (agreement,) = {a["agreement"] for a in arts.values()}
    return arts, accuracy, agreement
  cpf = PIPELINES["distill_cora_cpf"]
  arts, accuracy, agreement = artifacts(cpf)
  quoted = (f"GCN teacher {pct(cpf['models']['gcn']['test_accuracy'])} %, CPF student "
            f"{pct(cpf['models']['cpf']['test_accuracy'])} %; float32 "
            f"{kib(arts['tflite-float32'])}, float16 {kib(arts['tflite-float16'])}\n"
            f"and dynamic-int8 {kib(arts['tflite-dynamic-int8'])} artifacts, each at "
            f"{pct(accuracy)} % with agreement {agreement:.3f}; {round(cpf['seconds'])} s)")
  assert quoted in README, quoted
  gfkd = PIPELINES["distill_mutag_gfkd"]
  arts, accuracy, agreement = artifacts(gfkd)
  quoted = (f"teacher {pct(gfkd['models']['gin']['test_accuracy'])} %, GFKD student "
            f"{pct(gfkd['models']['gin_gfkd']['test_accuracy'])} %; float32 "
            f"{kib(arts['tflite-float32'])} and full int8 {kib(arts['tflite-int8'])} dense "
            f"artifacts,\neach at {pct(accuracy)} % with agreement {agreement:.3f}; "
            f"{round(gfkd['seconds'])} s)")
  assert quoted in README, quoted
  assert all(a["layout"] == "dense" for a in gfkd["artifacts"])
  assert all(a["layout"] == "sparse" for a in cpf["artifacts"])


def test_quoted_gfkd_session_11_figures_are_the_json_lines():
  rebn = '\'{"reestimate_batch_norm": true}\''
  lines = {(r["seed"], r["v"]): r for e in SELECTION
           if e["command"].startswith("python tools/distill_sweep.py gfkd FOLD")
           and e["command"].endswith(rebn) for r in e["runs"]}
  acc = lambda fold, v: f"{100 * lines[fold, v]['train_fold_acc']:.1f}"
  assert (f"temperature 5 gives {acc(1, 't5')} % on fold 1 and {acc(3, 't5')} % on fold 3; "
          f"temperature 20 gives {acc(0, 't20')} / {acc(1, 't20')} / {acc(3, 't20')} %"
          ) in DISTILLATION
  hist = lines[3, "hint1"]["pred_hist"]
  assert (f"gives {acc(1, 'hint1')} % on fold 1 and {acc(3, 'hint1')} % on fold 3 "
          f"({hist[0]} of {sum(hist)} graphs called class 0)") in DISTILLATION
  (bn,) = selection("python tools/distill_sweep.py gfkd-first-bn 1")
  assert (f"residual {bn['residual']:.1e}, mean in-degree {bn['recovered_mean_degree']:.3f} "
          f"against the real graphs' {bn['real_mean_degree']:.3f}; feature 2, the commonest "
          f"node type: {bn['recovered_mean_aggregate'][2]:.3f} against "
          f"{bn['real_mean_aggregate'][2]:.3f}") in DISTILLATION


def test_quoted_gfkd_session_12_figures_are_the_json_lines():
  """The valence-cap and node-type-support sweeps on each fold's training graphs, the fold-3
  margin diagnostic and the gfkd-mutag-support row's test folds, as quoted."""
  rebn = '\'{"reestimate_batch_norm": true}\''
  lines = {(r["seed"], r["v"]): r for e in SELECTION
           if e["command"].startswith("python tools/distill_sweep.py gfkd FOLD")
           and e["command"].endswith(rebn) for r in e["runs"]}
  for fold in (0, 1, 4):                          # session 9's lines of the pool's setting
    lines[fold, "pool"] = lines[fold, "rebn_bn2_snap10"]
  acc = lambda fold, v: (f"{100 * lines[fold, v]['train_fold_acc']:.1f}"
                         if (fold, v) in lines else "-")
  row = lambda v: " / ".join(acc(f, v) for f in range(5))
  mean = lambda v: f"{100 * np.mean([lines[f, v]['train_fold_acc'] for f in range(5)]):.1f}"
  for quoted in (f"the pool alone {row('pool')} % (mean {mean('pool')})",
                 f"cap 3 {row('pool_cap3')} % (mean {mean('pool_cap3')})",
                 f"cap 4 {row('pool_cap4')} % (stopped after four folds)",
                 f"support 0.01 {row('pool_support')} % (mean {mean('pool_support')})",
                 f"support 0.01 with cap 4 {row('pool_support_cap4')} % (mean "
                 f"{mean('pool_support_cap4')})",
                 f"no fold below {min(acc(f, 'pool_support') for f in range(5))} %"):
    assert quoted in DISTILLATION, quoted
  means = {v: float(mean(v)) for v in ("pool", "pool_cap3", "pool_support",
                                       "pool_support_cap4")}
  assert max(means, key=means.get) == "pool_support"          # the row's setting
  assert all(lines[f, "pool_support"]["argmax_hist"][t] == 0
             for f in range(5) for t in (0, 1, 3, 4))
  rare = [sum(lines[f, "pool"]["argmax_hist"][t] for t in (0, 1, 3, 4))
          / sum(lines[f, "pool"]["argmax_hist"]) for f in range(5)]
  assert (f"made up {100 * min(rare):.1f}-{100 * max(rare):.1f} % of the pool's final "
          "graphs' nodes") in DISTILLATION
  assert min(rare) == rare[3]                                 # fold 3 had the least
  (margins,) = [e["runs"] for e in SELECTION
                if e["command"].startswith("python tools/distill_sweep.py gfkd 3 ")
                and "margin" in e["note"]]
  pool = {r["v"]: r for r in margins}["pool"]
  assert pool["train_fold_acc"] == lines[3, "pool"]["train_fold_acc"]     # deterministic
  assert (f"ROC AUC {pool['margin_auc_teacher']:.3f} against the teacher's labels and "
          f"{pool['margin_auc_labels']:.3f} against the true ones, but the margin's mean is "
          f"{pool['margin_mean']:.2f} and it calls {pool['pred_hist'][0]} of "
          f"{sum(pool['pred_hist'])} graphs class 0") in DISTILLATION
  runs = sorted((r for r in DISTILL_RUNS if r["row"] == "gfkd-mutag-support"),
                key=lambda r: r["seed"])
  students = [100 * r["student"] for r in runs]
  assert (", ".join(f"{s:.1f}" for s in students[:-1]) + f" and {students[-1]:.1f} % "
          f"({np.mean(students):.1f} on average)") in DISTILLATION
  assert f"std {np.std(students):.1f}; one test graph is {100 / 18:.1f} pt" in DISTILLATION
