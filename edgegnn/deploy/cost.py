"""A hardware cost model of a `.tflite` artifact: per op MACs, bytes and roofline time.

    report = estimate("gcn.tflite", "cortex-a72")      # a CostReport
    report.predicted_ms, report.peak_memory_bytes
    predict_latency_ms("gcn.tflite", "host")            # the search's cost term
    artifact_bytes("gcn.tflite")                        # and its size term

For every op of the main subgraph (`cost_ops.op_work`): its multiply-accumulates, bytes
read and written and arithmetic intensity at the shapes it runs with, classified
compute- or memory-bound against the target's roofline (`cost_targets.Target`), and its
time: on a calibrated target (the host) the fitted time of its op kind
(`Calibration`), else the roofline time max(MACs / peak, bytes / bandwidth), a lower
bound. Summed: the predicted latency. Peak memory: the weights plus the largest set of
activation tensors alive at once in execution order (each tensor from the op that writes
it, or the start for inputs, to its last reader, or the end for outputs) - the arena a
planner that reuses dead tensors needs.

Shapes: a dynamic-shape artifact (a sparse layout's node and edge counts) is evaluated
at its real inputs: `inputs`, `input_shapes` (random values of those shapes) or,
as `edgegnn bench` finds them, the artifact's sample inputs or sidecar dataset
(`bench_inputs.resolve_inputs`); every tensor's shape is then read from one run on
ai-edge-litert (or one op-by-op run, `cost_profile`, for artifacts with custom ops).
An artifact whose shapes are all static needs no run and no inputs.

Ops are grouped into layers: a layer starts at each op that reads a weight matrix (a
constant of rank >= 2: FULLY_CONNECTED, CONV_2D, LceBconv2d, a GATHER from a weight
table) and holds the ops up to the next one; ops before the first are "input".
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from edgegnn.deploy import cost_ops
from edgegnn.deploy.cost_targets import Target, get_target, kind_of
from edgegnn.runtime import tflite_file
from edgegnn.runtime.tflite_file import TfliteModelInfo

ModelLike = TfliteModelInfo | str | os.PathLike | bytes


@dataclasses.dataclass(frozen=True)
class OpCost:
  """One op's cost on a target.

  Attributes:
    index: Position in the main subgraph.
    name: Op name.
    layer: "input", "layer 1", ... (module doc).
    work: Its `cost_ops.OpWork`.
    kind: Its calibration key (`cost_targets.kind_of`).
    bound: "compute" or "memory".
    roofline_ms: max(MACs / peak, bytes / bandwidth).
    predicted_ms: Calibrated time (host), else `roofline_ms`.
  """
  index: int
  name: str
  layer: str
  work: cost_ops.OpWork
  kind: str
  bound: str
  roofline_ms: float
  predicted_ms: float

  def to_json(self) -> dict[str, Any]:
    return {"index": self.index, "op": self.name, "layer": self.layer, "kind": self.kind,
            "macs": self.work.macs, "bytes_read": self.work.bytes_read,
            "bytes_written": self.work.bytes_written, "intensity": self.work.intensity,
            "compute": self.work.compute, "bound": self.bound,
            "roofline_ms": self.roofline_ms, "predicted_ms": self.predicted_ms}


@dataclasses.dataclass(frozen=True)
class CostReport:
  """The cost of one artifact on one target (module doc).

  Attributes:
    path: The artifact's path (None for bytes).
    target: The target.
    shapes_from: Where the shapes came from.
    input_shapes: The input shapes evaluated.
    ops: One `OpCost` per op of the main subgraph, in execution order.
    predicted_ms: Predicted latency (calibrated overheads included).
    roofline_ms: Sum of the ops' roofline times (a lower bound).
    artifact_bytes: File size.
    weight_bytes: Constant (weight) bytes.
    peak_activation_bytes: Largest live set of activation tensors.
  """
  path: Optional[str]
  target: Target
  shapes_from: str
  input_shapes: dict[str, tuple[int, ...]]
  ops: tuple[OpCost, ...]
  predicted_ms: float
  roofline_ms: float
  artifact_bytes: int
  weight_bytes: int
  peak_activation_bytes: int

  @property
  def peak_memory_bytes(self) -> int:
    """Weights plus the peak live activations."""
    return self.weight_bytes + self.peak_activation_bytes

  @property
  def macs(self) -> int:
    return sum(op.work.macs for op in self.ops)

  @property
  def bytes_moved(self) -> int:
    return sum(op.work.bytes for op in self.ops)

  def layers(self) -> list[dict[str, Any]]:
    """Per layer: ops, MACs, bytes, predicted time and its memory-bound share."""
    rows: dict[str, dict[str, Any]] = {}
    for op in self.ops:
      row = rows.setdefault(op.layer, {"layer": op.layer, "ops": 0, "macs": 0, "bytes": 0,
                                       "predicted_ms": 0.0, "memory_bound_ms": 0.0})
      row["ops"] += 1
      row["macs"] += op.work.macs
      row["bytes"] += op.work.bytes
      row["predicted_ms"] += op.predicted_ms
      if op.bound == "memory":
        row["memory_bound_ms"] += op.predicted_ms
    return list(rows.values())

  def to_json(self) -> dict[str, Any]:
    return {"path": self.path, "target": self.target.to_json(),
            "shapes_from": self.shapes_from,
            "input_shapes": {k: list(v) for k, v in self.input_shapes.items()},
            "predicted_ms": self.predicted_ms, "roofline_ms": self.roofline_ms,
            "macs": self.macs, "bytes_moved": self.bytes_moved,
            "artifact_bytes": self.artifact_bytes, "weight_bytes": self.weight_bytes,
            "peak_activation_bytes": self.peak_activation_bytes,
            "peak_memory_bytes": self.peak_memory_bytes,
            "fits_memory": (None if self.target.memory_bytes is None
                            else self.peak_memory_bytes <= self.target.memory_bytes),
            "layers": self.layers(), "ops": [op.to_json() for op in self.ops]}


def _info(model: ModelLike) -> TfliteModelInfo:
  return model if isinstance(model, TfliteModelInfo) else tflite_file.read_model(model)


def _static(info: TfliteModelInfo) -> bool:
  return all(d >= 0 for t in info.subgraphs[0].tensors for d in t.shape_signature)


def resolve_shapes(info: TfliteModelInfo, inputs: Optional[Mapping[str, np.ndarray]] = None,
                   input_shapes: Optional[Mapping[str, Sequence[int]]] = None,
                   inputs_dir: Optional[str | os.PathLike] = None
                   ) -> tuple[list[tuple[int, ...]], dict[str, tuple[int, ...]], str]:
  """Every tensor's shape in the main subgraph when the artifact runs (module doc).

  Returns:
    (shape per tensor index, input name -> shape, where the shapes came from).

  Raises:
    ValueError: a dynamic-shape artifact without real inputs (`bench_inputs.HOW`).
  """
  tensors = info.subgraphs[0].tensors
  if inputs is None and not input_shapes and inputs_dir is None and _static(info):
    return ([t.shape for t in tensors], {io.name: io.shape for io in info.inputs},
            "the artifact's static shapes")
  from edgegnn.runtime import bench_inputs  # pylint: disable=g-import-not-at-top
  source = "given by the caller"
  if inputs is None:
    try:
      inputs, source = bench_inputs.resolve_inputs(info, inputs_dir, input_shapes)
    except ValueError as e:
      if "dynamic sizes" not in str(e):
        raise
      dynamic = [io.name for io in info.inputs
                 if any(d < 0 for d in io.tensor.shape_signature)]
      raise ValueError(
          f"{info.path or 'the artifact'}: the sizes of the dynamic inputs {dynamic} are "
          "unknown, and its cost would be that of a 1-node graph; "
          f"{bench_inputs.HOW}.") from None
  given = {name: tuple(np.shape(value)) for name, value in inputs.items()}
  if not info.runtimes.builtins:
    from edgegnn.deploy import cost_profile  # pylint: disable=g-import-not-at-top
    _, values = cost_profile.profile_ops(info, inputs, runs=0)
    shapes = [tuple(values[t.index].shape) if t.index in values else t.shape
              for t in tensors]
    return shapes, given, source
  return _litert_shapes(info, inputs), given, source


def _litert_shapes(info: TfliteModelInfo, inputs: Mapping[str, np.ndarray]
                   ) -> list[tuple[int, ...]]:
  """Shapes after one invoke on ai-edge-litert with every intermediate tensor kept."""
  import warnings  # pylint: disable=g-import-not-at-top
  from ai_edge_litert.interpreter import Interpreter  # pylint: disable=g-import-not-at-top
  from edgegnn.runtime.tensors import prepare_input  # pylint: disable=g-import-not-at-top
  from edgegnn.runtime.timing import set_inputs  # pylint: disable=g-import-not-at-top
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # preserve_all_tensors "is for debugging"
    interpreter = Interpreter(model_content=info.data, num_threads=1,
                              experimental_preserve_all_tensors=True)
  prepared = {io.name: prepare_input(inputs[io.name], io, allow_dynamic=True)
              for io in info.inputs}
  set_inputs(interpreter, info, prepared)
  interpreter.invoke()
  by_index = {d["index"]: tuple(int(x) for x in d["shape"])
              for d in interpreter.get_tensor_details()}
  return [by_index.get(t.index, t.shape) for t in info.subgraphs[0].tensors]


def _adjoint(info: TfliteModelInfo, op) -> tuple[bool, bool]:
  """BATCH_MATMUL's (adj_x, adj_y), read from the flatbuffer."""
  from ai_edge_litert import schema_py_generated as schema  # pylint: disable=g-import-not-at-top
  raw = schema.Model.GetRootAs(info.data, 0).Subgraphs(op.subgraph).Operators(op.index)
  table = raw.BuiltinOptions()
  if table is None:
    return False, False
  options = schema.BatchMatMulOptions()
  options.Init(table.Bytes, table.Pos)
  return bool(options.AdjX()), bool(options.AdjY())


