"""Int8 agreement of the attention layers on Cora, per attention kind. Writes JSON.

Trains each case (seed 0, input row-normalisation, weight decay 5e-4, 100 epochs), exports
it in the neighbors layout as float32 and full int8 (PTQ, calibrated on the training
graph) and verifies both on ai-edge-litert over the test split, as
`tests/test_neighbor_layout.py` does; prints and stores the agreement with Keras.

    PYTHONPATH=$PWD .venv/bin/python tools/int8_attention_agreement.py \\
        [--cases gat mp:sym-gat mp:cos ...] [--out docs/results/int8_attention.json]
"""
from __future__ import annotations

import argparse
import json
import pathlib
import tempfile

import edgegnn  # noqa: F401  (Keras 2 before TensorFlow)
from edgegnn import data
from edgegnn.atomic import atomic_write_text
from edgegnn.deploy import convert as convert_lib, verify as verify_lib
from edgegnn.layers import attention
from edgegnn.models import ModelSpec, build_model, feeds, transfer_weights
from edgegnn.training import TrainConfig, make_task, predict, train

DEFAULT_CASES = ["gat"] + [f"mp:{kind}" for kind in attention.ATTENTIONS]


def _spec(case: str) -> ModelSpec:
  common = dict(input_normalization="row", weight_decay=5e-4)
  if case == "gat":
    return ModelSpec("gat", hidden_units=8, num_heads=8, **common)
  architecture, _, kind = case.partition(":")
  if architecture != "mp" or kind not in attention.ATTENTIONS:
    raise SystemExit(f"Unknown case {case!r}: use 'gat' or 'mp:KIND' with KIND in "
                     f"{attention.ATTENTIONS}.")
  return ModelSpec("mp", hidden_units=8, num_heads=2, attention=kind, activation="relu",
                   **common)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--cases", nargs="*", default=DEFAULT_CASES)
  parser.add_argument("--epochs", type=int, default=100)
  parser.add_argument("--out", default="docs/results/int8_attention.json")
  args = parser.parse_args()
  cora = data.load("cora")
  _, max_neighbors = feeds.layout_sizes(cora, "neighbors")
  results = {}
  with tempfile.TemporaryDirectory() as tmp:
    for case in args.cases:
      spec = _spec(case)
      trained = train(spec, cora, TrainConfig(epochs=args.epochs), seed=0,
                      progress=False).model
      reference = predict(trained, make_task(cora))[cora.test_index]
      model = transfer_weights(trained, build_model(
          spec, num_features=cora.num_features, num_classes=cora.num_classes,
          layout="neighbors", max_neighbors=max_neighbors))
      names = feeds.model_input_names(model)
      feed = feeds.select(feeds.graph_feed(cora.graph, "neighbors",
                                           max_neighbors=max_neighbors), names)
      results[case] = {}
      for fmt in ("tflite-float32", "tflite-int8"):
        path = pathlib.Path(tmp) / f"{case.replace(':', '_')}.{fmt}.tflite"
        converted = convert_lib.convert(model, fmt, path, target="mobile",
                                        representative_feeds=[feed])
        checked = verify_lib.verify(str(path), dataset=cora, test_index=cora.test_index,
                                    reference_logits=reference, input_names=names,
                                    layout="neighbors", max_neighbors=max_neighbors,
                                    floor=0.0)
        results[case][fmt] = {"bytes": converted.bytes, "agreement": checked.agreement,
                              "test_accuracy": checked.test_accuracy}
      print(f"{case:16s} float32 {results[case]['tflite-float32']['agreement']:.3f} "
            f"int8 {results[case]['tflite-int8']['agreement']:.3f} "
            f"(int8 accuracy {100 * results[case]['tflite-int8']['test_accuracy']:.1f})",
            flush=True)
  command = ("PYTHONPATH=$PWD .venv/bin/python tools/int8_attention_agreement.py --cases "
             + " ".join(args.cases) + (f" --epochs {args.epochs}" if args.epochs != 100 else ""))
  out = pathlib.Path(args.out)
  out.parent.mkdir(parents=True, exist_ok=True)
  atomic_write_text(out, json.dumps({"command": command, "dataset": "cora", "seed": 0,
                                     "epochs": args.epochs, "cases": results}, indent=1))


if __name__ == "__main__":
  main()
