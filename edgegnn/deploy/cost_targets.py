"""The hardware a cost estimate is made for: rooflines, and the host's calibration.

A `Target` is a roofline (Williams et al., CACM 2009): a peak rate of multiply-accumulates
per compute class (`cost_ops.COMPUTE_CLASSES`) and a memory bandwidth. An op whose
arithmetic intensity (MACs per byte) is below the ridge point, peak / bandwidth, is
memory-bound; above it, compute-bound. Its roofline time is
max(MACs / peak, bytes / bandwidth).

Targets (`TARGETS`; figures and their sources in docs/hardware.md):
  host       this x86-64 machine, one thread: peaks measured with single-op TFLite models
             and a numpy copy (`tools/bench_cost_model.py`), plus a `Calibration` fitted on
             per-op latencies measured on ai-edge-litert (`edgegnn.deploy.cost_profile`).
  cortex-a72 a Raspberry Pi 4 core (BCM2711, 1.5 GHz), one thread: published figures.
  cortex-a53 a Raspberry Pi 3 core (BCM2837, 1.2 GHz), one thread: published figures.
  cortex-m7  a Cortex-M7 microcontroller (216 MHz, on-chip SRAM; CMSIS-NN kernels).
The device targets are uncalibrated rooflines (no such device here): lower bounds on
latency, which rank ops and artifacts by the work they move, not measured times.
"""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Mapping, Optional

from edgegnn.deploy import cost_host_figures


@dataclasses.dataclass(frozen=True)
class Calibration:
  """Measured time of each op kind as a function of its roofline time.

  An op of kind k (e.g. "FULLY_CONNECTED/int8"; `kind_of`) with roofline time r costs
  `fixed_ms[k] + slowdown[k] * r`; kinds not fitted use their op name's fit, else the
  "*" entry. A whole invoke adds `invoke_ms`.

  Attributes:
    invoke_ms: Per-invoke overhead of the interpreter.
    fixed_ms: Per op kind: fixed cost of one op (dispatch, setup).
    slowdown: Per op kind: measured time over roofline time, beyond the fixed cost.
    source: Where the fit came from (the tool and its JSON).
  """
  invoke_ms: float
  fixed_ms: Mapping[str, float]
  slowdown: Mapping[str, float]
  source: str = ""

  def lookup(self, kind: str) -> tuple[float, float]:
    """(fixed_ms, slowdown) of an op kind: exact, then by op name, then "*"."""
    for key in (kind, kind.split("/")[0], "*"):
      if key in self.slowdown:
        return self.fixed_ms.get(key, 0.0), self.slowdown[key]
    return 0.0, 1.0

  def to_json(self) -> dict:
    return {"invoke_ms": self.invoke_ms, "fixed_ms": dict(self.fixed_ms),
            "slowdown": dict(self.slowdown), "source": self.source}

  @classmethod
  def from_json(cls, raw: Mapping) -> "Calibration":
    return cls(float(raw["invoke_ms"]), dict(raw["fixed_ms"]), dict(raw["slowdown"]),
               str(raw.get("source", "")))


@dataclasses.dataclass(frozen=True)
class Target:
  """A roofline, with an optional calibration (see the module doc).

  Attributes:
    name: The name `--cost` takes.
    description: The device, its clock and what the figures assume.
    peak_macs_per_s: MACs per second by compute class: float32, int8, binary (hybrid
      uses int8's: dynamic-range kernels quantise the activations and run int8 GEMMs).
    bandwidth_bytes_per_s: Sustained memory bandwidth (bytes read + written per second).
    memory_bytes: The memory a model has there (RAM or SRAM), or None.
    calibration: Fitted op costs (host), or None for a plain roofline.
    sources: Where the figures come from (docs/hardware.md cites them).
  """
  name: str
  description: str
  peak_macs_per_s: Mapping[str, float]
  bandwidth_bytes_per_s: float
  memory_bytes: Optional[int] = None
  calibration: Optional[Calibration] = None
  sources: tuple[str, ...] = ()

  def peak(self, compute: str) -> float:
    """Peak MACs/s of a compute class (hybrid: int8's; none: infinite)."""
    if compute == "none":
      return float("inf")
    return self.peak_macs_per_s["int8" if compute == "hybrid" else compute]

  def ridge(self, compute: str) -> float:
    """The ridge point (MACs per byte) of a compute class."""
    return self.peak(compute) / self.bandwidth_bytes_per_s

  def with_calibration(self, calibration: Optional[Calibration]) -> "Target":
    return dataclasses.replace(self, calibration=calibration)

  def to_json(self) -> dict:
    return {"name": self.name, "description": self.description,
            "peak_macs_per_s": dict(self.peak_macs_per_s),
            "bandwidth_bytes_per_s": self.bandwidth_bytes_per_s,
            "memory_bytes": self.memory_bytes,
            "calibration": self.calibration.to_json() if self.calibration else None,
            "sources": list(self.sources)}


def kind_of(op_name: str, compute: str) -> str:
  """The calibration key of an op: "FULLY_CONNECTED/int8", "GATHER/none", ..."""
  return f"{op_name}/{compute}"


# Binary MACs per float32 MAC on NEON: one 128-bit EOR + CNT + UADALP sequence (3
# instructions) does 128 one-bit MACs where one FMLA does 4 float32 MACs.
_NEON_BINARY_PER_FLOAT = 128 / 3 / 4

