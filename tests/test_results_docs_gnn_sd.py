"""GNN-SD's quoted figures in docs/distillation.md are the means of the measured lines in
docs/results/distill_selection.json (tools/distill_sweep.py), and the reading docs/limits.md
gives holds: no paired test gain for a 4-layer GCN; beyond that depth (6, 8 layers), each
method at its step chosen on validation, a gain that grows as plain training degrades."""
from edgegnn.distill import DistillConfig
from edgegnn.models import ModelSpec
from edgegnn.training import TrainConfig

from quoted_results import (DISTILL_RUNS, DISTILLATION, ROWS, assert_quoted, mean_val, mean_val_at, paired,
                            row_mean, selection)


def test_quoted_gnn_sd_sweep_figures_are_the_json_means():
  betas = selection("python tools/distill_sweep.py sd400 0,1,2 w0.01,w0.1,w1")
  quoted = (f"plain {mean_val(betas, 'baseline')}, beta 0.01 {mean_val(betas, 'w0.01')}, "
            f"0.1 {mean_val(betas, 'w0.1')}, 1 {mean_val(betas, 'w1')}")
  assert_quoted(quoted, DISTILLATION)
  ndr = selection("python tools/distill_sweep.py sd400 0,1,2 self0.1,self1,all0.1")
  quoted = (f"beta 0.1 {mean_val(ndr, 'self0.1')}, beta 1 {mean_val(ndr, 'self1')}; adding "
            f"the output layer to `sd_layers`: {mean_val(ndr, 'all0.1')} (plain "
            f"{mean_val(ndr, 'baseline')})")
  assert_quoted(quoted, DISTILLATION)


def test_quoted_gnn_sd_step_sweep_figures_are_the_json_means():
  # The step-0.01 figures are the earlier sd400 sweep's (same rows, seeds and settings).
  at_001 = selection("python tools/distill_sweep.py sd400 0,1,2 w0.01,w0.1,w1")
  runs = selection("python tools/distill_sweep.py sd400-lr 0,1,2 0.003") + [
      dict(r, lr=0.01) for r in at_001 if r["v"] in ("baseline", "w0.01", "w0.1")]
  steps = (0.001, 0.003, 0.005, 0.01, 0.02)
  plain = [f"{lr} {mean_val_at(runs, lr, 'baseline')}" for lr in steps]
  plain[3] += " (above)"
  assert_quoted(f"GCN: {', '.join(plain)};", DISTILLATION)
  sd = ", ".join(mean_val_at(runs, lr, "w0.01") for lr in steps)
  beta_01 = max(mean_val_at(runs, lr, "w0.1") for lr in steps)
  assert_quoted(f"beta 0.01: {sd}, with beta 0.1 at most {beta_01}.", DISTILLATION)


def test_quoted_gnn_sd_ten_seed_step_figures_are_the_json_means():
  at_001 = [dict(r, lr=0.01) for r in selection("python tools/distill_sweep.py sd400 0,1,2 "
                                                 "w0.01,w0.1,w1")]
  runs = (selection("python tools/distill_sweep.py sd400-lr 0,1,2 0.003") + at_001
          + selection("python tools/distill_sweep.py sd400-lr 3,4,5,6,7,8,9 0.003")
          + selection("python tools/distill_sweep.py sd400-lr 3,4,5,6,7,8,9 0.01"))
  steps = (0.003, 0.005, 0.01, 0.02)
  for lr in steps:
    for variant in ("baseline", "w0.01"):
      assert sorted(r["seed"] for r in runs if r["lr"] == lr and r["v"] == variant) == list(
          range(10)), (lr, variant)
  quoted = ", ".join(f"{lr} {mean_val_at(runs, lr, 'baseline')} / {mean_val_at(runs, lr, 'w0.01')}"
                     for lr in steps)
  assert_quoted(f"plain / GNN-SD with beta 0.01: {quoted}.", DISTILLATION)


