"""Data-parallel training under `tf.distribute.MultiWorkerMirroredStrategy`.

Every worker holds a full copy of the model (mirrored variables). For a node task each
worker computes the loss of its share of the labelled training nodes (worker i takes
`train_index[i::N]`) on the whole graph; the strategy all-reduces (sums) the gradients
before every update, so all workers apply the same update and stay identical. Each
worker's loss is its rows' summed cross-entropy divided by the TOTAL number of training
rows, so the summed gradient equals the single-process full-batch gradient.

Start one process per worker (here two on loopback; on a real cluster use the hosts'
addresses in TF_CONFIG):

    python -m edgegnn.training.distributed --worker 0 --ports 23456,23457 --out run/w0 &
    python -m edgegnn.training.distributed --worker 1 --ports 23456,23457 --out run/w1

Each worker writes `metrics.json` and `weights.npz` to its `--out` directory.
TF_CONFIG must be set before the strategy is created, and the strategy must be created
before other TensorFlow work in the process, so use one fresh process per worker.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import time
from typing import Any, ClassVar, Mapping, Optional, Sequence, Union

import numpy as np

from edgegnn import _keras_env  # noqa: F401  (must precede TensorFlow)
from edgegnn.config_fields import MappingConfig

COLLECTIVES = ("ring", "auto")


@dataclasses.dataclass(frozen=True)
class DistributedConfig(MappingConfig):
  """A data-parallel node-classification run.

  Attributes:
    dataset: a node-classification dataset: a bundled name, a path (.npz, or a .yaml/.json
      source file) or a source mapping (`edgegnn.data.sources.resolve`, docs/data.md);
      stored resolved (absolute paths), so every worker process reads the same files.
    epochs: full-graph training steps (no early stopping: every worker runs all of them).
    learning_rate: Adam learning rate.
    seed: seeds weights and dropout; every worker uses the same one, so the initial
      weights agree (the strategy also broadcasts them from worker 0).
    collective: "ring" or "auto" (the all-reduce implementation; CPU uses ring either way).
    model: a `ModelSpec` mapping (default: 2-layer GCN, 16 hidden, dropout 0.5,
      weight decay 5e-4, row-normalised input).
  """
  SECTION: ClassVar[str] = "distributed"
  dataset: Union[str, Mapping[str, Any]] = "cora"
  epochs: int = 20
  learning_rate: float = 0.01
  seed: int = 0
  collective: str = "ring"
  model: Optional[Mapping[str, Any]] = None

  def __post_init__(self):
    from edgegnn.data import sources  # pylint: disable=g-import-not-at-top
    object.__setattr__(self, "dataset", sources.resolve(self.dataset))
    if self.epochs < 1:
      raise ValueError(f"distributed.epochs must be >= 1, got {self.epochs}.")
    if self.learning_rate <= 0:
      raise ValueError(f"distributed.learning_rate must be > 0, got {self.learning_rate}.")
    if self.collective not in COLLECTIVES:
      raise ValueError(f"distributed.collective must be one of {COLLECTIVES}, "
                       f"got {self.collective!r}.")

  def model_spec(self):
    from edgegnn.models import ModelSpec  # pylint: disable=g-import-not-at-top
    defaults = {"architecture": "gcn", "hidden_units": 16, "dropout": 0.5,
                "weight_decay": 5e-4, "input_normalization": "row"}
    return ModelSpec.from_dict({**defaults, **dict(self.model or {})}, "distributed.model")


def tf_config(ports: Sequence[int], index: int, host: str = "localhost") -> dict[str, Any]:
  """The TF_CONFIG of worker `index` in a cluster of one worker per port on `host`."""
  ports = [int(p) for p in ports]
  if not ports:
    raise ValueError("ports must list one port per worker, e.g. --ports 23456,23457.")
  if not 0 <= index < len(ports):
    raise ValueError(f"worker index {index} is outside 0..{len(ports) - 1} for "
                     f"{len(ports)} ports; pass --worker between 0 and {len(ports) - 1}.")
  return {"cluster": {"worker": [f"{host}:{p}" for p in ports]},
          "task": {"type": "worker", "index": int(index)}}


def train_worker(config: DistributedConfig, ports: Sequence[int], index: int,
                 out_dir: Optional[str] = None) -> dict[str, Any]:
  """Trains this worker's replica in the cluster given by `ports`; returns its metrics.

  Must be called in a fresh process (once): it sets TF_CONFIG and creates the strategy
  before any other TensorFlow op. Writes `metrics.json` and `weights.npz` to `out_dir`.
  """
  os.environ["TF_CONFIG"] = json.dumps(tf_config(ports, index))
  os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  tf.config.threading.set_intra_op_parallelism_threads(1)
  tf.config.threading.set_inter_op_parallelism_threads(2)
  implementation = {"ring": tf.distribute.experimental.CommunicationImplementation.RING,
                    "auto": tf.distribute.experimental.CommunicationImplementation.AUTO}
  strategy = tf.distribute.MultiWorkerMirroredStrategy(
      communication_options=tf.distribute.experimental.CommunicationOptions(
          implementation=implementation[config.collective]))

  from edgegnn import data, engine  # pylint: disable=g-import-not-at-top
  from edgegnn.data import sources  # pylint: disable=g-import-not-at-top
  from edgegnn.engine import accuracy  # pylint: disable=g-import-not-at-top
  from edgegnn.models import build_model  # pylint: disable=g-import-not-at-top
  from edgegnn.training.tasks import NodeTask, make_task  # pylint: disable=g-import-not-at-top

  dataset = data.load_source(config.dataset)
  task = make_task(dataset)
  if not isinstance(task, NodeTask):
    raise ValueError(f"distributed.dataset {sources.describe(config.dataset)} is a graph-"
                     "classification dataset; distributed training covers node classification "
                     "(e.g. cora).")
  spec = config.model_spec()
  num_workers = strategy.num_replicas_in_sync
  tf.keras.utils.set_random_seed(config.seed)
  with strategy.scope():
    model = build_model(spec, num_features=dataset.num_features,
                        num_classes=dataset.num_classes, task="node", layout="sparse")
    optimizer = tf.keras.optimizers.Adam(learning_rate=config.learning_rate)
  train_index = task.split("train")
  own_rows = train_index[index::len(ports)]
  batch = engine.Batch(task.full_feed(), task.labels[own_rows].astype(np.int32),
                       own_rows.astype(np.int32)).as_tensors()
  total = float(len(train_index))

  def worker_loss(outputs, batch):
    logits = tf.gather(outputs["logits"], batch.rows)
    return tf.reduce_sum(tf.nn.sparse_softmax_cross_entropy_with_logits(batch.labels, logits)
                         ) / total

  # Each replica's L2 term is wd / N: the all-reduce sums the N replicas' gradients.
  train_step = engine.TrainStep(model, worker_loss, optimizer,
                                weight_decay=spec.weight_decay / num_workers)
  step = tf.function(lambda: strategy.reduce(
      tf.distribute.ReduceOp.SUM, strategy.run(lambda: train_step.apply(batch)), axis=None))
  start = time.perf_counter()
  first = []   # the first step traces and waits for every worker to join the collective
  fitted = engine.fit(model, None, [batch], epochs=config.epochs, step=lambda _: step(),
                      callbacks=[lambda epoch, record: first.append(time.perf_counter() - start)
                                 if epoch == 0 else None])
  history = [record["train_loss"] for record in fitted.history]
  seconds = time.perf_counter() - start
  first = first[0]
  logits = engine.predict(model, task)
  metrics = {"worker": index, "num_workers": num_workers, "epochs": config.epochs,
             "seed": config.seed, "collective": config.collective,
             "train_rows_this_worker": int(len(own_rows)), "train_loss": history,
             "seconds": round(seconds, 2), "first_step_seconds": round(first, 2),
             "seconds_per_later_step": round((seconds - first) / max(config.epochs - 1, 1), 4)}
  for split in ("train", "val", "test"):
    split_index = task.split(split)
    metrics[f"{split}_accuracy"] = accuracy(logits[split_index], task.labels[split_index])
  if out_dir:
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "weights.npz", **{f"w{i}": w for i, w in enumerate(model.get_weights())})
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
  return metrics


def load_weights(out_dir: str) -> list[np.ndarray]:
  """The final weights a worker wrote to `out_dir`, in `model.get_weights()` order."""
  with np.load(pathlib.Path(out_dir) / "weights.npz") as f:
    return [f[f"w{i}"] for i in range(len(f.files))]


def main(argv: Optional[Sequence[str]] = None) -> None:
  parser = argparse.ArgumentParser(
      prog="python -m edgegnn.training.distributed",
      description="One worker of a MultiWorkerMirroredStrategy node-classification run.")
  parser.add_argument("--worker", type=int, required=True, help="this worker's index")
  parser.add_argument("--ports", required=True,
                      help="comma-separated loopback ports, one per worker (e.g. 23456,23457)")
  parser.add_argument("--out", default=None, help="directory for metrics.json, weights.npz")
  parser.add_argument("--dataset", default="cora",
                      help="a bundled name, or a .npz / .yaml / .json source file")
  parser.add_argument("--epochs", type=int, default=20)
  parser.add_argument("--learning-rate", type=float, default=0.01)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--collective", default="ring", choices=COLLECTIVES)
  args = parser.parse_args(argv)
  try:
    ports = [int(p) for p in args.ports.split(",") if p]
  except ValueError:
    parser.error(f"--ports must be comma-separated integers, got {args.ports!r}.")
  config = DistributedConfig(dataset=args.dataset, epochs=args.epochs,
                             learning_rate=args.learning_rate, seed=args.seed,
                             collective=args.collective)
  metrics = train_worker(config, ports, args.worker, args.out)
  print(json.dumps({k: v for k, v in metrics.items() if k != "train_loss"}))


if __name__ == "__main__":
  main()
