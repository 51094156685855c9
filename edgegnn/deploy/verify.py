"""Runs an artifact on its real interpreter over the whole test split.

Reports `test_accuracy` and `agreement` (the fraction of test predictions equal to the
Keras model's). Fails below a floor: a converted model that disagrees with its Keras
model is not shipped. Fails too where the artifact's logits are inf or NaN and the Keras
model's are finite (e.g. a constant that rounds to 0 in a float16 artifact, then log(0)):
an app reading raw logits or probabilities would break on them even when the argmax agrees.

Imports numpy, `edgegnn.runtime` and `edgegnn.models.feeds` (numpy-level): no TensorFlow and
no model zoo; the Keras model's logits come in as an array.
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Sequence

import numpy as np

from edgegnn.models import feeds
from edgegnn.runtime.interpreters import open_runtime

DEFAULT_FLOORS = {"float": 0.99, "int8": 0.97}


class AgreementError(AssertionError):
  """The artifact's predictions disagree with the Keras model's more than allowed."""


@dataclasses.dataclass(frozen=True)
class Verification:
  runtime: str
  examples: int
  test_accuracy: float
  agreement: float


def floor_for(fmt: str, floors: Optional[dict[str, float]] = None) -> float:
  floors = {**DEFAULT_FLOORS, **(floors or {})}
  return floors["int8"] if "int8" in fmt else floors["float"]


def verify(artifact: str, *, dataset, test_index: Sequence[int], reference_logits: np.ndarray,
           input_names: Sequence[str], layout: str, capacity: Optional[int] = None,
           runtime: str = "auto", floor: float = 0.99,
           max_neighbors: Optional[int] = None) -> Verification:
  """Runs `artifact` on every test example and compares with `reference_logits`.

  Args:
    artifact: `.tflite` path.
    dataset: the dataset (node task: its one graph; graph task: its graphs).
    test_index: test nodes (node task) or test graphs (graph task).
    reference_logits: the Keras model's logits for those examples, in the same order.
    input_names: the artifact's input names (the model's).
    layout / capacity / max_neighbors: how to feed graphs (dense graphs are padded to
      capacity, neighbour lists to max_neighbors slots; a graph above either raises
      CapacityError, never truncated).
    runtime: "auto", "litert", "lce" or "tflm".
    floor: minimum agreement.
  """
  interpreter = open_runtime(artifact, runtime=runtime)
  test_index = np.asarray(test_index)
  if dataset.task == "node":
    feed = feeds.select(feeds.graph_feed(dataset.graph, layout, capacity,
                                         max_neighbors=max_neighbors), input_names)
    logits = interpreter.run(feed)["logits"][: dataset.graph.num_nodes][test_index]
  else:
    logits = np.concatenate([
        interpreter.run(feeds.select(feeds.graph_feed(dataset.graphs[i], layout, capacity,
                                                      max_neighbors=max_neighbors),
                                     input_names))["logits"] for i in test_index])
  broken = ~np.isfinite(logits) & np.isfinite(reference_logits)
  if broken.any():
    rows = np.flatnonzero(broken.any(-1))
    raise AgreementError(
        f"{artifact}: {int(broken.sum())} logits in {len(rows)} of {len(test_index)} test "
        f"examples are inf or NaN where the Keras model's are finite (first example: "
        f"{int(test_index[rows[0]])}, artifact {logits[rows[0]].tolist()}). Look for a "
        "constant or intermediate the format cannot represent (float16: |x| < 6e-8 rounds "
        "to 0, > 65504 overflows); try tflite-float32 to confirm.")
  predictions = np.argmax(logits, -1)
  labels = dataset.labels[test_index]
  result = Verification(
      runtime=interpreter.name, examples=len(test_index),
      test_accuracy=float(np.mean(predictions == labels)),
      agreement=float(np.mean(predictions == np.argmax(reference_logits, -1))))
  if result.agreement < floor:
    raise AgreementError(
        f"{artifact}: agreement with the Keras model {result.agreement:.4f} is below the "
        f"floor {floor} on {result.examples} test examples ({interpreter.name}). Lower the "
        "floor only if the loss is expected; otherwise try another format or quantization-"
        "aware training.")
  return result
