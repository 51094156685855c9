"""The hardware cost model (`edgegnn.deploy.cost`) on a hand-built three-op model.

The model, built here with the flatbuffer schema (no converter in between):

    h   = FULLY_CONNECTED(x [N, 3], W [4, 3])         -> [N, 4]
    g   = GATHER(h, index [E])                         -> [E, 4]
    out = UNSORTED_SEGMENT_SUM(g, segment [E], 5)      -> [5, 4]

Its MACs, bytes, peak activation memory and roofline times are checked against numbers
worked out by hand below; the op-by-op runner against a numpy reference.
"""
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from edgegnn.deploy import cost, cost_calibration, cost_evaluation, cost_profile, cost_targets
from edgegnn.deploy.cost_targets import Target
from edgegnn.runtime import tflite_file

RNG = np.random.default_rng(0)
W = RNG.normal(size=(4, 3)).astype(np.float32)
X = RNG.normal(size=(5, 3)).astype(np.float32)
INDEX = np.array([0, 1, 1, 2, 4, 3], np.int32)
SEGMENT = np.array([0, 0, 1, 3, 4, 4], np.int32)
CONSECUTIVE = np.array([0, 0, 1, 2, 3, 4], np.int32)  # SEGMENT_SUM: steps of 0 or 1


def three_op_model(dynamic: bool = False, sorted_segments: bool = False) -> bytes:
  """The module doc's model; `sorted_segments`: SEGMENT_SUM(g, segment) (ids sorted, no
  segment count) instead of UNSORTED_SEGMENT_SUM."""
  from ai_edge_litert import schema_py_generated as schema
  from ai_edge_litert.tools import flatbuffer_utils

  buffers = [schema.BufferT()]

  def tensor(name, shape, dtype, data=None):
    t = schema.TensorT()
    t.name, t.type = name.encode(), dtype
    t.shape = list(shape)
    if dynamic and data is None:
      t.shapeSignature = [-1] + list(shape[1:])
    t.buffer = 0
    if data is not None:
      b = schema.BufferT()
      b.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), np.uint8)
      buffers.append(b)
      t.buffer = len(buffers) - 1
    return t

  f32, i32 = schema.TensorType.FLOAT32, schema.TensorType.INT32
  tensors = [tensor("x", (5, 3), f32), tensor("w", (4, 3), f32, W),
             tensor("h", (5, 4), f32), tensor("index", (6,), i32),
             tensor("g", (6, 4), f32), tensor("segment", (6,), i32),
             tensor("num_segments", (), i32, np.array(5, np.int32)),
             tensor("out", (5, 4), f32)]
  codes = []
  segment_sum = (schema.BuiltinOperator.SEGMENT_SUM if sorted_segments
                 else schema.BuiltinOperator.UNSORTED_SEGMENT_SUM)
  for code in (schema.BuiltinOperator.FULLY_CONNECTED, schema.BuiltinOperator.GATHER,
               segment_sum):
    c = schema.OperatorCodeT()
    c.builtinCode, c.deprecatedBuiltinCode = code, min(code, 127)  # 127: see builtinCode
    c.version = 1
    codes.append(c)

  def operator(code, inputs, outputs):
    op = schema.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = code, inputs, outputs
    return op
  sub = schema.SubGraphT()
  sub.tensors = tensors
  sub.inputs, sub.outputs = [0, 3, 5], [7]
  sub.operators = [operator(0, [0, 1, -1], [2]), operator(1, [2, 3], [4]),
                   operator(2, [4, 5] if sorted_segments else [4, 5, 6], [7])]
  model = schema.ModelT()
  model.version, model.operatorCodes, model.subgraphs = 3, codes, [sub]
  model.buffers = buffers
  return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def reference_out(segment=SEGMENT) -> np.ndarray:
  h = X @ W.T
  out = np.zeros((5, 4), np.float32)
  for row, seg in zip(INDEX, segment):
    out[seg] += h[row]
  return out


# Worked out by hand (float32 = 4 bytes; the FC has no bias):
#   FC:      MACs 5*3*4 = 60; reads x 60 + W 48 = 108 bytes, writes h 80.
#   GATHER:  no MACs; reads the rows it gathers, at most the table (min(80, 96) = 80)
#            plus the indices (24) = 104, writes g 96.
#   SEGMENT: 6*4 = 24 adds; reads g 96 + segment 24 + num_segments 4 = 124, writes 80.
HAND = {"FULLY_CONNECTED": (60, 108, 80), "GATHER": (0, 104, 96),
        "UNSORTED_SEGMENT_SUM": (24, 124, 80)}
# Live activations per step: 0: x 60 + index 24 + segment 24 + h 80 = 188;
# 1: index + segment + h + g 96 = 224; 2: segment + g + out 80 = 200.
HAND_PEAK_ACTIVATIONS = 224
UNIT = Target("unit", "1 GMAC/s, 1 GB/s", {"float32": 1e9, "int8": 2e9, "binary": 1e10},
              1e9)


