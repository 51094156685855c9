"""The committed results pages and the README quote the measured JSON, not typed-in figures:
docs/binary.md and docs/distillation.md are exactly what tools/binary_results.py and
tools/distill_results.py render from their JSON, every figure of the README's results table
and of docs/limits.md is its JSON value, and the sweep figures quoted in docs/distillation.md
are the means of docs/results/distill_selection.json's lines (GNN-SD's:
test_results_docs_gnn_sd.py). Figures are compared as numbers pulled from their table cell or
page, never as sentences."""
import json
import pathlib
import re
import subprocess
import sys

import numpy as np
import yaml

from edgegnn.training import TrainConfig

from quoted_results import (DISTILL_RUNS, DISTILLATION, README, SELECTION, assert_quoted,
                            row_mean, selection)

ROOT = pathlib.Path(__file__).resolve().parents[1]
RECORDS = json.loads((ROOT / "docs" / "binary_results.json").read_text())
DEGREE_QUANT = json.loads((ROOT / "docs" / "results" / "degree_quant.json").read_text())


def _runs(experiment):
  runs = [r for r in RECORDS if r["experiment"] == experiment]
  assert len(runs) == 5, (experiment, len(runs))
  return runs


def _tool_check(*args):
  """Runs a renderer with its check flag: it re-renders from the JSON and compares."""
  done = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT,
                        timeout=300, check=False)
  assert done.returncode == 0, done.stderr[-2000:]


def test_binary_page_is_rendered_from_the_json():
  _tool_check("tools/binary_results.py", "render", "--check")


def test_quoted_gfkd_step_figures_are_the_json_lines():
  steps = selection("python tools/distill_sweep.py gfkd FOLD '{\"bn2_s100\"")
  acc = {(r["seed"], r["v"]): f"{100 * r['train_fold_acc']:.1f}" for r in steps}
  (first,) = [e for e in SELECTION if e["command"].startswith(
      "python tools/distill_sweep.py gfkd 0 '{\"sz_ent_bn1_first2\"")]
  acc[0, "bn2_s100"] = f"{100 * first['runs'][0]['train_fold_acc']:.1f}"
  quoted = (f"folds 0 / 1 is {acc[0, 'bn2_s100']} / {acc[1, 'bn2_s100']} after 100 steps, "
            f"{acc[0, 'bn2_s500']} / {acc[1, 'bn2_s500']} after 500 and {acc[0, 'bn2_s2000']} / "
            f"{acc[1, 'bn2_s2000']} after the authors' 2000")
  assert_quoted(quoted, DISTILLATION)


def test_quoted_gfkd_pool_figures_are_the_json_lines():
  (entry,) = [e for e in SELECTION if e["command"].startswith(
      "python tools/distill_sweep.py gfkd FOLD '{\"bn2\": ")]
  line = {(r["seed"], r["v"]): r for r in entry["runs"]}
  pct = lambda fold, v, key: f"{100 * line[fold, v][key]:.1f}"
  for key, what in (("train_fold_acc", "lifted the student"),
                    ("agree_teacher", "its agreement with the teacher")):
    before = " / ".join(pct(f, "bn2", key) for f in (0, 1, 4))
    after = " / ".join(pct(f, "bn2_snap10", key) for f in (0, 1, 4))
    assert_quoted(f"{what} from {before} % to {after} %", DISTILLATION)
  runs = sorted((r for r in DISTILL_RUNS if r["row"] == "gfkd-mutag-pool"),
                key=lambda r: r["seed"])
  test = ", ".join(f"{100 * r['student']:.1f}" for r in runs[:-1])
  assert_quoted(f"test folds it scores {test} and {100 * runs[-1]['student']:.1f} %", DISTILLATION)


