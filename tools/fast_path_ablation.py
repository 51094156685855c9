"""Where a Cora GCN's time goes on ai-edge-litert, and what each fast-path choice buys. JSON.

    python tools/fast_path_ablation.py --json docs/results/fast_path_ablation.json

Each case is a small TFLite model built here from the Cora graph (random weights, 16
units), timed in one process, 1 thread, inputs set once, interleaved rounds
(`edgegnn.deploy.side_by_side`); every case reports p50 and its ratio to the dense
first layer (`fc16`: X W1, X the 2708 x 1433 feature matrix):

  first layer, dense features
    fc16          X W1 (FULLY_CONNECTED)
    fc16_sum      X W1 then a row-sum normalisation (SUM over X, MUL over [N, 16])
    fc17          X [W1 | 1]: the row sums as a 17th matmul column
  first layer, sparse binary features (49,216 non-zeros)
    gather_segsum GATHER(W1, feature_index) then SEGMENT_SUM by feature_node (edgegnn)
    gather_unsorted  the same with UNSORTED_SEGMENT_SUM
    ell_sum       per-node padded feature slots [N, 30]: GATHER then SUM over the slots
    lookup_sparse EMBEDDING_LOOKUP_SPARSE (a fused TFLite builtin; flatbuffer built here)
  propagation Â H, H [N, 16] (edges + self-loops)
    prop_edge_weight  GATHER · fed edge weight, SEGMENT_SUM (sorted by target)
    prop_node_scale   n ⊙ SEGMENT_SUM(GATHER(n ⊙ H)): GCN's node-scale form
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys

import numpy as np

from edgegnn import _keras_env  # noqa: E402,F401
import tensorflow as tf  # noqa: E402

from edgegnn import data  # noqa: E402
from edgegnn.atomic import atomic_write_text  # noqa: E402
from edgegnn.deploy import side_by_side  # noqa: E402
from edgegnn.models import feeds  # noqa: E402


def _convert(fn, specs) -> bytes:
  module = tf.Module()
  module.fn = tf.function(fn, input_signature=specs)
  return tf.lite.TFLiteConverter.from_concrete_functions(
      [module.fn.get_concrete_function()], module).convert()


def _lookup_sparse(table: np.ndarray) -> bytes:
  """A one-op EMBEDDING_LOOKUP_SPARSE model (the converter never emits this op)."""
  import flatbuffers
  from ai_edge_litert import schema_py_generated as schema
  model = schema.ModelT()
  model.version, model.description = 3, b"embedding_lookup_sparse"
  model.buffers = [schema.BufferT()]
  graph = schema.SubGraphT()
  graph.tensors = []
  specs = [("ids", [-1], schema.TensorType.INT32), ("indices", [-1, 2], schema.TensorType.INT32),
           ("dense_shape", [2], schema.TensorType.INT32),
           ("weights", [-1], schema.TensorType.FLOAT32),
           ("table", list(table.shape), schema.TensorType.FLOAT32),
           ("out", [-1, table.shape[1]], schema.TensorType.FLOAT32)]
  for name, shape, dtype in specs:
    tensor = schema.TensorT()
    tensor.name, tensor.type = name.encode(), dtype
    tensor.shape, tensor.shapeSignature = [max(d, 1) for d in shape], shape
    buffer = schema.BufferT()
    if name == "table":
      buffer.data = np.frombuffer(table.astype(np.float32).tobytes(), np.uint8).tolist()
    model.buffers.append(buffer)
    tensor.buffer = len(model.buffers) - 1
    graph.tensors.append(tensor)
  graph.inputs, graph.outputs, graph.name = [0, 1, 2, 3], [5], b"main"
  code = schema.OperatorCodeT()
  code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.EMBEDDING_LOOKUP_SPARSE
  code.version = 1
  model.operatorCodes = [code]
  op = schema.OperatorT()
  op.opcodeIndex, op.inputs, op.outputs = 0, [0, 1, 2, 3, 4], [5]
  op.builtinOptionsType = schema.BuiltinOptions.EmbeddingLookupSparseOptions
  op.builtinOptions = schema.EmbeddingLookupSparseOptionsT()
  op.builtinOptions.combiner = schema.CombinerType.SUM
  graph.operators = [op]
  model.subgraphs = [graph]
  builder = flatbuffers.Builder(1024)
  builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
  return bytes(builder.Output())


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--json", type=pathlib.Path, required=True)
  parser.add_argument("--rounds", type=int, default=7)
  parser.add_argument("--invokes", type=int, default=15)
  args = parser.parse_args(argv)
  graph = data.load("cora").graph
  x = graph.node_features
  n, f = x.shape
  rng = np.random.default_rng(0)
  w1 = rng.normal(0, 0.05, (f, 16)).astype(np.float32)
  table = np.concatenate([w1, np.zeros((1, 16), np.float32)])
  lists = feeds.sparse_feature_lists(graph)
  node, index = lists["feature_node"], lists["feature_index"]
  width = int(np.bincount(node).max())
  slots = np.full((n, width), f, np.int32)
  slots[node, np.arange(len(node)) - np.searchsorted(node, node)] = index
  loops = np.arange(n, dtype=np.int32)
  source = np.concatenate([graph.edge_source, loops]).astype(np.int32)
  target = np.concatenate([graph.edge_target, loops]).astype(np.int32)
  order = np.argsort(target, kind="stable")
  source, target = source[order], target[order]
  degree = np.bincount(target, minlength=n).astype(np.float32)
  scale = degree ** -0.5
  weight = (scale[source] * scale[target]).astype(np.float32)
  h = rng.normal(size=(n, 16)).astype(np.float32)
  i32, f32 = tf.int32, tf.float32
  spec = lambda shape, dtype=f32: tf.TensorSpec(shape, dtype)  # noqa: E731
  ones = np.ones((f, 1), np.float32)
  cases = {
      "fc16": (lambda x: tf.matmul(x, w1), [spec([None, f])], [x]),
      "fc16_sum": (lambda x: tf.matmul(x, w1) / tf.maximum(
          tf.reduce_sum(x, 1, keepdims=True), 1.0), [spec([None, f])], [x]),
      "fc17": (lambda x: tf.matmul(x, np.concatenate([w1, ones], 1)), [spec([None, f])], [x]),
      "gather_segsum": (lambda i, s: tf.math.segment_sum(tf.gather(table, i), s),
                        [spec([None], i32)] * 2, [index, node]),
      "gather_unsorted": (lambda i, s: tf.math.unsorted_segment_sum(
          tf.gather(table, i), s, tf.reduce_max(s) + 1), [spec([None], i32)] * 2, [index, node]),
      "ell_sum": (lambda sl: tf.reduce_sum(tf.gather(table, sl), 1), [spec([None, width], i32)],
                  [slots]),
      "prop_edge_weight": (lambda h, s, t, w: tf.math.segment_sum(
          tf.gather(h, s) * w[:, None], t),
          [spec([None, 16]), spec([None], i32), spec([None], i32), spec([None])],
          [h, source, target, weight]),
      "prop_node_scale": (lambda h, s, t, c: tf.math.segment_sum(
          tf.gather(h * c[:, None], s), t) * c[:, None],
          [spec([None, 16]), spec([None], i32), spec([None], i32), spec([None])],
          [h, source, target, scale]),
  }
  contenders = []
  for name, (fn, specs, arrays) in cases.items():
    blob = _convert(fn, specs)
    names = fn.__code__.co_varnames[:fn.__code__.co_argcount]   # the signature's names
    contenders.append(side_by_side.contender(name, blob, dict(zip(names, arrays))))
  lookup = {"ids": index, "indices": np.stack([node, np.zeros_like(node)], 1).astype(np.int32),
            "dense_shape": np.array([n, 1], np.int32),
            "weights": np.ones(len(index), np.float32)}
  contenders.append(side_by_side.contender("lookup_sparse", _lookup_sparse(table), lookup))
  expected = x @ w1
  for c in contenders:
    if c.name in ("gather_segsum", "gather_unsorted", "ell_sum", "lookup_sparse", "fc16"):
      out = next(iter(c.outputs().values()))
      assert np.allclose(out[:n], expected, atol=1e-4), c.name
  timed = side_by_side.interleaved_latency(contenders, args.rounds, args.invokes,
                                           baseline="fc16")
  out = {"command": "python tools/fast_path_ablation.py "
                    + " ".join(sys.argv[1:] if argv is None else argv),
         "graph": {"nodes": n, "features": f, "nonzeros": int((x != 0).sum()),
                   "edges_with_self_loops": int(len(source)), "max_nonzeros_per_node": width},
         "load_average": os.getloadavg(), "rounds": args.rounds,
         "invokes_per_round": args.invokes, "baseline": "fc16",
         "results": {k: {m: v[m] for m in ("p50_ms", "p90_ms", "x_baseline_p50")}
                     for k, v in timed.items()}}
  atomic_write_text(args.json, json.dumps(out, indent=1) + "\n")
  for name, r in timed.items():
    print(f"{name:18s} p50 {r['p50_ms']:7.3f} ms  x{r['x_baseline_p50']:.3f}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