@pytest.mark.parametrize("dynamic", [False, True])
def test_macs_and_bytes_match_hand_counts(dynamic):
  data = three_op_model(dynamic)
  inputs = {"x": X, "index": INDEX, "segment": SEGMENT} if dynamic else None
  report = cost.estimate(data, UNIT, inputs=inputs)
  got = {op.name: (op.work.macs, op.work.bytes_read, op.work.bytes_written)
         for op in report.ops}
  assert got == HAND
  assert report.peak_activation_bytes == HAND_PEAK_ACTIVATIONS
  assert report.weight_bytes == 48 + 4
  assert report.ops[0].work.compute == "float32"
  assert report.ops[1].work.compute == "none"


def test_sorted_segment_sum_counts():
  report = cost.estimate(three_op_model(sorted_segments=True), UNIT)
  segment = report.ops[2]
  # SEGMENT_SUM: the same 24 adds; reads g 96 + segment 24 (no segment count), writes 80.
  assert (segment.name, segment.work.macs, segment.work.bytes_read,
          segment.work.bytes_written) == ("SEGMENT_SUM", 24, 120, 80)
  _, values = cost_profile.profile_ops(tflite_file.read_model(
      three_op_model(sorted_segments=True)),
      {"x": X, "index": INDEX, "segment": CONSECUTIVE}, runs=0)
  np.testing.assert_allclose(values[7], reference_out(CONSECUTIVE), rtol=1e-5, atol=1e-6)


def test_roofline_classification_and_times():
  report = cost.estimate(three_op_model(), UNIT)
  fc, gather, segment = report.ops
  # Ridge 1 MAC/B: FC 60 MACs / 188 B and the segment sum 24 / 204 are memory-bound,
  # the gather moves data only. Time = max(MACs / 1e9, bytes / 1e9) s.
  assert [op.bound for op in report.ops] == ["memory"] * 3
  assert fc.roofline_ms == pytest.approx(188 / 1e9 * 1e3)
  assert gather.roofline_ms == pytest.approx(200 / 1e9 * 1e3)
  assert segment.roofline_ms == pytest.approx(204 / 1e9 * 1e3)
  assert report.predicted_ms == pytest.approx((188 + 200 + 204) / 1e6)
  # A target whose bandwidth is 100x its float32 peak: ridge 0.01 MAC/B, FC compute-bound.
  fast_memory = Target("m", "", {"float32": 1e9, "int8": 2e9, "binary": 1e10}, 1e11)
  fc = cost.estimate(three_op_model(), fast_memory).ops[0]
  assert fc.bound == "compute"
  assert fc.roofline_ms == pytest.approx(60 / 1e9 * 1e3)


def test_op_by_op_run_matches_numpy_and_gives_dynamic_shapes():
  info = tflite_file.read_model(three_op_model(dynamic=True))
  runs, values = cost_profile.profile_ops(info, {"x": X, "index": INDEX,
                                                 "segment": SEGMENT}, runs=3)
  assert [r.name for r in runs] == list(HAND)
  assert all(r.latency_ms > 0 for r in runs)
  assert [r.output_shapes for r in runs] == [((5, 4),), ((6, 4),), ((5, 4),)]
  np.testing.assert_allclose(values[7], reference_out(), rtol=1e-5, atol=1e-6)


def test_calibration_fit():
  # One invoke costs 0.002 ms (the ops without work); FULLY_CONNECTED ops of roofline
  # 0.001, 0.001, 0.001 and 1.0 ms take 0.011, 0.011, 0.011 and 3.0 ms beyond it.
  fc = "FULLY_CONNECTED/float32"
  samples = [cost_calibration.OpSample(fc, "FULLY_CONNECTED", r, 0.002 + w)
             for r, w in ((0.001, 0.011), (0.001, 0.011), (0.001, 0.011), (1.0, 3.0))]
  samples += [cost_calibration.OpSample("SHAPE/none", "SHAPE", 0.0, 0.002)] * 3
  samples += [cost_calibration.OpSample("GATHER/none", "GATHER", 0.5, 0.502)]
  fit = cost_calibration.fit_calibration(samples)
  assert fit.invoke_ms == pytest.approx(0.002)
  slowdown = 3.033 / 1.003                       # total work / total roofline
  fixed, got = fit.lookup(fc)
  assert got == pytest.approx(slowdown)
  assert fixed == pytest.approx(0.011 - slowdown * 0.001)   # median remainder
  # GATHER was seen once: it falls back to the fit over every op ("*").
  assert "GATHER/none" not in fit.slowdown and fit.lookup("GATHER/none") == fit.lookup("*")
  calibrated = UNIT.with_calibration(fit)
  report = cost.estimate(three_op_model(), calibrated)
  assert report.ops[0].predicted_ms == pytest.approx(fixed + slowdown * 188 / 1e6)
  assert report.predicted_ms == pytest.approx(
      0.002 + sum(op.predicted_ms for op in report.ops))


def test_unknown_target_and_missing_inputs_are_refused():
  with pytest.raises(ValueError, match="cortex-a72"):
    cost.estimate(three_op_model(), "raspberry")
  with pytest.raises(ValueError, match="dynamic"):
    cost.estimate(three_op_model(dynamic=True), "host")