def _reads_weights(op, tensors) -> bool:
  return any(i >= 0 and tensors[i].is_constant and len(tensors[i].shape) >= 2
             and op.name in cost_ops.MATRIX_OPS | {"GATHER"} for i in op.inputs)


def peak_activation_bytes(info: TfliteModelInfo, shapes: Sequence[Sequence[int]]) -> int:
  """The largest total size of activation tensors alive at once (module doc)."""
  sub = info.subgraphs[0]
  tensors = sub.tensors
  ops = sub.operators
  end = len(ops)
  born = {t: 0 for t in sub.inputs}
  last = {t: end for t in sub.outputs}
  for step, op in enumerate(ops):
    for t in op.outputs:
      born.setdefault(t, step)
    for t in op.inputs:
      if t >= 0 and not tensors[t].is_constant:
        last[t] = max(last.get(t, step), step)
  size = {t: cost_ops.tensor_bytes(tensors[t].dtype, shapes[t]) for t in born}
  peak = 0
  for step in range(max(end, 1)):
    live = sum(size[t] for t, b in born.items() if b <= step <= last.get(t, b))
    peak = max(peak, live)
  return peak


def estimate(model: ModelLike, target: str | Target = "host",
             inputs: Optional[Mapping[str, np.ndarray]] = None,
             input_shapes: Optional[Mapping[str, Sequence[int]]] = None,
             inputs_dir: Optional[str | os.PathLike] = None) -> CostReport:
  """The `CostReport` of an artifact on a target (module doc).

  Args:
    model: A `.tflite` path, its bytes or a parsed model.
    target: A name of `cost_targets.TARGETS` or a `Target`.
    inputs / input_shapes / inputs_dir: The real inputs to evaluate dynamic shapes at
      (else the artifact's sample inputs or sidecar dataset).

  Raises:
    ValueError: unknown target; a dynamic-shape artifact without real inputs.
  """
  target = get_target(target)
  info = _info(model)
  shapes, given, source = resolve_shapes(info, inputs, input_shapes, inputs_dir)
  sub = info.subgraphs[0]
  calibration = target.calibration
  ops, layer = [], 0
  for op in sub.operators:
    if _reads_weights(op, sub.tensors):
      layer += 1
    adjoint = _adjoint(info, op) if op.name == "BATCH_MATMUL" else (False, False)
    work = cost_ops.op_work(op, sub.tensors, shapes, adjoint)
    compute_s = work.macs / target.peak(work.compute) if work.macs else 0.0
    memory_s = work.bytes / target.bandwidth_bytes_per_s
    bound = ("compute" if work.compute != "none" and work.intensity >= target.ridge(work.compute)
             else "memory")
    roofline = 1e3 * max(compute_s, memory_s)
    kind = kind_of(op.name, work.compute)
    predicted = roofline
    if calibration is not None:
      fixed, slowdown = calibration.lookup(kind)
      predicted = fixed + slowdown * roofline
    ops.append(OpCost(op.index, op.name, f"layer {layer}" if layer else "input", work,
                      kind, bound, roofline, predicted))
  overhead = calibration.invoke_ms if calibration is not None else 0.0
  return CostReport(
      path=info.path, target=target, shapes_from=source, input_shapes=given,
      ops=tuple(ops), predicted_ms=overhead + sum(op.predicted_ms for op in ops),
      roofline_ms=sum(op.roofline_ms for op in ops), artifact_bytes=info.file_bytes,
      weight_bytes=info.total_weight_bytes,
      peak_activation_bytes=peak_activation_bytes(info, shapes))