def test_quoted_gfkd_rebn_figures_are_the_json_lines():
  rebn = '\'{"reestimate_batch_norm": true}\''
  (stats,) = selection(f"python tools/distill_sweep.py gfkd-bn-stats 0 {rebn}")
  real, fake = np.array([r[1:] for r in stats["real"]]), np.array([r[1:] for r in stats["fake_init"]])
  assert_quoted(f"at most {real[:, 0].max():.2f} (means) and {real[:, 1].max():.1f} (variances; "
          f"running-variance norm {real[:, 3].max():.1f}) in all {len(real)} batch-norm layers, "
          f"against up to {fake[:, 0].max():.1f} and {fake[:, 1].max():.1f}", DISTILLATION)
  lines = {(r["seed"], r["v"]): r for e in SELECTION
           if e["command"].startswith("python tools/distill_sweep.py gfkd FOLD")
           and e["command"].endswith(rebn) for r in e["runs"]}
  acc = lambda v: " / ".join(f"{100 * lines[f, v]['train_fold_acc']:.1f}" for f in (0, 1, 4))
  for what, variant in (("(the paper's)", "rebn_bnall"), ("on the first two layers", "rebn_bn2"),
                        ("all layers with the snapshot pool", "rebn_bnall_snap10"),
                        ("the first two with the pool", "rebn_bn2_snap10")):
    assert_quoted(f"{what} {acc(variant)} %", DISTILLATION)
  losses = [lines[f, "rebn_bnall"]["gen_loss"] for f in (0, 1, 4)]
  assert_quoted(f"still {min(losses):.0f}-{max(losses):.0f}:", DISTILLATION)
  stale = {(r["seed"], r["v"]): r for r in selection(
      "python tools/distill_sweep.py gfkd FOLD '{\"bn2\": ")}
  mean = lambda table, v: np.mean([table[f, v]["train_fold_acc"] for f in (0, 1, 4)])
  assert_quoted(f"chosen (mean {100 * mean(lines, 'rebn_bn2_snap10'):.1f}, against "
          f"{100 * mean(stale, 'bn2_snap10'):.1f} for", DISTILLATION)
  assert_quoted(f"the fold-0 teacher scored {100 * stale[0, 'bn2']['teacher_train_acc']:.1f} % on its "
          f"own training graphs", DISTILLATION)
  assert_quoted(f"lifts that teacher to {100 * lines[0, 'rebn_bn2']['teacher_train_acc']:.1f} %", DISTILLATION)
  runs = sorted((r for r in DISTILL_RUNS if r["row"] == "gfkd-mutag-rebn-pool"),
                key=lambda r: r["seed"])
  test = ", ".join(f"{100 * r['student']:.1f}" for r in runs[:-1])
  assert_quoted(f"test folds it scores {test} and {100 * runs[-1]['student']:.1f} % (teachers "
          f"{100 * np.mean([r['teacher'] for r in runs]):.1f} % on average)", DISTILLATION)


def test_distillation_page_is_rendered_from_the_json():
  _tool_check("tools/distill_results.py", "--render-only", "--check")


def _dq(case, model):
  return f"{100 * DEGREE_QUANT[case]['models'][model]['test_accuracy']:.1f}"


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
  # The page's table: each candidate's validation and test figures, the selected ones marked.
  rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ") for line in doc.splitlines()
          if line.startswith("| ") and line.count(" | ") == 4}
  chosen = set(result["selected_on_validation"].values())
  for c in result["models"]:
    cells = rows[c["model"]]
    assert _numbers(cells[2] + " " + cells[3]) == [
        f"{100 * c['val_mean']:.1f}", f"{100 * c['test_mean']:.1f}", f"{100 * c['test_std']:.1f}"]
    assert (cells[4].strip(" |") == "yes") == (c["model"] in chosen)
  # The selection is each method's best mean validation accuracy (the first on a tie).
  best = {}
  for c in result["models"]:
    if c["method"] not in best or c["val_mean"] > best[c["method"]]["val_mean"]:
      best[c["method"]] = c
  assert {m: c["model"] for m, c in best.items()} == result["selected_on_validation"]
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
  assert_quoted(f"took {min(seconds['dq']):.0f}–{max(seconds['dq']):.0f} s of training (DQ) and "
          f"{min(seconds['qat']):.0f}–{max(seconds['qat']):.0f} s (QAT)", doc)