def test_quoted_gnn_sd_node_gate_and_width_figures_are_the_json_lines():
  """The NDR-per-layer diagnostic, the node gate, the 64-wide GCN and the paired reading."""
  ndr = selection("python tools/distill_sweep.py sd-ndr 0,1,2 w0.01,w1")
  per_layer = lambda v: ", ".join("/".join(f"{x:.3f}" for x in r["ndr_mean"][:3])
                                  for r in ndr if r["v"] == v)
  for quoted in (f"conv0/conv1/conv2: {per_layer('baseline')}.",
                 f"beta 1, {per_layer('w1')} (beta 0.01: {per_layer('w0.01')})"):
    assert_quoted(quoted, DISTILLATION)
  for r in ndr:                       # every plain model's NDR falls with depth
    if r["v"] == "baseline":
      assert r["ndr_mean"][0] > r["ndr_mean"][1] > r["ndr_mean"][2]
  plain = {r["seed"]: r["ndr_mean"] for r in ndr if r["v"] == "baseline"}
  gap = max(abs(r["ndr_mean"][layer] - plain[r["seed"]][layer])
            for r in ndr if r["v"] != "baseline" for layer in (1, 2))
  assert_quoted(f"NDR stays within {gap:.3f} of the plain GCN's", DISTILLATION)

  node = selection("python tools/distill_sweep.py sd400-lr 0,1,2,3,4 0.02 node0.1")
  assert sorted({r["seed"] for r in node}) == list(range(10))
  seed3 = {r["v"]: f"{100 * r['val']:.1f}" for r in node if r["seed"] == 3}
  for quoted in (
      f"plain {mean_val(node, 'baseline')}, beta 0.1 {mean_val(node, 'node0.1')}, beta 1 "
      f"{mean_val(node, 'node1')}, beta 10 {mean_val(node, 'node10')} (paired against "
      f"plain, mean ± standard error: {paired(node, 'node0.1')}, {paired(node, 'node1')}, "
      f"{paired(node, 'node10')} pt)",
      f"seed 3 falls to {seed3['node0.1']} / {seed3['node1']} / {seed3['node10']} (plain "
      f"{seed3['baseline']})"):
    assert_quoted(quoted, DISTILLATION)

  wide = selection("python tools/distill_sweep.py sd400-lr 0,1,2,3,4 0.01 w0.01,w0.1,w1 64")
  assert sorted({r["seed"] for r in wide}) == list(range(10))
  val = {v: float(mean_val(wide, v)) for v in ("w0.01", "w0.1", "w1")}
  assert max(val, key=val.get) == "w0.1"                    # the row's beta
  assert DistillConfig.from_dict(ROWS["sd-cora-h64"]["distill"]).sd_weight == 0.1
  for quoted in (
      f"plain {mean_val(wide, 'baseline')}, beta 0.01 {mean_val(wide, 'w0.01')}, 0.1 "
      f"{mean_val(wide, 'w0.1')}, 1 {mean_val(wide, 'w1')}. Paired against plain, beta 0.1 "
      f"is {paired(wide, 'w0.1')} pt",
      f"paired against plain: beta 0.01 {paired(wide, 'w0.01', 'test')}, 0.1 "
      f"{paired(wide, 'w0.1', 'test')}, 1 {paired(wide, 'w1', 'test')} pt"):
    assert_quoted(quoted, DISTILLATION)
  for variant in ("w0.01", "w0.1", "w1"):        # docs/limits.md: no paired test gain
    assert float(paired(wide, variant, "test").split()[0]) <= 0
  strong = selection("python tools/distill_sweep.py sd400-lr 0,1,2,3,4 0.01 w10,w100 64")
  assert sorted({r["seed"] for r in strong}) == list(range(10))
  assert_quoted(f"reach {mean_val(strong, 'w10')} and {mean_val(strong, 'w100')} on validation, "
          f"paired against plain {paired(strong, 'w10')} and {paired(strong, 'w100')} pt; "
          f"on test {paired(strong, 'w10', 'test')} and {paired(strong, 'w100', 'test')} pt.", DISTILLATION)
  for variant in ("w10", "w100"):
    assert float(paired(strong, variant, "test").split()[0]) <= 0
  for variant in ("node0.1", "node1", "node10"):
    assert float(paired(node, variant, "test").split()[0]) <= 0
  # The row is seeds 0-4 of these runs (the runs are deterministic).
  rows = {r["seed"]: r for r in DISTILL_RUNS if r["row"] == "sd-cora-h64"}
  assert sorted(rows) == list(range(5))
  for r in wide:
    if r["seed"] in rows and r["v"] in ("baseline", "w0.1"):
      assert rows[r["seed"]]["baseline" if r["v"] == "baseline" else "student"] == r["test"]

  at_001 = [dict(r, lr=0.01) for r in selection("python tools/distill_sweep.py sd400 0,1,2 "
                                                 "w0.01,w0.1,w1")]
  steps = (selection("python tools/distill_sweep.py sd400-lr 0,1,2 0.003") + at_001
           + selection("python tools/distill_sweep.py sd400-lr 3,4,5,6,7,8,9 0.003")
           + selection("python tools/distill_sweep.py sd400-lr 3,4,5,6,7,8,9 0.01"))
  quoted = []
  for lr in (0.003, 0.005, 0.01, 0.02):
    runs = [r for r in steps if r["lr"] == lr and r["v"] in ("baseline", "w0.01")]
    quoted.append(f"{lr} {paired(runs, 'w0.01')} / {paired(runs, 'w0.01', 'test')}")
    assert float(paired(runs, "w0.01", "test").split()[0]) <= 0
  assert_quoted(f"validation / test: {', '.join(quoted)} pt.", DISTILLATION)


