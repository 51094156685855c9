"""The per-node query latency of a node-level artifact that needs no graph inputs.

An artifact whose only inputs are node features (an MLP student, such as GLNN's) answers
"classify node v" from v's own features alone, so on a device it serves one node per
call, not the whole graph. `per_node_latency` times that query the way
`tools/bench_per_node.py` does: `time.perf_counter_ns` around one `predict(node)` (write
the node's features, invoke, copy the logits out), one interpreter thread by default.

* Sparse-feature artifacts (inputs `feature_node`, `feature_index`[, `feature_value`]) are
  queried by `per_node.StudentPredictor`.
* Dense-feature artifacts (input `node_features`) by `RowPredictor`: the input is resized
  to [1, F] once; a query copies the node's row in (quantized when the artifact takes
  int8) and the logits out (dequantized when it returns int8).

An artifact with graph inputs (edges, neighbours, degrees) gets None: its per-node query
needs the node's k-hop subgraph (`per_node.SubgraphPredictor`, float sparse layout only).
"""
from __future__ import annotations

import time
from typing import Optional, Sequence

import numpy as np

from edgegnn.deploy import per_node

# Enough queries for a stable p90 in well under a second on a phone-class CPU.
DEFAULT_QUERIES = 300


class RowPredictor:
  """A dense-feature node artifact (input `node_features` only) on one node's row.

  Args:
    model: the artifact (path or bytes).
    features: float [N, F], the graph's node features (rows as the artifact expects them).
    num_threads: interpreter threads.

  Raises:
    ValueError: the artifact takes other inputs than `node_features`, or another width.
  """

  def __init__(self, model, features: np.ndarray, num_threads: int = 1):
    model = per_node._read_model(model)  # pylint: disable=protected-access
    names = per_node._signature_inputs(model)  # pylint: disable=protected-access
    if names != ["node_features"]:
      raise ValueError(f"a row predictor needs an artifact whose only input is "
                       f"node_features; this one takes {names}.")
    from ai_edge_litert.interpreter import Interpreter  # pylint: disable=g-import-not-at-top
    runner = Interpreter(model_content=model).get_signature_runner()
    detail = runner.get_input_details()["node_features"]
    self._out = runner.get_output_details()["logits"]
    del runner
    features = np.asarray(features, np.float32)
    if detail["shape"][-1] != features.shape[1]:
      raise ValueError(f"the artifact takes {detail['shape'][-1]} features per node; the "
                       f"graph has {features.shape[1]}.")
    self.num_nodes = features.shape[0]
    self.runtime = per_node.FixedInterpreter(
        model, {"node_features": [1, features.shape[1]]}, num_threads)
    self._rows = _quantize(features, detail)

  def predict(self, node) -> np.ndarray:
    """float32 [classes]: the artifact's logits for `node`.

    Raises:
      TypeError / ValueError: `node` is not an integer id in [0, N).
    """
    node = per_node._check_node(node, self.num_nodes)  # pylint: disable=protected-access
    self.runtime.view("node_features")[0] = self._rows[node]
    self.runtime.invoke()
    return _dequantize(self.runtime.view("logits")[0].copy(), self._out)


def _quantize(values: np.ndarray, detail: dict) -> np.ndarray:
  if detail["dtype"] == np.float32:
    return values
  scale, zero_point = detail["quantization"]
  info = np.iinfo(detail["dtype"])
  return np.clip(np.round(values / scale) + zero_point, info.min, info.max).astype(
      detail["dtype"])


def _dequantize(values: np.ndarray, detail: dict) -> np.ndarray:
  if detail["dtype"] == np.float32:
    return values
  scale, zero_point = detail["quantization"]
  return ((values.astype(np.float32) - zero_point) * scale).astype(np.float32)


def predictor_for(model, graph, num_threads: int = 1):
  """The per-node predictor of a node artifact without graph inputs, else None."""
  names = set(per_node._signature_inputs(per_node._read_model(model)))  # pylint: disable=protected-access
  if names == {"node_features"}:
    if graph.node_features is None:
      return None
    return RowPredictor(model, graph.node_features, num_threads)
  if {"feature_node", "feature_index"} <= names <= set(per_node.FEATURE_INPUTS):
    return per_node.StudentPredictor.from_graph(model, graph, num_threads)
  return None


def per_node_latency(model, graph, nodes: Sequence[int], num_threads: int = 1,
                     warmup: int = 10) -> Optional[dict]:
  """{p50, p90} ms and the number of `queries` of one-node queries over `nodes`, or None
  for an artifact that needs graph inputs (see the module docstring)."""
  predictor = predictor_for(model, graph, num_threads)
  if predictor is None or not len(nodes):
    return None
  nodes = [int(n) for n in nodes]
  for node in nodes[:warmup]:
    predictor.predict(node)
  times = np.empty(len(nodes))
  clock = time.perf_counter_ns
  for i, node in enumerate(nodes):
    start = clock()
    predictor.predict(node)
    times[i] = clock() - start
  ms = times / 1e6
  return {"p50": float(np.percentile(ms, 50)), "p90": float(np.percentile(ms, 90)),
          "queries": len(nodes), "threads": num_threads}