def test_quoted_gfkd_adversarial_figures_are_the_json_lines():
  """The adversarial GFKD sweep (each fold's training graphs), the prior-steps diagnostic and
  the gfkd-mutag-adv row's test folds, as quoted in docs/distillation.md."""
  rebn = '\'{"reestimate_batch_norm": true}\''
  lines = {(r["seed"], r["v"]): r for e in SELECTION
           if e["command"].startswith("python tools/distill_sweep.py gfkd FOLD")
           and e["command"].endswith(rebn) for r in e["runs"]}
  for fold in (0, 1, 4):                          # the pool's lines of the same setting
    lines[fold, "pool"] = lines[fold, "rebn_bn2_snap10"]
  acc = lambda fold, v: (f"{100 * lines[fold, v]['train_fold_acc']:.1f}"
                         if (fold, v) in lines else "-")
  row = lambda v: " / ".join(acc(f, v) for f in range(5))
  mean = lambda v: f"{100 * np.mean([lines[f, v]['train_fold_acc'] for f in range(5)]):.1f}"
  assert_quoted(f"the pool alone {row('pool')} % (mean {mean('pool')})", DISTILLATION)
  assert_quoted(f"10 more epochs) {row('adv')} % (mean {mean('adv')})", DISTILLATION)
  assert_quoted(f"between the classes) {row('dir1')} %", DISTILLATION)
  g256 = " / ".join(acc(f, "pool_g256") for f in (1, 2, 3))
  assert_quoted(f"graphs instead of 128: {g256} % on folds 1 / 2 / 3", DISTILLATION)
  hist = lines[3, "pool"]["pred_hist"]
  assert_quoted(f"fold 3: {hist[0]} of {sum(hist)} training graphs, {acc(3, 'pool')} %", DISTILLATION)
  assert all(max(lines[f, "pool_g256"]["pred_hist"]) == 169 for f in (1, 3))
  prior = selection("python tools/distill_sweep.py gfkd-prior-steps 1 0.05 400")
  by_lr = {r["lr"]: r["loss"] for r in prior}
  assert_quoted(f"from {by_lr[0.05][0]} to {by_lr[0.05][-1]} after 400 steps at Adam step 0.05 and "
          f"to {by_lr[0.2][-1]} at 0.2", DISTILLATION)
  (stats,) = selection(f"python tools/distill_sweep.py gfkd-bn-stats 0 {rebn}")
  r_bn = lambda key: f"{sum(r[1] + r[2] for r in stats[key]):.1f}"
  assert_quoted(f"R_BN of real training graphs is {r_bn('real')} (fold 0's teacher; fresh fake "
          f"graphs: {r_bn('fake_init')})", DISTILLATION)
  runs = sorted((r for r in DISTILL_RUNS if r["row"] == "gfkd-mutag-adv"), key=lambda r: r["seed"])
  test = ", ".join(f"{100 * r['student']:.1f}" for r in runs[:-1])
  assert_quoted(f"test folds: {test} and {100 * runs[-1]['student']:.1f} % "
          f"({100 * np.mean([r['student'] for r in runs]):.1f} on average, below "
          f"gfkd-mutag-rebn-pool's {row_mean('gfkd-mutag-rebn-pool', 'student')})", DISTILLATION)


def test_quoted_gfkd_temperature_and_hint_figures_are_the_json_lines():
  rebn = '\'{"reestimate_batch_norm": true}\''
  lines = {(r["seed"], r["v"]): r for e in SELECTION
           if e["command"].startswith("python tools/distill_sweep.py gfkd FOLD")
           and e["command"].endswith(rebn) for r in e["runs"]}
  acc = lambda fold, v: f"{100 * lines[fold, v]['train_fold_acc']:.1f}"
  assert_quoted(f"temperature 5 gives {acc(1, 't5')} % on fold 1 and {acc(3, 't5')} % on fold 3; "
          f"temperature 20 gives {acc(0, 't20')} / {acc(1, 't20')} / {acc(3, 't20')} %", DISTILLATION)
  hist = lines[3, "hint1"]["pred_hist"]
  assert_quoted(f"gives {acc(1, 'hint1')} % on fold 1 and {acc(3, 'hint1')} % on fold 3 "
          f"({hist[0]} of {sum(hist)} graphs called class 0)", DISTILLATION)
  (bn,) = selection("python tools/distill_sweep.py gfkd-first-bn 1")
  assert_quoted(f"residual {bn['residual']:.1e}, mean in-degree {bn['recovered_mean_degree']:.3f} "
          f"against the real graphs' {bn['real_mean_degree']:.3f}; feature 2, the commonest "
          f"node type: {bn['recovered_mean_aggregate'][2]:.3f} against "
          f"{bn['real_mean_aggregate'][2]:.3f}", DISTILLATION)


