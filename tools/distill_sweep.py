"""Hyper-parameter sweeps behind the distillation rows' choices (docs/distillation.md Notes).

    python tools/distill_sweep.py lsp cora 0,1,2 w0,l0.03,lam0.1,l0.3
    python tools/distill_sweep.py sd 0 w0.1,w10
    python tools/distill_sweep.py sd400 0,1,2 w0.01,w0.1,w1,self0.1,self1,all0.1
    python tools/distill_sweep.py sd400-lr 0,1,2 0.003,0.005,0.02 w0.01,w0.1
    python tools/distill_sweep.py sd400-lr 0,1,2 0.02 node0.1,node1,node10
    python tools/distill_sweep.py sd-ndr 0,1,2 w0.01,w1
    python tools/distill_sweep.py sd-ndr 0,1,2 w1 sd-cora-8l        # another sd row
    python tools/distill_sweep.py sd400-lr 0,1,2 0.01 w0.01,w0.1,w1 64   # hidden width 64
    python tools/distill_sweep.py sd400-lr 0,1,2 0.01 w0.1,w1 64 8   # 64 wide, 8 layers
    python tools/distill_sweep.py gfkd 0 '{"name": {"gfkd_bn_weight": 1.0}}'
    python tools/distill_sweep.py gfkd 0 '{"name": {}}' '{"reestimate_batch_norm": true}'
    python tools/distill_sweep.py gfkd 0 '{"name": {"student": {"readout": "mean"}}}'
    python tools/distill_sweep.py gfkd-bn-stats 0 ['{"reestimate_batch_norm": true}']
    python tools/distill_sweep.py gfkd-labels 0 100 0
    python tools/distill_sweep.py gfkd-prior-steps 1 0.05 400
    python tools/distill_sweep.py gfkd-first-bn 1

Prints one JSON line per (seed, variant); sd400-lr also per Adam step, the plain GCN and the
SD variants trained at each step alike (a step is chosen per method on validation). sd-ndr:
an sd row's (default sd-cora-lr10) plain GCN and SD variants with each layer's mean NDR and
NDR-vector norm (the hidden convs, logits). lsp / sd: validation and test accuracy of the
student for each variant of the row's `DistillConfig` (choices are made on validation
accuracy). gfkd: the student's accuracy on the fold's real *training* graphs (the test fold is
not evaluated), its agreement with the teacher there, the ROC AUC of its class-1 logit margin
against the teacher's and the true labels and that margin's mean, and the generator's feature
statistics.
The lines cited in the Notes are collected in docs/results/distill_selection.json.
"""
from __future__ import annotations

import dataclasses
import json
import pathlib
import sys
import time

import numpy as np
import yaml

import distill_results as dr  # noqa: E402
from edgegnn import data  # noqa: E402
from edgegnn.distill import (distill, fake_graphs, gfkd, methods, node_trainer,  # noqa: E402
                             self_distillation)
from edgegnn.distill.distill import _build_student  # noqa: E402
from edgegnn.training import train  # noqa: E402
from edgegnn.training.tasks import GraphTask  # noqa: E402
from edgegnn.training.trainer import predict  # noqa: E402

SWEEPS = yaml.safe_load(
    (pathlib.Path(__file__).resolve().parents[1] / "experiments" / "distillation" /
     "sweeps.yaml").read_text())


def _fields(variants: dict) -> dict:
  """Variant name -> DistillConfig fields (lists as the tuples the config holds)."""
  return {name: {k: tuple(v) if isinstance(v, list) else v for k, v in (fields or {}).items()}
          for name, fields in variants.items()}


LSP_VARIANTS = _fields(SWEEPS["lsp_variants"])
SD_VARIANTS = _fields(SWEEPS["sd_variants"])


def _known(names, variants: dict, sweep: str) -> list:
  unknown = [n for n in names if n not in variants]
  if unknown:
    raise SystemExit(f"unknown {sweep} variants {unknown}; expected {', '.join(variants)}")
  return names


