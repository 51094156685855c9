"""Per-node serving on the device: `predict(node) -> logits` (numpy + ai-edge-litert only).

The common device query is "classify node v". Two predictors answer it from float
`.tflite` artifacts that take node features as their non-zeros
(`edgegnn.layers.sparse_features`; `build_model(..., features="binary" | "sparse",
serving=True)`):

* `StudentPredictor`: a GLNN MLP student (no graph inputs) fed node v's own features.
* `SubgraphPredictor`: a message-passing teacher (sparse layout) fed v's k-hop
  in-neighbourhood (`edgegnn.deploy.khop`, seed at local index 0) with FULL-graph
  in-degrees, so its output row 0 is v's full-graph output up to float rounding.

Fixed capacities. Resizing an input means `allocate_tensors()` (re-planning the arena,
tens of microseconds), and a signature-runner call does that and copies every input.
Here each interpreter is resized and allocated ONCE to capacities (C nodes, M edges, Z
feature entries); a query writes into the input buffers in place (`interpreter.tensor`
views) and pads the rest:

* padding nodes n..C-1 (C >= n + 1, so at least one exists): in_degree 0, feature
  entries of column F only (the zero row of the artifact's weight table);
* padding edges C-1 -> C-1: they move messages between padding nodes only;
* feature_node names every node 0..C-1, ascending: TFLite's SEGMENT_SUM fails unless
  the ids start at 0 and step by 0 or 1 (and its segment count is the last id + 1).

No real node reads a padding node (no padding edge targets one), and a column-F entry
adds an exact 0, so the padding never changes a real node's output.

Features as padded rows (`FeatureRows`). Node u's non-zeros are stored in row u of an
[N, K] table (K = the longest row; columns padded with F, values with 0), so a feature
fetch is one `np.take` of the subgraph's rows, and feature_node is the constant pattern
0,..,0 (K times), 1,..,1, ... that the interpreter gets once, at creation (Z = C * K).
It costs K / (mean row length) more entries in the artifact's GATHER (Cora: 30 / 18.2)
and N * K * 4 bytes (Cora: 325 KB) but saves the extractor's CSR gather (over a
third of its time on Cora). A graph whose rows vary a lot (K > `max_row_ratio` x the mean) is
served from the CSR instead (the extractor's local feature lists, Z a power of two).

The node-wise cost grows with C, M and Z, so one capacity sized for the largest
neighbourhood would make every query pay for a hub: the subgraph predictor keeps one
interpreter per capacity (powers of two, created on first use; `warm_up` creates them
before timing) and picks the smallest that fits.

Not thread-safe (the extractor's map and the input buffers): one predictor per thread.
"""
from __future__ import annotations

import os
from typing import Iterable, Optional

import numpy as np

from edgegnn.deploy.khop import KHopExtractor

FEATURE_INPUTS = ("feature_node", "feature_index", "feature_value")
GRAPH_INPUTS = ("edge_source", "edge_target", "in_degree")


class FeatureRows:
  """A feature CSR as padded rows: `index` int32 [N, K] (padding column F) and, for
  non-binary features, `value` float32 [N, K] (padding 0). K = max(1, longest row).

  Args:
    indptr, indices, values: CSR (row u's columns indices[indptr[u]:indptr[u+1]]);
      values None for binary features.
    num_features: F.
  """

  def __init__(self, indptr, indices, values, num_features: int):
    indptr = np.asarray(indptr, np.int64)
    indices = np.asarray(indices, np.int32)
    if indptr.ndim != 1 or indptr.size < 1 or indptr[-1] != indices.size:
      raise ValueError(f"feature CSR: indptr must be 1-D and end at nnz = {indices.size}.")
    counts = np.diff(indptr)
    if np.any(counts < 0):
      raise ValueError("feature CSR: indptr must be non-decreasing.")
    if indices.size and (indices.min() < 0 or indices.max() >= num_features):
      raise ValueError(f"feature CSR: columns must lie in [0, {num_features}).")
    self.num_nodes = counts.size
    self.num_features = int(num_features)
    self.width = max(1, int(counts.max(initial=0)))
    self.mean_row = float(counts.mean()) if counts.size else 0.0
    row = np.repeat(np.arange(counts.size), counts)
    slot = np.arange(indices.size) - np.repeat(indptr[:-1], counts)
    self.index = np.full((counts.size, self.width), self.num_features, np.int32)
    self.index[row, slot] = indices
    self.value = None
    if values is not None:
      self.value = np.zeros((counts.size, self.width), np.float32)
      self.value[row, slot] = np.asarray(values, np.float32)