# Measured on this host by tools/bench_cost_model.py (`cost_host_figures`).
HOST = Target(
    name="host",
    description="this x86-64 host, 1 thread of ai-edge-litert: peaks of single-op "
                "FULLY_CONNECTED models (float32, int8) and of LceBconv2d, bandwidth of a "
                "64 MiB numpy copy; calibrated on per-op latencies of 31 artifacts",
    peak_macs_per_s=dict(cost_host_figures.PEAK_MACS_PER_S),
    bandwidth_bytes_per_s=cost_host_figures.BANDWIDTH_BYTES_PER_S,
    memory_bytes=None,
    calibration=Calibration(cost_host_figures.INVOKE_MS, dict(cost_host_figures.FIXED_MS),
                            dict(cost_host_figures.SLOWDOWN), cost_host_figures.SOURCE),
    sources=("tools/bench_cost_model.py -> docs/results/cost_model_host.json",))

CORTEX_A72 = Target(
    name="cortex-a72",
    description="Raspberry Pi 4 (BCM2711), one Cortex-A72 core at 1.5 GHz: 4 float32 "
                "FMAs per cycle (two 64-bit NEON pipes), int8 at twice that (SMLAL "
                "widening MACs, no dot-product instructions in ARMv8.0), STREAM copy "
                "5.5 GB/s, 4 GB LPDDR4",
    peak_macs_per_s={"float32": 4 * 1.5e9, "int8": 8 * 1.5e9,
                     "binary": 4 * 1.5e9 * _NEON_BINARY_PER_FLOAT},
    bandwidth_bytes_per_s=5.5e9,
    memory_bytes=4 * 2 ** 30,
    sources=("wlog.flatlib.jp/2015/10/30/n1787 (vfpbench: Cortex-A72 8 SP flops/cycle/core)",
             "sci-pi.org.uk/bench/stream.html (Pi 4 STREAM copy 5527 MB/s)",
             "magpi.raspberrypi.com/articles/raspberry-pi-4-specs-benchmarks (BCM2711, "
             "A72 at 1.5 GHz)"))

CORTEX_A53 = Target(
    name="cortex-a53",
    description="Raspberry Pi 3 (BCM2837), one Cortex-A53 core at 1.2 GHz: in-order, "
                "64-bit NEON datapath: 2 float32 FMAs per cycle, int8 at twice that; "
                "2.3 GB/s sustained copy bandwidth (STREAM on an A53 with a 16-bit "
                "LPDDR4; the Pi 3's 32-bit LPDDR2-900 peaks at 3.6 GB/s); 1 GB",
    peak_macs_per_s={"float32": 2 * 1.2e9, "int8": 4 * 1.2e9,
                     "binary": 2 * 1.2e9 * _NEON_BINARY_PER_FLOAT},
    bandwidth_bytes_per_s=2.3e9,
    memory_bytes=2 ** 30,
    sources=("element14 Raspberry Pi comparison (BCM2837, Cortex-A53 at 1.2 GHz)",
             "ti.com SPRADO9 (AM62L, Cortex-A53 at 1.25 GHz: STREAM copy 2346 MB/s)",
             "ncnn A53 assembly notes (blog.csdn.net qq_20880415/117701831: 128-bit "
             "loads and FMLA on the A53 pipeline)"))

CORTEX_M7 = Target(
    name="cortex-m7",
    description="Cortex-M7 microcontroller at 216 MHz (STM32F746, the CMSIS-NN paper's "
                "board) running TFLM with CMSIS-NN: 2 int8 MACs per cycle (SMLAD: two "
                "16-bit MACs), 1 float32 FMA per cycle (FPv5), one 32-bit SRAM access per "
                "cycle (864 MB/s), 320 KB SRAM",
    peak_macs_per_s={"float32": 216e6, "int8": 2 * 216e6, "binary": 32 * 216e6 / 3},
    bandwidth_bytes_per_s=4 * 216e6,
    memory_bytes=320 * 1024,
    sources=("arXiv 1801.06601 (Lai et al., CMSIS-NN: SMLAD dual 16-bit MACs, "
             "Cortex-M7 at 216 MHz)",
             "docs.openmv.io CMSIS-NN page (DSP extension SIMD MACs on Cortex-M7)"))

TARGETS: dict[str, Target] = {t.name: t for t in (HOST, CORTEX_A72, CORTEX_A53, CORTEX_M7)}


def get_target(name: str | Target, calibration: str | os.PathLike | None = None) -> Target:
  """The target called `name` (a `Target` passes through); `calibration`: a JSON file
  as tools/bench_cost_model.py writes, whose "calibration" replaces the target's own and,
  for the host, whose measured "host" peaks and bandwidth replace the host's (a
  calibration of another machine).

  Raises:
    ValueError: unknown name (the known ones listed).
  """
  if isinstance(name, Target):
    target = name
  elif name in TARGETS:
    target = TARGETS[name]
  else:
    raise ValueError(f"unknown cost target {name!r}; expected one of {', '.join(TARGETS)}.")
  if calibration is not None:
    with open(calibration, encoding="utf-8") as f:
      raw = json.load(f)
    if "invoke_ms" not in raw.get("calibration", raw):
      raise ValueError(f"{calibration}: no calibration in it (expected the JSON "
                       "tools/bench_cost_model.py writes).")
    target = target.with_calibration(Calibration.from_json(raw.get("calibration", raw)))
    if target.name == "host" and "host" in raw:
      target = dataclasses.replace(
          target, peak_macs_per_s=dict(raw["host"]["peak_macs_per_s"]),
          bandwidth_bytes_per_s=float(raw["host"]["bandwidth_bytes_per_s"]))
  return target