def sweep_lsp(dataset_name: str, seeds, names):
  _known(names, LSP_VARIANTS, "lsp")
  base, ds = dr.ROWS["lsp-cora"].config, data.load(dataset_name)
  for seed in seeds:
    teacher = train(dr.GAT, ds, dr.GAT_TRAIN, seed=seed, progress=False)
    plain = train(dr.SMALL_GCN, ds, dr.SMALL_TRAIN, seed=seed, progress=False).metrics
    for name, m in (("teacher", teacher.metrics), ("baseline", plain)):
      print(json.dumps({"seed": seed, "v": name, "val": m["val_accuracy"],
                        "test": m["test_accuracy"]}), flush=True)
    for name in names:
      m = distill(teacher.model, dr.SMALL_GCN, ds,
                  dataclasses.replace(base, **LSP_VARIANTS[name]), seed=seed).metrics
      print(json.dumps({"seed": seed, "v": name, "val": m["val_accuracy"],
                        "test": m["test_accuracy"], "s": m["seconds"]}), flush=True)


def sweep_sd(seeds, names, row="sd-cora"):
  """Variants of ROW's config (sd-cora: 200 epochs; sd-cora-400: 400 for the baseline too)."""
  _known(names, SD_VARIANTS, "sd")
  base, ds = dr.ROWS[row].config, data.load("cora")
  spec, baseline_train = dr.ROWS[row].baseline
  for seed in seeds:
    m = train(spec, ds, baseline_train, seed=seed, progress=False).metrics
    print(json.dumps({"seed": seed, "v": "baseline", "val": m["val_accuracy"],
                      "test": m["test_accuracy"], "best": m["best_epoch"]}), flush=True)
    for name in names:
      m = distill(None, dr.ROWS[row].student, ds, dataclasses.replace(base, **SD_VARIANTS[name]),
                  seed=seed).metrics
      print(json.dumps({"seed": seed, "v": name, "val": m["val_accuracy"],
                        "test": m["test_accuracy"], "best": m["best_epoch"],
                        "s": m["seconds"]}), flush=True)


def sweep_sd_learning_rate(seeds, learning_rates, names, row="sd-cora-400", hidden=None,
                           layers=None):
  """ROW's plain GCN and its SD variants at each Adam step of LEARNING_RATES (HIDDEN, LAYERS:
  the GCN's width and depth instead of the row's, for both)."""
  _known(names, SD_VARIANTS, "sd")
  base, ds = dr.ROWS[row].config, data.load("cora")
  spec, baseline_train = dr.ROWS[row].baseline
  student = dr.ROWS[row].student
  if hidden:
    spec = dataclasses.replace(spec, hidden_units=hidden)
    student = dataclasses.replace(student, hidden_units=hidden)
  if layers:
    spec = dataclasses.replace(spec, num_layers=layers)
    student = dataclasses.replace(student, num_layers=layers)
  for seed in seeds:
    for lr in learning_rates:
      m = train(spec, ds, dataclasses.replace(baseline_train, learning_rate=lr), seed=seed,
                progress=False).metrics
      print(json.dumps({"seed": seed, "lr": lr, "v": "baseline", "val": m["val_accuracy"],
                        "test": m["test_accuracy"], "best": m["best_epoch"]}), flush=True)
      for name in names:
        config = dataclasses.replace(base, learning_rate=lr, **SD_VARIANTS[name])
        m = distill(None, student, ds, config, seed=seed).metrics
        print(json.dumps({"seed": seed, "lr": lr, "v": name, "val": m["val_accuracy"],
                          "test": m["test_accuracy"], "best": m["best_epoch"],
                          "s": m["seconds"]}), flush=True)


def sd_ndr(seeds, names, row="sd-cora-lr10"):
  """Mean NDR per layer (the hidden convs and the logits, inference mode) of ROW's trained
  plain GCN and of its GNN-SD variants: does the plain GCN over-smooth with depth?"""
  _known(names, SD_VARIANTS, "sd")
  sd_rows = [name for name, r in dr.ROWS.items() if r.config.method == "gnn-sd"]
  if row not in sd_rows:
    raise SystemExit(f"sd-ndr needs a gnn-sd row; got {row!r}, expected one of "
                     f"{', '.join(sd_rows)}")
  base, ds = dr.ROWS[row].config, data.load("cora")
  spec, baseline_train = dr.ROWS[row].baseline
  graph = ds.graph
  hidden = tuple(f"conv{i}" for i in range(dr.ROWS[row].student.num_layers - 1))

  def line(seed, variant, result):
    out = node_trainer.node_outputs(result.model, ds, hidden)
    ndr = [self_distillation.neighborhood_discrepancy(
        out[name], graph.edge_source, graph.edge_target, len(ds.labels)).numpy()
           for name in (*hidden, "logits")]
    m = result.metrics
    print(json.dumps({"seed": seed, "v": variant, "val": m["val_accuracy"],
                      "test": m["test_accuracy"],
                      "ndr_mean": [round(float(s.mean()), 4) for s in ndr],
                      "ndr_norm": [round(float(np.linalg.norm(s)), 3) for s in ndr]}),
          flush=True)

  for seed in seeds:
    line(seed, "baseline", train(spec, ds, baseline_train, seed=seed, progress=False))
    for name in names:
      line(seed, name, distill(None, dr.ROWS[row].student, ds,
                               dataclasses.replace(base, **SD_VARIANTS[name]), seed=seed))


