"""Where does an int8 artifact lose precision? Per-tensor error against the float artifact.

Trains a Cora node classifier like tools/int8_agreement.py (30 epochs, one seed), converts
its neighbors-layout export to tflite-float32 and tflite-int8, runs both on the Cora
graph through ai-edge-litert with `experimental_preserve_all_tensors=True`, and prints,
for every tensor the two files share by name and shape, the int8 scale, max |float| and
the mean absolute error of the dequantized int8 values relative to the float tensor's
mean magnitude (`rel`). A tensor whose `rel` jumps is where the formulation loses range.

    .venv/bin/python tools/int8_tensor_errors.py [--case mp-sym-gat] [--seed 0]
        [--match attention]
"""
from __future__ import annotations

import argparse
import pathlib
import tempfile

import numpy as np

import edgegnn  # noqa: F401  (Keras 2 before TensorFlow)
from edgegnn import data
from edgegnn.deploy import convert as convert_lib
from int8_agreement import trained_neighbors_export  # tools/ is sys.path[0] when run as a script


def _all_tensors(path: str, feed: dict) -> dict[str, tuple[np.ndarray, float]]:
  from ai_edge_litert.interpreter import Interpreter  # pylint: disable=g-import-not-at-top
  interpreter = Interpreter(model_path=path, experimental_preserve_all_tensors=True)
  interpreter.get_signature_runner()(**feed)
  values = {}
  for detail in interpreter.get_tensor_details():
    try:
      tensor = interpreter.get_tensor(detail["index"])
    except ValueError:
      continue
    scale, zero = detail["quantization"]
    if tensor.dtype in (np.int8, np.int16) and scale:
      tensor = (tensor.astype(np.float64) - zero) * scale
    values[detail["name"]] = (np.asarray(tensor, np.float64), scale)
  return values


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--case", default="mp-sym-gat")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--match", default="", help="only tensors whose name contains this")
  args = parser.parse_args()
  cora = data.load("cora")
  _, export, _, _, feed = trained_neighbors_export(args.case, args.seed, cora)
  with tempfile.TemporaryDirectory(prefix="int8-tensors-") as folder:
    paths = {fmt: convert_lib.convert(export, fmt, pathlib.Path(folder) / f"{fmt}.tflite",
                                      representative_feeds=[feed],
                                      keep_tensor_names=True).path
             for fmt in ("tflite-float32", "tflite-int8")}
    reference = _all_tensors(paths["tflite-float32"], feed)
    quantized = _all_tensors(paths["tflite-int8"], feed)
  print(f"{'tensor':70s} {'shape':18s} {'int8 scale':>10s} {'max|f|':>9s} {'rel':>6s}")
  for name, (value, scale) in quantized.items():
    if (args.match not in name or name not in reference or value.size < 2 or
        reference[name][0].shape != value.shape or not scale):
      continue
    exact = reference[name][0]
    error = np.abs(exact - value).mean() / (np.abs(exact).mean() + 1e-12)
    print(f"{name[-70:]:70s} {str(value.shape):18s} {scale:10.3g} "
          f"{np.abs(exact).max():9.3g} {error:6.3f}")


if __name__ == "__main__":
  main()