def test_inspect_cost_json(tmp_path):
  from click.testing import CliRunner
  from edgegnn.cli import main
  path = tmp_path / "m.tflite"
  path.write_bytes(three_op_model())
  result = CliRunner().invoke(main, ["inspect", str(path), "--cost", "cortex-a53", "--json"])
  assert result.exit_code == 0, result.output
  report = json.loads(result.output)["cost"]
  assert {op["op"]: (op["macs"], op["bytes_read"], op["bytes_written"])
          for op in report["ops"]} == HAND
  a53 = cost_targets.TARGETS["cortex-a53"]
  assert report["roofline_ms"] == pytest.approx(
      (108 + 80 + 104 + 96 + 124 + 80) / a53.bandwidth_bytes_per_s * 1e3)
  assert cost.predict_latency_ms(path.read_bytes(), "cortex-a53") == pytest.approx(
      report["predicted_ms"])
  assert cost.artifact_bytes(path) == path.stat().st_size


RESULTS = pathlib.Path(__file__).resolve().parents[1] / "docs/results/cost_model_host.json"


@pytest.mark.skipif(not RESULTS.is_file(), reason="tools/bench_cost_model.py not run")
def test_host_target_is_the_measured_one():
  recorded = json.loads(RESULTS.read_text())
  host = cost_targets.HOST
  assert dict(host.peak_macs_per_s) == recorded["host"]["peak_macs_per_s"]
  assert host.bandwidth_bytes_per_s == recorded["host"]["bandwidth_bytes_per_s"]
  assert host.calibration.to_json() == recorded["calibration"]
  assert cost_targets.get_target("host", RESULTS) == host
  assert recorded["num_artifacts"] >= 20
  assert recorded["spearman_calibrated_leave_one_model_out"] >= 0.9


@pytest.mark.skipif(not RESULTS.is_file(), reason="tools/bench_cost_model.py not run")
def test_docs_and_host_figures_are_the_results_json():
  # The tool, run as a user runs it: docs/hardware.md quotes the rendered table and the
  # repeat run's summary, and edgegnn/deploy/cost_host_figures.py holds the JSON's figures.
  root = RESULTS.parents[2]
  done = subprocess.run([sys.executable, str(root / "tools/bench_cost_model.py"), "--check",
                         "--json", str(RESULTS)], capture_output=True, text=True, timeout=300,
                        cwd=root)
  assert done.returncode == 0, done.stderr


def test_leave_one_model_out_never_sees_the_predicted_models_ops():

  def artifact(name, group, fc_ms):
    return {"name": name, "group": group, "measured_ms": fc_ms, "measured_p50_ms": fc_ms,
            "roofline_ms": fc_ms, "predicted_peak_memory_bytes": fc_ms,
            "bench": {"model_memory_bytes": fc_ms},
            "ops": [[0, "SHAPE", "SHAPE/none", "memory", 0.0, 0.001],
                    [1, "FULLY_CONNECTED", "FULLY_CONNECTED/float32", "compute", 1.0, fc_ms]]}
  artifacts = [artifact("a1", "a", 5.0), artifact("a2", "a", 7.0),
               artifact("b1", "b", 2.0), artifact("c1", "c", 3.0)]
  cost_evaluation.leave_one_model_out(artifacts)
  before = artifacts[0]["predicted_ms"]
  # a1 is predicted from b and c only: changing the a-model's own times changes nothing.
  changed = [artifact("a1", "a", 50.0), artifact("a2", "a", 70.0),
             artifact("b1", "b", 2.0), artifact("c1", "c", 3.0)]
  cost_evaluation.leave_one_model_out(changed)
  assert changed[0]["predicted_ms"] == pytest.approx(before)
  assert changed[2]["predicted_ms"] != pytest.approx(artifacts[2]["predicted_ms"])
  # b and c: one FULLY_CONNECTED each of roofline 1 ms, 2 and 3 ms beyond the 1 us invoke.
  assert before == pytest.approx(0.001 + (1.999 + 2.999) / 2)


REPEAT = RESULTS.with_name("cost_model_host_repeat.json")


@pytest.mark.skipif(not REPEAT.is_file(), reason="no repeat run")
def test_the_repeat_run_ranks_as_well():
  repeat = json.loads(REPEAT.read_text())
  assert repeat["num_artifacts"] >= 20
  assert repeat["spearman_calibrated_leave_one_model_out"] >= 0.9


def test_spearman_is_the_pearson_correlation_of_tie_averaged_ranks():
  x = [3.0, 1.0, 2.0, 2.0, 5.0]
  y = [30.0, 10.0, 25.0, 20.0, 1.0]
  ranks_x = np.array([3, 0, 1.5, 1.5, 4])
  ranks_y = np.array([4, 1, 3, 2, 0])
  assert cost_evaluation.spearman(x, y) == pytest.approx(np.corrcoef(ranks_x, ranks_y)[0, 1])
  assert cost_evaluation.spearman(x, x) == pytest.approx(1.0)