def _auc(scores: np.ndarray, classes: np.ndarray) -> float | None:
  """ROC AUC of `scores` for class 1 of the 0/1 `classes` (None if only one class)."""
  from sklearn.metrics import roc_auc_score  # pylint: disable=g-import-not-at-top
  return float(roc_auc_score(classes, scores)) if len(set(classes.tolist())) > 1 else None


def sweep_gfkd(seed: int, variants: dict, teacher_train: dict | None = None):
  """TEACHER_TRAIN: overrides of the teacher's `TrainConfig` (dr.GIN_TRAIN). A variant's
  "student" entry overrides the student's `ModelSpec` (dr.GIN_STUDENT), e.g. its readout."""
  ds = data.load("mutag")
  teacher = train(dr.GIN_TEACHER, ds, dataclasses.replace(dr.GIN_TRAIN, **(teacher_train or {})),
                  seed=seed, fold=seed, progress=False).model
  task = GraphTask.from_fold(ds, seed)
  train_index = task.split("train")
  base = dr.ROWS["gfkd-mutag-bn"].config
  for name, values in variants.items():
    start = time.time()
    values = dict(values)
    student_spec = dataclasses.replace(dr.GIN_STUDENT, **values.pop("student", {}))
    cfg = dataclasses.replace(base, **values)
    student = _build_student(student_spec, methods.get("gfkd"), ds, cfg, seed)
    generator, history, _ = gfkd.distill_on_generated_graphs(teacher, student, cfg, seed=seed)
    x = generator.node_features().numpy()
    student_logits = predict(student, task, train_index)
    student_pred = np.argmax(student_logits, -1)
    teacher_pred = np.argmax(predict(teacher, task, train_index), -1)
    labels = ds.labels[train_index]
    # The student's class-1 margin: does it rank the real graphs (AUC) even where its
    # threshold is off (mean margin)?
    margin = student_logits[:, 1] - student_logits[:, 0]
    print(json.dumps({
        "seed": seed, "v": name, "train_fold_acc": float(np.mean(student_pred == labels)),
        "agree_teacher": float(np.mean(student_pred == teacher_pred)),
        "pred_hist": np.bincount(student_pred, minlength=2).tolist(),
        "margin_auc_teacher": _auc(margin, teacher_pred),
        "margin_auc_labels": _auc(margin, labels), "margin_mean": float(margin.mean()),
        "teacher_train_acc": float(np.mean(teacher_pred == labels)),
        "gen_loss": history[-1]["loss"], "feat_maxprob": float(x.max(-1).mean()),
        "argmax_hist": np.bincount(x.argmax(-1)[generator.node_mask],
                                   minlength=x.shape[-1]).tolist(),
        "s": round(time.time() - start)}), flush=True)


