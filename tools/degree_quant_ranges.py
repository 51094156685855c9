"""Activation ranges of trained fake-quant models (node tasks), to diagnose INT4 runs.

For every quantizer of each model: the tracked range [lo, hi] used at evaluation; for the
model's logits: the largest |logit|, the share of nodes whose top logit is tied with another
class (logits clipped at the same top level), and the training loss of the last epoch.

    .venv/bin/python tools/degree_quant_ranges.py \\
        --run runs/degree_quant_results/degree_quant_citeseer_gcn --dataset citeseer \\
        --stages qat_int4 dq_int4 --seeds 0 1 2 3 4 --out docs/results/degree_quant_ranges.json
"""
from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--run", required=True, help="a pipeline's out directory")
  parser.add_argument("--dataset", required=True)
  parser.add_argument("--stages", nargs="+", required=True)
  parser.add_argument("--seeds", nargs="+", type=int, default=[0])
  parser.add_argument("--out", help="write the JSON here")
  args = parser.parse_args()
  from edgegnn import data  # pylint: disable=g-import-not-at-top
  from edgegnn.models import feeds
  from edgegnn.models.saving import load_trained
  from edgegnn.quantization import LayerQuantization
  from edgegnn.training import make_task
  dataset = data.load(args.dataset)
  task = make_task(dataset)
  rows = []
  for stage in args.stages:
    for seed in args.seeds:
      directory = pathlib.Path(args.run) / "models" / stage / f"seed{seed}_fold0"
      model, _ = load_trained(directory)
      ranges = {}
      for layer in model.submodules:
        if isinstance(layer, LayerQuantization):
          for point, quantizer in layer.quantizers.items():
            if float(quantizer.seen):  # points a layer never calls (GCN attention) skipped
              ranges[f"{layer.name}/{point}"] = [round(float(quantizer.lo), 4),
                                                 round(float(quantizer.hi), 4)]
      feed = feeds.select(task.full_feed(), feeds.model_input_names(model))
      logits = model(feed, training=False)["logits"].numpy()
      top = np.sort(logits, -1)
      history = json.loads((directory / "checkpoint" / "metrics.json").read_text())["history"]
      rows.append({"stage": stage, "seed": seed, "ranges": ranges,
                   "max_abs_logit": float(np.abs(logits).max()),
                   "tied_top_logit_share": float(np.mean(top[:, -1] == top[:, -2])),
                   "last_train_loss": history[-1]["train_loss"],
                   "train_loss_epoch_50": history[49]["train_loss"] if len(history) > 49 else None})
      print(json.dumps(rows[-1]))
  if args.out:
    pathlib.Path(args.out).write_text(json.dumps({"run": args.run, "dataset": args.dataset,
                                                  "models": rows}, indent=1) + "\n")


if __name__ == "__main__":
  main()