def test_quoted_gfkd_valence_and_support_figures_are_the_json_lines():
  """The valence-cap and node-type-support sweeps on each fold's training graphs, the fold-3
  margin diagnostic and the gfkd-mutag-support row's test folds, as quoted."""
  rebn = '\'{"reestimate_batch_norm": true}\''
  lines = {(r["seed"], r["v"]): r for e in SELECTION
           if e["command"].startswith("python tools/distill_sweep.py gfkd FOLD")
           and e["command"].endswith(rebn) for r in e["runs"]}
  for fold in (0, 1, 4):                          # the pool's lines of that setting
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
    assert_quoted(quoted, DISTILLATION)
  means = {v: float(mean(v)) for v in ("pool", "pool_cap3", "pool_support",
                                       "pool_support_cap4")}
  assert max(means, key=means.get) == "pool_support"          # the row's setting
  assert all(lines[f, "pool_support"]["argmax_hist"][t] == 0
             for f in range(5) for t in (0, 1, 3, 4))
  rare = [sum(lines[f, "pool"]["argmax_hist"][t] for t in (0, 1, 3, 4))
          / sum(lines[f, "pool"]["argmax_hist"]) for f in range(5)]
  assert_quoted(f"made up {100 * min(rare):.1f}-{100 * max(rare):.1f} % of the pool's final "
          "graphs' nodes", DISTILLATION)
  assert min(rare) == rare[3]                                 # fold 3 had the least
  (margins,) = [e["runs"] for e in SELECTION
                if e["command"].startswith("python tools/distill_sweep.py gfkd 3 ")
                and "margin" in e["note"]]
  pool = {r["v"]: r for r in margins}["pool"]
  assert pool["train_fold_acc"] == lines[3, "pool"]["train_fold_acc"]     # deterministic
  assert_quoted(f"ROC AUC {pool['margin_auc_teacher']:.3f} against the teacher's labels and "
          f"{pool['margin_auc_labels']:.3f} against the true ones, but the margin's mean is "
          f"{pool['margin_mean']:.2f} and it calls {pool['pred_hist'][0]} of "
          f"{sum(pool['pred_hist'])} graphs class 0", DISTILLATION)
  runs = sorted((r for r in DISTILL_RUNS if r["row"] == "gfkd-mutag-support"),
                key=lambda r: r["seed"])
  students = [100 * r["student"] for r in runs]
  assert_quoted(", ".join(f"{s:.1f}" for s in students[:-1]) + f" and {students[-1]:.1f} % "
          f"({np.mean(students):.1f} on average)", DISTILLATION)
  assert_quoted(f"std {np.std(students):.1f}; one test graph is {100 / 18:.1f} pt", DISTILLATION)


def _json(path):
  return json.loads((ROOT / path).read_text())


def _numbers(text):
  """The figures in TEXT, in order (digits glued to a word, as in float32 or FP32, are not)."""
  return re.findall(r"(?<![\w.])\d+(?:\.\d+)?", text)


def _results_table():
  """README's results table: result -> (measured cell, target cell)."""
  section = README.split("\n## Results", 1)[1].split("\n## ", 1)[0]
  rows = [line.split(" | ") for line in section.splitlines() if line.startswith("| ")]
  return {r[0].lstrip("| "): (r[1], r[2]) for r in rows[1:]}


def _stock_ratio(dataset):
  run = _json(f"docs/results/fast_artifacts_{dataset}.json")
  return f"{run['results']['gcn_binary_features.tflite-float32']['x_baseline_p50']:.2f}"


def _int8_size_ratio():
  bench = _json("docs/results/int8_bench.json")["artifacts"]
  return f"{bench['tflite-int8/neighbors']['bytes'] / bench['tflite-float32/sparse']['bytes']:.2f}"


def _binary_cora():
  runs = sorted(_runs("cora_gcn"), key=lambda r: r["seed"])
  first = next(r for r in runs if "float32_teacher" in r["artifacts"])["artifacts"]
  ratio = first["float32_same_architecture"]["bytes"] / first["lce"]["bytes"]
  return [f"{100 * np.mean([r['test_accuracy'] for r in runs]):.1f}", f"{ratio:.1f}"]