def gfkd_bn_stats(seed: int, teacher_train: dict | None = None):
  """||batch mean - running mean|| and ||batch var - running var|| of every teacher BN layer on
  one batch of all the fold's real training graphs and on one batch of a fresh generator's
  fake graphs, with the running statistics' norms: is R_BN small on real data?"""
  from edgegnn.models import feeds  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  ds = data.load("mutag")
  teacher = train(dr.GIN_TEACHER, ds, dataclasses.replace(dr.GIN_TRAIN, **(teacher_train or {})),
                  seed=seed, fold=seed, progress=False).model
  train_index = GraphTask.from_fold(ds, seed).split("train")
  names = feeds.model_input_names(teacher)

  def stats(feed):
    with gfkd.recording_batch_norm_inputs(teacher) as records:
      teacher(feed, training=False)
    out = []
    for layer, x in records:
      mean, var = tf.nn.moments(x, axes=[0])
      out.append([layer.name] + [round(float(v), 2) for v in (
          tf.norm(mean - layer.moving_mean), tf.norm(var - layer.moving_variance),
          tf.norm(layer.moving_mean), tf.norm(layer.moving_variance))])
    return out
  generator = fake_graphs.FakeGraphGenerator(128, 18, ds.num_features, 2, 0.1, seed=0)
  fake = generator.feed(generator.sample_adjacency(np.random.default_rng(0)),
                        generator.node_features())
  x = np.concatenate([ds.graphs[i].node_features for i in train_index])
  print(json.dumps({"seed": seed, "columns": ["layer", "mean diff", "var diff", "|running mean|",
                                              "|running var|"],
                    "real": stats(feeds.select(feeds.batch_feed(
                        [ds.graphs[i] for i in train_index]), names)),
                    "fake_init": stats(feeds.select(fake, names)),
                    "real_feature_mean": x.mean(0).round(3).tolist()}), flush=True)


def gfkd_prior_steps(fold: int, learning_rate: float, steps: int):
  """Generator only: the loss (mean CE + the batch-norm prior over *all* the re-estimated
  teacher's BN layers + the entropy term, gfkd-mutag-rebn-pool's graphs) every 50 steps, to
  see whether the paper's full prior is met with more steps or a larger Adam step."""
  ds = data.load("mutag")
  teacher = train(dr.GIN_TEACHER, ds, dr.GIN_TRAIN_REBN, seed=fold, fold=fold,
                  progress=False).model
  generator = fake_graphs.FakeGraphGenerator(128, 28, ds.num_features, 2, 0.1, seed=fold,
                                             min_nodes=10)
  start = time.time()
  history = gfkd.fit_generator(teacher, generator, steps=steps, learning_rate=learning_rate,
                               samples=4, bn_weight=1.0, entropy_weight=0.1, bn_layers=0,
                               seed=fold)
  print(json.dumps({"fold": fold, "lr": learning_rate, "s": round(time.time() - start),
                    "loss": [round(history[i]["loss"], 1) for i in range(0, steps, 50)]
                    + [round(history[-1]["loss"], 1)],
                    "agree": history[-1]["teacher_agreement"]}), flush=True)


def gfkd_labels(seed: int, steps: int, bn_weight: float):
  """The teacher's labels on the gfkd-mutag generator's fake graphs after `steps` steps, for
  softmax / sampled one-hot / argmax features and sampled / thresholded (p >= 0.5) structure:
  class histogram, agreement with the targets, mean max probability; plus feature stats."""
  from edgegnn.models import feeds  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  ds = data.load("mutag")
  teacher = train(dr.GIN_TEACHER, ds, dr.GIN_TRAIN, seed=seed, fold=seed, progress=False).model
  names = feeds.model_input_names(teacher)
  generator = fake_graphs.FakeGraphGenerator(128, 18, ds.num_features, 2, 0.1, seed=seed)
  history = gfkd.fit_generator(teacher, generator, steps=steps, learning_rate=0.05, samples=4,
                               bn_weight=bn_weight, seed=seed)
  rng = np.random.default_rng(5)
  x = generator.node_features().numpy()
  p = generator.edge_probabilities().numpy()
  report = {"seed": seed, "steps": steps, "bn_weight": bn_weight, "generator": history[-1],
            "feature_entropy": float(-(x * np.log(x + 1e-12)).sum(-1).mean()),
            "argmax_hist": np.bincount(x.argmax(-1).ravel(), minlength=x.shape[-1]).tolist(),
            "mean_undirected_edges": float(p.sum((1, 2)).mean() / 2), "teacher_labels": {}}
  one_hot = np.eye(x.shape[-1], dtype=np.float32)
  for label, features in (("softmax", x), ("onehot-sample",
                                           fake_graphs.sample_one_hot_features(generator, rng)),
                          ("argmax", one_hot[x.argmax(-1)])):
    for structure, adjacency in (("sample", generator.sample_adjacency(rng)),
                                 ("thresh", (p >= 0.5).astype(np.float32))):
      feed = generator.feed(adjacency, features)
      feed["node_features"] = np.asarray(feed["node_features"])
      logits = teacher(feeds.select(feed, names), training=False)["logits"].numpy()
      pred = logits.argmax(-1)
      report["teacher_labels"][f"{label}/{structure}"] = {
          "hist": np.bincount(pred, minlength=2).tolist(),
          "agree_targets": float(np.mean(pred == generator.targets)),
          "mean_max_prob": float(tf.nn.softmax(logits).numpy().max(-1).mean())}
  print(json.dumps(report), flush=True)