def pad_empty_rows(indptr, indices, values, num_features: int):
  """The feature CSR with one (column `num_features`, value 0) entry in each empty row
  (so every node appears in feature_node: `edgegnn.models.feeds.pad_empty_nodes`).
  Returns (indptr int64, indices int32, values float32 or None)."""
  from edgegnn.models.feeds import pad_empty_nodes  # numpy only
  indptr = np.asarray(indptr, np.int64)
  num_rows = len(indptr) - 1
  node = np.repeat(np.arange(num_rows, dtype=np.int32), np.diff(indptr))
  node, indices, values = pad_empty_nodes(
      node, np.asarray(indices, np.int32),
      None if values is None else np.asarray(values, np.float32), num_rows, num_features)
  indptr = np.zeros(num_rows + 1, np.int64)
  np.cumsum(np.bincount(node, minlength=num_rows), out=indptr[1:])
  return indptr, indices, values


def feature_csr(graph):
  """(indptr, indices, values or None for 0/1 features, F) of an `edgegnn.data.Graph`."""
  from edgegnn.data.sparse import SparseFeatures  # numpy only
  sparse = graph.sparse_features or SparseFeatures.from_dense(graph.node_features)
  return sparse.row_splits, sparse.indices, sparse.values, sparse.num_features


class FixedInterpreter:
  """One ai-edge-litert interpreter whose inputs are resized and allocated once.

  `view(name)` is a writable numpy view of an input or output buffer, by SignatureDef
  name. Drop every view before `invoke()`: the interpreter refuses to run while one is
  alive (it could move the buffers).

  Args:
    model: the artifact's bytes.
    shapes: {input name: shape}, every input of the signature.
    num_threads: interpreter threads.
  """

  def __init__(self, model: bytes, shapes: dict, num_threads: int = 1):
    from ai_edge_litert.interpreter import Interpreter  # pylint: disable=g-import-not-at-top
    self.interpreter = Interpreter(model_content=model, num_threads=num_threads)
    runner = self.interpreter.get_signature_runner()
    inputs, outputs = runner.get_input_details(), runner.get_output_details()
    del runner
    if set(inputs) != set(shapes):
      raise ValueError(f"the artifact takes inputs {sorted(inputs)}; shapes were given for "
                       f"{sorted(shapes)}.")
    for name, detail in inputs.items():
      self.interpreter.resize_tensor_input(detail["index"], list(shapes[name]))
    self.interpreter.allocate_tensors()
    self._tensor = {name: self.interpreter.tensor(d["index"])
                    for name, d in list(inputs.items()) + list(outputs.items())}
    self.invoke = self.interpreter.invoke

  def view(self, name: str) -> np.ndarray:
    return self._tensor[name]()


def _read_model(model) -> bytes:
  if isinstance(model, (bytes, bytearray)):
    return bytes(model)
  with open(os.fspath(model), "rb") as f:
    return f.read()


def _signature_inputs(model: bytes) -> list[str]:
  """The input names of the artifact's one signature, which must output "logits"."""
  from ai_edge_litert.interpreter import Interpreter  # pylint: disable=g-import-not-at-top
  signatures = Interpreter(model_content=model).get_signature_list()
  if len(signatures) != 1:
    raise ValueError(f"the artifact must have one signature, it has {sorted(signatures)}.")
  signature = next(iter(signatures.values()))
  if "logits" not in signature["outputs"]:
    raise ValueError(f"the artifact must output 'logits'; it outputs {signature['outputs']}.")
  return list(signature["inputs"])