def _best_step(runs, variants):
  """(mean validation in points, step, variant) of the best of VARIANTS over every step."""
  return max((float(mean_val_at(runs, r["lr"], r["v"])), r["lr"], r["v"])
             for r in runs if r["v"] in variants)


DEPTH_SWEEP = "python tools/distill_sweep.py sd400-lr 0,1,2,3,4 0.005,0.01,0.02 w0.1,w1,w10 16 "
DEPTH_STEPS, DEPTH_BETAS = (0.005, 0.01, 0.02), ("w0.1", "w1", "w10")


def _depth_sweep(layers):
  """The 6- or 8-layer sweep's lines and each method's choice on validation, checked against
  the row's configuration and runs: (lines, chosen runs, {"plain"|"sd": (val, step, variant)},
  seeds where GNN-SD is ahead on test)."""
  deep = selection(f"{DEPTH_SWEEP}{layers}")
  for lr in DEPTH_STEPS:
    for variant in ("baseline", *DEPTH_BETAS):
      assert sorted(r["seed"] for r in deep if r["lr"] == lr and r["v"] == variant) == list(
          range(10)), (lr, variant)
  best = {"plain": _best_step(deep, ("baseline",)), "sd": _best_step(deep, DEPTH_BETAS)}
  (_, plain_lr, _), (_, sd_lr, sd_variant) = best["plain"], best["sd"]
  row = ROWS[f"sd-cora-{layers}l"]
  student, config = ModelSpec.from_dict(row["student"]), DistillConfig.from_dict(row["distill"])
  baseline = ModelSpec.from_dict(row["baseline"]["model"])
  assert student.num_layers == layers and baseline.num_layers == layers
  assert (TrainConfig.from_dict(row["baseline"]["train"]).learning_rate,
          config.learning_rate) == (plain_lr, sd_lr)
  assert f"w{config.sd_weight:g}" == sd_variant
  chosen = ([r for r in deep if r["lr"] == plain_lr and r["v"] == "baseline"]
            + [r for r in deep if r["lr"] == sd_lr and r["v"] == sd_variant])
  rows = {r["seed"]: r for r in DISTILL_RUNS if r["row"] == row["name"]}
  assert sorted(rows) == list(range(5))
  for r in chosen:                    # the row is seeds 0-4 of these runs (deterministic)
    if r["seed"] in rows:
      assert rows[r["seed"]]["baseline" if r["v"] == "baseline" else "student"] == r["test"]
  plain = {r["seed"]: r for r in chosen if r["v"] == "baseline"}
  ahead = sum(r["test"] > plain[r["seed"]]["test"] for r in chosen if r["v"] == sd_variant)
  return deep, chosen, best, ahead