def gfkd_first_bn(fold: int):
  """What the teacher's first batch-norm layer knows of its training data: E[a] by least
  squares (`fake_graphs.teacher_mean_aggregate`), hence the node-type mix E[a] / sum E[a]
  and the mean in-degree sum E[a] - 1 - eps, from the weights alone. Printed beside the same
  figures of the fold's real training graphs."""
  ds = data.load("mutag")
  teacher = train(dr.GIN_TEACHER, ds, dr.GIN_TRAIN_REBN, seed=fold, fold=fold,
                  progress=False).model
  conv = teacher.get_layer("conv0")
  dense, norm = fake_graphs.first_batch_norm_input(teacher)
  kernel = dense.kernel.numpy()
  eps = sum(float(w.numpy()) for w in conv.weights if "eps" in w.name)
  recovered = fake_graphs.teacher_mean_aggregate(teacher)
  sums, counts, degrees = [], [], []
  for i in GraphTask.from_fold(ds, fold).split("train"):
    graph = ds.graphs[i]
    x = graph.node_features
    aggregated = (1 + eps) * x
    np.add.at(aggregated, graph.edge_target, x[graph.edge_source])
    sums.append(aggregated)
    counts.append(x)
    degrees.append(np.bincount(graph.edge_target, minlength=len(x)))
  real = np.concatenate(sums).mean(0)
  print(json.dumps({
      "fold": fold, "eps": eps,
      "residual": float(np.linalg.norm(kernel.T @ recovered - norm.moving_mean.numpy())),
      "recovered_mean_aggregate": recovered.round(3).tolist(),
      "real_mean_aggregate": real.round(3).tolist(),
      "recovered_mean_degree": round(float(recovered.sum() - 1 - eps), 3),
      "real_mean_degree": round(float(np.concatenate(degrees).mean()), 3),
      "real_type_mix": np.concatenate(counts).mean(0).round(3).tolist()}), flush=True)


def main(argv):
  kind = argv[0]
  if kind == "lsp":
    sweep_lsp(argv[1], [int(s) for s in argv[2].split(",")], argv[3].split(","))
  elif kind == "sd":
    sweep_sd([int(s) for s in argv[1].split(",")], argv[2].split(","))
  elif kind == "sd400":
    sweep_sd([int(s) for s in argv[1].split(",")], argv[2].split(","), row="sd-cora-400")
  elif kind == "sd400-lr":
    sweep_sd_learning_rate([int(s) for s in argv[1].split(",")],
                           [float(lr) for lr in argv[2].split(",")], argv[3].split(","),
                           hidden=int(argv[4]) if len(argv) > 4 else None,
                           layers=int(argv[5]) if len(argv) > 5 else None)
  elif kind == "sd-ndr":
    sd_ndr([int(s) for s in argv[1].split(",")], argv[2].split(","),
           *([argv[3]] if len(argv) > 3 else []))
  elif kind == "gfkd-labels":
    gfkd_labels(int(argv[1]), int(argv[2]), float(argv[3]))
  elif kind == "gfkd-prior-steps":
    gfkd_prior_steps(int(argv[1]), float(argv[2]), int(argv[3]))
  elif kind == "gfkd-first-bn":
    gfkd_first_bn(int(argv[1]))
  elif kind == "gfkd-bn-stats":
    gfkd_bn_stats(int(argv[1]), json.loads(argv[2]) if len(argv) > 2 else None)
  elif kind == "gfkd":
    sweep_gfkd(int(argv[1]), json.loads(argv[2]), json.loads(argv[3]) if len(argv) > 3 else None)
  else:
    raise SystemExit(f"unknown sweep {kind!r}; expected lsp, sd, sd400, sd400-lr, sd-ndr, gfkd, "
                     "gfkd-labels, gfkd-prior-steps, gfkd-first-bn or gfkd-bn-stats")


if __name__ == "__main__":
  main(sys.argv[1:])
