"""Measures EdgeConv's Keras vs TFLite agreement on digits_points, per layout and format.

    PYTHONPATH=$PWD .venv/bin/python tools/edgeconv_agreement.py --epochs 3

Trains the test suite's EdgeConv (16 units, 2 layers, k=6, mean+max readout) for a few
epochs, exports the sparse and dense layouts as float32 and full-int8 TFLite, runs each on
ai-edge-litert over the test split and prints agreement, accuracy and the op list.
"""
import argparse
import pathlib
import sys
import tempfile

# pylint: disable=g-import-not-at-top,wrong-import-position
from edgegnn import data
from edgegnn.deploy import convert as convert_lib
from edgegnn.deploy import verify as verify_lib
from edgegnn.models import ModelSpec, build_model, feeds, transfer_weights
from edgegnn.training import TrainConfig, make_task, predict, train


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--epochs", type=int, default=3)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--formats", nargs="+", default=["tflite-float32", "tflite-int8"])
  args = parser.parse_args(argv)
  ds = data.load("digits_points")
  spec = ModelSpec("edgeconv", dropout=0.0, hidden_units=16, num_layers=2, k=6,
                   readout="mean+max")
  trained = train(spec, ds, TrainConfig(epochs=args.epochs, batch_size=64), seed=args.seed,
                  progress=False).model
  task = make_task(ds, 0)
  test_index = task.split("test")
  reference = predict(trained, task, test_index)
  train_index = task.split("train")
  with tempfile.TemporaryDirectory() as tmp:
    for layout in ("sparse", "dense"):
      capacity = ds.max_nodes if layout == "dense" else None
      export = transfer_weights(trained, build_model(
          spec, num_features=ds.num_features, num_classes=ds.num_classes, task="graph",
          layout=layout, capacity=capacity))
      names = feeds.model_input_names(export)
      for fmt in args.formats:
        representative = [feeds.select(feeds.graph_feed(ds.graphs[i], layout, capacity), names)
                          for i in train_index[:100]]
        try:
          result = convert_lib.convert(export, fmt, pathlib.Path(tmp) / f"{layout}.{fmt}",
                                       target="mobile", representative_feeds=representative)
          checked = verify_lib.verify(result.path, dataset=ds, test_index=test_index,
                                      reference_logits=reference, input_names=names,
                                      layout=layout, capacity=capacity, floor=0.0)
        except Exception as e:  # report and go on with the next case
          print(f"{layout} {fmt}: FAILED {type(e).__name__}: {str(e)[:300]}")
          continue
        print(f"{layout} {fmt}: agreement {checked.agreement:.4f} "
              f"({checked.examples} test graphs), accuracy {checked.test_accuracy:.4f}, "
              f"ops {dict(sorted(result.ops.items()))}", flush=True)
  return 0


if __name__ == "__main__":
  sys.exit(main())