def _check_binary(takes_values: bool, values, who: str) -> None:
  """A binary artifact (no feature_value input) reads every non-zero as 1."""
  if not takes_values and values is not None and np.any(np.asarray(values) != 1):
    raise ValueError(f"the {who} artifact takes binary features (no feature_value input), "
                     "but these features have values other than 1: export it with "
                     "features='sparse'.")


def _check_node(node, num_nodes: int) -> int:
  if type(node) is not int:   # the common case first: a plain int needs no isinstance
    if isinstance(node, (bool, np.bool_)) or not isinstance(node, (int, np.integer)):
      raise TypeError(f"node must be an integer id, got {type(node).__name__} {node!r}.")
    node = int(node)
  if not 0 <= node < num_nodes:
    raise ValueError(f"node {node} is outside [0, {num_nodes}): the graph has {num_nodes} "
                     "nodes.")
  return node


class StudentPredictor:
  """The GLNN MLP student on one node's own sparse features.

  The artifact: `build_model(mlp_spec, ..., features="binary" | "sparse", serving=True)`
  converted to tflite-float32 (inputs feature_node, feature_index[, feature_value]).
  Capacity Z = K, the longest feature row: feature_node is all zeros (one node), written
  once; a query copies the node's padded row (`FeatureRows`) into feature_index (and
  feature_value), invokes and copies the logits.

  Args:
    model: the artifact (path or bytes).
    rows: the graph's features as `FeatureRows`.
    num_threads: interpreter threads.

  Raises:
    ValueError: the artifact does not take sparse features, or takes binary ones and
      the features have other values.
  """

  def __init__(self, model, rows: FeatureRows, num_threads: int = 1):
    model = _read_model(model)
    names = _signature_inputs(model)
    if set(names) - set(FEATURE_INPUTS) or not {"feature_node", "feature_index"} <= set(names):
      raise ValueError(f"the student artifact must take {FEATURE_INPUTS[:2]} (+ "
                       f"feature_value) only; it takes {names}. Build it with "
                       "features='binary' or 'sparse', serving=True.")
    self.rows = rows
    self.num_nodes = rows.num_nodes
    self.takes_values = "feature_value" in names
    _check_binary(self.takes_values, rows.value, "student")
    # A binary table fed to an artifact that takes values: every real entry is 1.
    self._values = None
    if self.takes_values:
      self._values = rows.value if rows.value is not None else (
          rows.index < rows.num_features).astype(np.float32)
    self.runtime = FixedInterpreter(model, {n: [rows.width] for n in names}, num_threads)
    self.runtime.view("feature_node")[:] = 0

  @classmethod
  def from_graph(cls, model, graph, num_threads: int = 1) -> "StudentPredictor":
    """From an `edgegnn.data.Graph` (its sparse or dense features)."""
    return cls(model, FeatureRows(*feature_csr(graph)), num_threads)

  def predict(self, node) -> np.ndarray:
    """float32 [classes]: the student's logits for `node`.

    Raises:
      TypeError / ValueError: `node` is not an integer id in [0, N).
    """
    node = _check_node(node, self.num_nodes)
    rt = self.runtime
    rt.view("feature_index")[:] = self.rows.index[node]
    if self._values is not None:
      rt.view("feature_value")[:] = self._values[node]
    rt.invoke()
    return rt.view("logits")[0].copy()


