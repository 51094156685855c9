"""The committed results pages and the README quote the measured JSON, not typed-in figures:
docs/binary.md is exactly what tools/binary_results.py renders from docs/binary_results.json,
the README's binary figures are that JSON's means, and the sweep figures quoted in
docs/distillation.md are the means of docs/results/distill_selection.json's lines."""
import json
import pathlib

import numpy as np

import tools.binary_results as binary_results

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
RECORDS = json.loads(binary_results.RESULTS.read_text())
SELECTION = json.loads((ROOT / "docs" / "results" / "distill_selection.json").read_text())
DISTILLATION = (ROOT / "docs" / "distillation.md").read_text()


def _runs(experiment):
  runs = [r for r in RECORDS if r["experiment"] == experiment]
  assert len(runs) == 5, (experiment, len(runs))
  return runs


def test_binary_page_is_rendered_from_the_json():
  assert binary_results.DOC.read_text() == binary_results.render_text(RECORDS)


def test_readme_binary_figures_are_the_json_means():
  for experiment in ("cora_gcn", "citeseer_gcn_kd", "cora_sage", "digits_bin_edgeconv_wide",
                     "digits_xor_edgeconv_wide"):
    assert binary_results._stat([r["test_accuracy"] for r in _runs(experiment)]) in README
  for experiment, key in (("digits_bin_edgeconv_wide", "teacher_test_accuracy"),
                          ("digits_xor_edgeconv_wide", "teacher_test_accuracy"),
                          ("digits_xor_edgeconv_wide", "scratch_test_accuracy"),
                          ("digits_bin_edgeconv_wide_fp32kd", "test_accuracy")):
    assert f"{binary_results._mean_pt(_runs(experiment), key):.1f}" in README


def _selection(command):
  (entry,) = [e for e in SELECTION if e["command"].startswith(command)]
  return entry["runs"]


def _mean_val(runs, variant):
  return f"{100 * np.mean([r['val'] for r in runs if r['v'] == variant]):.1f}"


def test_quoted_gnn_sd_sweep_figures_are_the_json_means():
  betas = _selection("python tools/distill_sweep.py sd400 0,1,2 w0.01,w0.1,w1")
  quoted = (f"plain {_mean_val(betas, 'baseline')}, beta 0.01 {_mean_val(betas, 'w0.01')}, "
            f"0.1 {_mean_val(betas, 'w0.1')}, 1 {_mean_val(betas, 'w1')}")
  assert quoted in DISTILLATION
  ndr = _selection("python tools/distill_sweep.py sd400 0,1,2 self0.1,self1,all0.1")
  quoted = (f"beta 0.1 {_mean_val(ndr, 'self0.1')}, beta 1 {_mean_val(ndr, 'self1')}; adding "
            f"the output layer to `sd_layers`: {_mean_val(ndr, 'all0.1')} (plain "
            f"{_mean_val(ndr, 'baseline')})")
  assert quoted in DISTILLATION


def test_quoted_gfkd_step_figures_are_the_json_lines():
  steps = _selection("python tools/distill_sweep.py gfkd FOLD")
  acc = {(r["seed"], r["v"]): f"{100 * r['train_fold_acc']:.1f}" for r in steps}
  (first,) = [e for e in SELECTION if e["command"].startswith(
      "python tools/distill_sweep.py gfkd 0 '{\"sz_ent_bn1_first2\"")]
  acc[0, "bn2_s100"] = f"{100 * first['runs'][0]['train_fold_acc']:.1f}"
  quoted = (f"folds 0 / 1 is {acc[0, 'bn2_s100']} / {acc[1, 'bn2_s100']} after 100 steps, "
            f"{acc[0, 'bn2_s500']} / {acc[1, 'bn2_s500']} after 500 and {acc[0, 'bn2_s2000']} / "
            f"{acc[1, 'bn2_s2000']} after the authors' 2000")
  assert quoted in DISTILLATION