def predict_latency_ms(tflite_path_or_bytes: str | os.PathLike | bytes,
                       target: str | Target = "host",
                       input_shapes: Optional[Mapping[str, Sequence[int]]] = None) -> float:
  """Predicted latency (ms) of an artifact on `target`: `estimate(...).predicted_ms`.

  `input_shapes` (input name -> shape) sets the sizes of dynamic inputs; without it
  the artifact's static shapes, sample inputs or sidecar dataset are used.
  """
  return estimate(tflite_path_or_bytes, target, input_shapes=input_shapes).predicted_ms


def artifact_bytes(tflite_path_or_bytes: str | os.PathLike | bytes) -> int:
  """Size of the artifact in bytes (what a device stores and loads)."""
  if isinstance(tflite_path_or_bytes, (bytes, bytearray, memoryview)):
    return len(tflite_path_or_bytes)
  return os.path.getsize(tflite_path_or_bytes)


def _si(value: float, unit: str) -> str:
  for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
    if abs(value) >= scale:
      return f"{value / scale:.2f} {prefix}{unit}"
  return f"{value:.0f} {unit}"


def format_text(report: CostReport, max_ops: Optional[int] = None) -> str:
  """The report as `edgegnn inspect --cost TARGET` prints it: totals, layers, ops."""
  target = report.target
  calibrated = target.calibration is not None
  lines = [
      f"cost on {target.name}: {target.description}",
      f"  roofline: float32 {_si(target.peak('float32'), 'MAC/s')}, int8 "
      f"{_si(target.peak('int8'), 'MAC/s')}, memory {_si(target.bandwidth_bytes_per_s, 'B/s')} "
      f"(ridge {target.ridge('float32'):.2f} float32 MAC/B)",
      f"  shapes: {report.shapes_from}; inputs "
      + ", ".join(f"{k} {'x'.join(map(str, v)) or 'scalar'}"
                  for k, v in report.input_shapes.items()),
      f"  predicted latency {report.predicted_ms:.3f} ms ("
      + ("calibrated on measured per-op latencies" if calibrated
         else "roofline lower bound, uncalibrated") + f"); roofline {report.roofline_ms:.3f} ms",
      f"  {_si(report.macs, 'MAC')}, {_si(report.bytes_moved, 'B')} moved; peak memory "
      f"{_si(report.peak_memory_bytes, 'B')} (weights {_si(report.weight_bytes, 'B')} + "
      f"activations {_si(report.peak_activation_bytes, 'B')})"
      + ("" if target.memory_bytes is None else
         f", {'fits' if report.peak_memory_bytes <= target.memory_bytes else 'EXCEEDS'} "
         f"the target's {_si(target.memory_bytes, 'B')}"),
      "layers:",
      f"  {'layer':<9} {'ops':>4} {'MACs':>12} {'bytes':>12} {'ms':>9} {'memory-bound':>12}"]
  for row in report.layers():
    share = row["memory_bound_ms"] / row["predicted_ms"] if row["predicted_ms"] else 0.0
    lines.append(f"  {row['layer']:<9} {row['ops']:>4} {row['macs']:>12} {row['bytes']:>12} "
                 f"{row['predicted_ms']:>9.4f} {100 * share:>11.0f}%")
  lines.append("ops:")
  lines.append(f"  {'#':>3} {'op':<22} {'layer':<8} {'compute':<7} {'MACs':>11} "
               f"{'bytes':>11} {'MAC/B':>7} {'bound':<7} {'ms':>8}")
  shown = report.ops if max_ops is None else sorted(
      report.ops, key=lambda op: -op.predicted_ms)[:max_ops]
  for op in sorted(shown, key=lambda op: op.index):
    lines.append(f"  {op.index:>3} {op.name:<22} {op.layer:<8} {op.work.compute:<7} "
                 f"{op.work.macs:>11} {op.work.bytes:>11} {op.work.intensity:>7.2f} "
                 f"{op.bound:<7} {op.predicted_ms:>8.4f}")
  if max_ops is not None and len(report.ops) > max_ops:
    lines.append(f"  ({len(report.ops) - max_ops} cheaper ops not shown)")
  return "\n".join(lines)