class SubgraphPredictor:
  """A sparse-layout teacher on the node's k-hop in-neighbourhood, full-graph in-degrees.

  The artifact: `build_model(spec, ..., layout="sparse", features="binary" | "sparse",
  serving=True)` converted to tflite-float32 (inputs feature_node, feature_index
  [, feature_value], edge_source, edge_target, in_degree). `hops` must be at least its
  number of message-passing layers (then the seed's row is exact, `edgegnn.deploy.khop`).

  A query: extract (numpy), pick the smallest capacity (C, M[, Z]) that fits (C >= n + 1,
  M >= m; CSR features Z >= nnz + C - n; powers of two), write the arrays and the
  padding (module doc) into that interpreter's inputs, invoke, copy row 0.

  Args:
    model: the artifact (path or bytes).
    num_nodes: N.
    edge_source, edge_target: the graph's edges (edge j: source -> target).
    indptr, indices, values: the graph's feature CSR (values None: binary features).
    num_features: F.
    hops: k of the extraction.
    num_threads: interpreter threads.
    features: "rows" (padded rows, `FeatureRows`), "csr" (the extractor's lists) or
      "auto": rows unless the longest row exceeds `max_row_ratio` x the mean row.
    min_capacity: the smallest (C, M, Z) considered (Z: CSR features only).

  Raises:
    ValueError: the artifact does not take sparse features and the graph inputs, or
      takes binary features and the features have other values; a malformed graph.
  """

  def __init__(self, model, num_nodes: int, edge_source, edge_target, indptr, indices,
               values, num_features: int, hops: int = 2, num_threads: int = 1,
               features: str = "auto", max_row_ratio: float = 2.0,
               min_capacity: tuple[int, int, int] = (16, 32, 256)):
    self.model = _read_model(model)
    names = _signature_inputs(self.model)
    needed = {"feature_node", "feature_index", *GRAPH_INPUTS}
    if not needed <= set(names) or set(names) - needed - {"feature_value"}:
      raise ValueError(f"the teacher artifact must take {sorted(needed)} (+ feature_value); "
                       f"it takes {names}. Build it with layout='sparse', features='binary' "
                       "or 'sparse', serving=True.")
    if features not in ("auto", "rows", "csr"):
      raise ValueError(f"features must be 'auto', 'rows' or 'csr', got {features!r}.")
    self.names = names
    self.takes_values = "feature_value" in names
    self.num_nodes = int(num_nodes)
    self.num_features = int(num_features)
    self.hops = int(hops)
    self.num_threads = num_threads
    self.min_capacity = tuple(int(c) for c in min_capacity)
    _check_binary(self.takes_values, values, "teacher")
    if not self.takes_values:
      values = None
    elif values is None:   # binary features for an artifact that takes values
      values = np.ones(np.shape(indices), np.float32)
    self.rows = None
    if features != "csr":   # every node owns K entries: empty rows need no padding
      rows = FeatureRows(indptr, indices, values, self.num_features)
      if features == "rows" or rows.width <= max_row_ratio * max(rows.mean_row, 1.0):
        self.rows = rows
    self.features = "csr" if self.rows is None else "rows"
    csr = {}
    if self.rows is None:
      indptr, indices, values = pad_empty_rows(indptr, indices, values, self.num_features)
      csr = {"feature_indptr": indptr, "feature_indices": indices, "feature_values": values,
             "num_features": self.num_features + 1}   # + the padding column of empty rows
    self.extractor = KHopExtractor.from_edges(edge_source, edge_target, num_nodes, **csr)
    self._runtimes: dict[tuple, tuple] = {}

  @classmethod
  def from_graph(cls, model, graph, hops: int = 2, **kwargs) -> "SubgraphPredictor":
    """From an `edgegnn.data.Graph` (its edges and sparse or dense features)."""
    indptr, indices, values, num_features = feature_csr(graph)
    return cls(model, graph.num_nodes, graph.edge_source, graph.edge_target, indptr,
               indices, values, num_features, hops=hops, **kwargs)

  def capacity_for(self, nodes: int, edges: int, entries: int = 0) -> tuple:
    """The capacity (C, M, Z) a subgraph of these sizes runs in: C the least power of two
    >= nodes + 1, M >= edges, Z = C * K (rows) or a power of two >= entries + C - nodes."""
    c_min, m_min, z_min = self.min_capacity
    c = max(c_min, 1 << nodes.bit_length())                   # > nodes: a padding node
    m = max(m_min, 1 << max(edges - 1, 0).bit_length())
    if self.rows is not None:
      return c, m, c * self.rows.width
    return c, m, max(z_min, 1 << max(entries + c - nodes - 1, 0).bit_length())

  def _runtime(self, key: tuple):
    entry = self._runtimes.get(key)
    if entry is None:
      c, m, z = key
      shapes = {"feature_node": [z], "feature_index": [z], "feature_value": [z],
                "edge_source": [m], "edge_target": [m], "in_degree": [c]}
      rt = FixedInterpreter(self.model, {n: shapes[n] for n in self.names},
                            self.num_threads)
      if self.rows is not None:   # node u owns entries [u K, (u + 1) K): set once
        rt.view("feature_node")[:] = np.repeat(np.arange(c, dtype=np.int32),
                                               self.rows.width)
        tail = None
      else:
        # feature_node's padding for a subgraph of n nodes and nnz entries is
        # tail[n:n + Z - nnz]: every padding node n..C-1 once, then C-1 repeated.
        tail = np.concatenate([np.arange(c, dtype=np.int32), np.full(z, c - 1, np.int32)])
      entry = self._runtimes[key] = (rt, tail)
    return entry

  def _sizes(self, sub) -> tuple:
    entries = 0 if self.rows is not None else sub.feature_index.size
    return self.capacity_for(int(sub.node_ids.size), int(sub.edge_source.size), entries)

  def warm_up(self, nodes: Iterable[int]) -> int:
    """Creates the interpreters these nodes' queries use (so that timing excludes their
    creation); returns how many exist."""
    for node in nodes:
      sub = self.extractor.extract(_check_node(node, self.num_nodes), self.hops)
      self._runtime(self._sizes(sub))
    return len(self._runtimes)

  def predict(self, node) -> np.ndarray:
    """float32 [classes]: the teacher's logits for `node` (its full-graph row).

    Raises:
      TypeError / ValueError: `node` is not an integer id in [0, N).
    """
    sub = self.extractor.extract(_check_node(node, self.num_nodes), self.hops)
    n, m = sub.node_ids.size, sub.edge_source.size
    key = self._sizes(sub)
    rt, tail = self._runtime(key)
    c = key[0]
    if self.rows is not None:
      self._write_rows(rt, sub.node_ids, n, c)
    else:
      self._write_csr(rt, sub, n, key[2], tail)
    view = rt.view("edge_source")
    view[:m] = sub.edge_source
    view[m:] = c - 1
    view = rt.view("edge_target")
    view[:m] = sub.edge_target
    view[m:] = c - 1
    view = rt.view("in_degree")
    view[:n] = sub.in_degree
    view[n:] = 0
    del view
    rt.invoke()
    return rt.view("logits")[0].copy()

  def _write_rows(self, rt: FixedInterpreter, nodes: np.ndarray, n: int, c: int) -> None:
    rows = self.rows
    view = rt.view("feature_index").reshape(c, rows.width)
    # mode "clip": the ids are in range, and it writes `out` without a buffer.
    np.take(rows.index, nodes, axis=0, out=view[:n], mode="clip")
    view[n:] = self.num_features
    if self.takes_values:
      view = rt.view("feature_value").reshape(c, rows.width)
      np.take(rows.value, nodes, axis=0, out=view[:n], mode="clip")
      view[n:] = 0.0

  def _write_csr(self, rt: FixedInterpreter, sub, n: int, z: int,
                 tail: Optional[np.ndarray]) -> None:
    nnz = sub.feature_index.size
    view = rt.view("feature_node")
    view[:nnz] = sub.feature_node
    view[nnz:] = tail[n:n + z - nnz]
    view = rt.view("feature_index")
    view[:nnz] = sub.feature_index
    view[nnz:] = self.num_features
    if self.takes_values:
      view = rt.view("feature_value")
      view[:nnz] = sub.feature_value
      view[nnz:] = 0.0