def _readme_figures():
  """result -> (figures of its measured cell, figures of its target cell or None)."""
  dq4 = {case: next(t for t in DEGREE_QUANT[case]["targets"]
                    if t["model"] == "dq_int4" and t["reference"] == "qat_int4")
         for case in ("cora_gcn", "cora_gat")}
  federated = _json("docs/federated.json")["cora_subgraph"]["target"]
  per_node = _json("docs/results/per_node_latency.json")
  latency = per_node["per_node_latency_ms"]
  csv = _json("docs/results/source_csv_load.json")
  timing = _json("docs/results/test_timing.json")
  glnn = _json("docs/results/glnn_latency.json")
  cost = _json("docs/results/cost_model_host.json")
  large = _json("docs/results/scale_1m.json")
  lpgnas = _json("docs/results/lpgnas_cora_size0.2.json")
  return {
      "LPGNAS searched model, Cora": (
          [f"{lpgnas['summary']['lpgnas']['test_mean']:.1f}",
           f"{lpgnas['artifacts']['lpgnas']['x_dq_int8_gcn_bytes']:.2f}",
           f"{lpgnas['summary']['dq_int8_gcn']['test_mean']:.1f}"], ["0.5"]),
      "sampled GraphSAGE, 1 M nodes, 10 M edges": (
          [f"{100 * large['sage']['test_accuracy']:.1f}",
           f"{100 * large['mlp']['test_accuracy']:.1f}",
           f"{large['total_seconds'] / 60:.1f}", f"{large['peak_rss_mib'] / 1024:.1f}"],
          ["15", f"{large['budget_seconds'] / 60:.0f}", "12"]),
      "host cost model: latency ranking": (
          [f"{cost['spearman_calibrated_leave_one_model_out']:.3f}", str(cost["num_artifacts"])],
          ["0.9"]),
      "sparse-feature GCN latency, Cora / CiteSeer": (
          [_stock_ratio("cora"), _stock_ratio("citeseer")], None),
      "full-int8 GCN size, Cora": ([_int8_size_ratio()], None),
      "Degree-Quant INT8 GCN, Cora": ([_dq("cora_gcn", "dq_int8"), _dq("cora_gcn", "fp32")], None),
      "Degree-Quant INT4 over QAT INT4, GCN / GAT Cora": (
          [f"{dq4[c]['delta']:.1f}" for c in dq4], [f"{dq4['cora_gcn']['bound']:g}"]),
      "GLNN MLP student, Cora": (
          [row_mean("glnn-cora", "student"), row_mean("glnn-cora", "baseline"),
           f"{glnn['per_node_p50_ratio_teacher_over_student']:.1f}"], None),
      "CPF student, Cora": ([row_mean("cpf-cora", "student"), row_mean("cpf-cora", "teacher")],
                            None),
      "GNN-SD, 4-layer GCN, Cora": (
          [row_mean("sd-cora-400", "student"), row_mean("sd-cora-400", "baseline")], None),
      "GFKD student without real graphs, MUTAG": ([row_mean("gfkd-mutag-support", "student")],
                                                  None),
      "binary GCN (Larq → LCE), Cora": (_binary_cora(), None),
      "FedAvg on Flower, Cora, 5 clients": (
          [f"{federated['value']:.3f}"], [f"{federated['ratio_min']:g}"]),
      "per-node query p50, Cora: student / GCN on 2 hops": (
          [f"{latency['student']['p50']:.4f}", f"{latency['teacher_rows']['p50']:.4f}"],
          [f"{per_node['targets_ms_p50'][k]:g}" for k in ("student", "teacher")]),
      "CSV graph, 1 M nodes, 10 M edges": (
          [f"{csv['seconds']:.0f}", f"{csv['peak_rss_bytes'] / 1e9:.1f}"], None),
      "default test run (`.ci/run`)": ([f"{timing['wall_seconds']:.0f}", str(timing["tests"])],
                                       None),
  }


def test_readme_results_table_figures_are_their_json_values():
  table, expected = _results_table(), _readme_figures()
  assert set(table) == set(expected)
  for result, (measured, target) in table.items():
    figures, target_figures = expected[result]
    assert _numbers(measured) == figures, (result, measured)
    if target_figures is not None:
      assert _numbers(target) == target_figures, (result, target)
    assert len(measured) <= 200 and len(target) <= 200


def test_limits_page_figures_are_their_json_values():
  page = (ROOT / "docs" / "limits.md").read_text()
  kinds = _json("docs/results/int8_agreement_attention_kinds.json")["summary"]
  quoted = {"fast": (_stock_ratio("cora"), _stock_ratio("citeseer")),
            "int8": (_int8_size_ratio(),), "const": (f"{kinds['mp-const']['int8_mean']:.3f}",)}
  found = _numbers(page)
  for figures in quoted.values():
    for figure in figures:
      assert figure in found, figure
  # The limits are limits: below target, below the int8 floor.
  assert kinds["mp-const"]["int8_mean"] < 0.97
  assert all(k["int8_mean"] >= 0.97 for name, k in kinds.items() if name != "mp-const")


def test_readme_first_screen_is_at_most_60_lines():
  """The first screen (title, set-up, results, the three jobs, links) ends by line 60: the
  fourth section starts there at the latest."""
  headings = [i for i, line in enumerate(README.splitlines()) if line.startswith("## ")]
  assert len(headings) >= 4 and headings[3] <= 60