def test_quoted_gnn_sd_six_layer_figures_are_the_json_lines():
  _, chosen, best, ahead = _depth_sweep(6)
  (plain_val, plain_lr, _), (sd_val, sd_lr, sd_variant) = best["plain"], best["sd"]
  assert_quoted(f"plain best at {plain_lr} with {plain_val:.1f}, GNN-SD with beta {sd_variant[1:]} "
          f"at {sd_lr} with {sd_val:.1f} on validation; paired validation "
          f"{paired(chosen, sd_variant)}, test {paired(chosen, sd_variant, 'test')} pt, ahead "
          f"on test on {ahead} of 10 seeds", DISTILLATION)
  gain, error = (float(x) for x in paired(chosen, sd_variant, "test").split(" ± "))
  assert gain < error                 # "a gain within its standard error"


def test_quoted_gnn_sd_eight_layer_figures_are_the_json_lines():
  """sd-cora-8l: each method's step (and beta) chosen on validation, the paired reading, the
  row as seeds 0-4 of the sweep, and the NDR of the first two layers."""
  deep, chosen, best, ahead = _depth_sweep(8)
  sd_variant = best["sd"][2]
  at = lambda v: ", ".join(f"{lr} {mean_val_at(deep, lr, v)}" for lr in DEPTH_STEPS)
  top = lambda v: max(mean_val_at(deep, lr, v) for lr in DEPTH_STEPS)
  beta = ", ".join(mean_val_at(deep, lr, sd_variant) for lr in DEPTH_STEPS)
  assert_quoted(f"plain GCN: {at('baseline')}; GNN-SD with beta {sd_variant[1:]}: {beta} (beta 0.1 "
          f"at most {top('w0.1')}, beta 10 at most {top('w10')})", DISTILLATION)
  assert_quoted(f"validation {paired(chosen, sd_variant)}, test {paired(chosen, sd_variant, 'test')} "
          f"pt, ahead on test on {ahead} of 10 seeds", DISTILLATION)
  spread = sorted(100 * r["val"] for r in chosen if r["v"] == "baseline")
  assert_quoted(f"spreads from {spread[0]:.1f} to {spread[-1]:.1f} over the seeds", DISTILLATION)
  assert_quoted(f"the 2-layer GCN's {row_mean('cpf-cora', 'teacher')} (cpf-cora's teacher)", DISTILLATION)

  ndr = selection("python tools/distill_sweep.py sd-ndr 0,1,2 w1 sd-cora-8l")
  first_two = {(r["seed"], r["v"]): "/".join(f"{x:.3f}" for x in r["ndr_mean"][:2])
               for r in ndr}
  quoted = ", ".join(f"seed {s} {first_two[s, 'baseline']} against {first_two[s, 'w1']}"
                     for s in range(3))
  assert_quoted(f"conv0/conv1 plain against GNN-SD, {quoted};", DISTILLATION)
  for s in range(3):                  # ADR raises both, on every seed
    base, sd = ({r["v"]: r for r in ndr if r["seed"] == s}[v]["ndr_mean"] for v in
                ("baseline", "w1"))
    assert sd[0] > base[0] and sd[1] > base[1]
  (seed2,) = [r for r in ndr if r["seed"] == 2 and r["v"] == "baseline"]
  assert_quoted(f"(seed 2's conv2: {seed2['ndr_mean'][2]:.3f})", DISTILLATION)
