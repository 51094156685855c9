"""Test accuracy of trained graph-classification models before / after BatchNorm
re-estimation (`edgegnn.training.reestimate_batch_norm`) on their training graphs.

Every saved run (seed, fold) of the given stages of a pipeline's out directory is loaded,
its BatchNorm statistics are re-estimated from its fold's training graphs (one feed per
training batch of `--batch-size`), and train / test accuracy are measured before and after.

    .venv/bin/python tools/degree_quant_bn.py \\
        --run runs/degree_quant_results/degree_quant_mutag_gin --dataset mutag \\
        --stages fp32 dq_int8 --out docs/results/degree_quant_mutag_bn.json
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
  parser.add_argument("--batch-size", type=int, default=32)
  parser.add_argument("--out", help="write the JSON here")
  args = parser.parse_args()
  from edgegnn import data  # pylint: disable=g-import-not-at-top
  from edgegnn.models import feeds
  from edgegnn.models.saving import load_trained
  from edgegnn.training import make_task, predict, reestimate_batch_norm
  dataset = data.load(args.dataset)
  report = json.loads((pathlib.Path(args.run) / "report.json").read_text())
  models = {m["name"]: m for m in report["models"]}
  result = {"run": args.run, "dataset": args.dataset, "batch_size": args.batch_size,
            "stages": {}}
  for stage in args.stages:
    rows = []
    for entry in models[stage]["runs"]:
      task = make_task(dataset, entry["fold"])
      model, _ = load_trained(pathlib.Path(args.run) / entry["path"], batched=True)
      names = feeds.model_input_names(model)

      def accuracy(split):
        index = task.split(split)
        return float(np.mean(predict(model, task, index).argmax(-1) == dataset.labels[index]))
      before = {s: accuracy(s) for s in ("train", "test")}
      reestimate_batch_norm(model, (feeds.select(f, names) for f, _ in
                                    task.batches(task.split("train"), args.batch_size)))
      after = {s: accuracy(s) for s in ("train", "test")}
      rows.append({"seed": entry["seed"], "fold": entry["fold"], "reported_test":
                   entry["test_accuracy"], "before": before, "after": after})
      print(stage, rows[-1], flush=True)
    result["stages"][stage] = {
        "runs": rows,
        "test_before": float(np.mean([r["before"]["test"] for r in rows])),
        "test_after": float(np.mean([r["after"]["test"] for r in rows])),
        "test_after_std": float(np.std([r["after"]["test"] for r in rows]))}
    print(stage, {k: v for k, v in result["stages"][stage].items() if k != "runs"})
  if args.out:
    pathlib.Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
  main()
