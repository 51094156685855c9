"""What every stage kind shares: the `Stage` base of its config dataclass, and the facts a
stage's checks may read when the whole pipeline file is parsed (`PipelineContext`)."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, ClassVar, Mapping, Optional

from edgegnn.config_fields import MappingConfig


@dataclasses.dataclass(frozen=True)
class PipelineContext:
  """What a stage's `check_context` may read: the dataset's name and task ("node" or
  "graph"), the earlier stages by the name of what they produce, and `load_dataset()`,
  the dataset itself (numpy arrays, loaded once on first call) for checks of sizes and
  values."""
  dataset: str
  task: str
  earlier: Mapping[str, "Stage"]
  load_dataset: Callable[[], Any]


class Stage(MappingConfig):
  """Base of a stage kind's frozen config dataclass.

  A subclass sets `kind` (the key in a pipeline file), declares its fields (nested
  sections typed as their config dataclasses, so `from_dict` builds and checks them),
  checks its own values in `__post_init__` (ValueError without a prefix: the parser names
  the stage), and overrides what differs from the defaults below.
  """
  kind: ClassVar[str] = ""
  # False for a stage that writes artifacts only (export): later stages cannot read it.
  produces_model: ClassVar[bool] = True

  @property
  def produces(self) -> str:
    """The name of what the stage writes (OUT/models/NAME, OUT/artifacts/NAME.*)."""
    return self.name  # type: ignore[attr-defined]  # every kind has `name`

  def requires(self) -> list[str]:
    """The names of the earlier stages whose models this stage reads."""
    return []

  @property
  def model_spec(self) -> Optional[Any]:
    """The `ModelSpec` of the model the stage produces (None: not a zoo model)."""
    return None

  @property
  def model_quantization(self) -> Optional[Any]:
    """The `QuantizationConfig` the produced model was trained or calibrated with."""
    return None

  @property
  def builds_cpf_student(self) -> bool:
    """The produced model is CPF's own student, bound to its graph (not a zoo model)."""
    return False

  def check_context(self, context: PipelineContext) -> None:
    """Raises ValueError if the stage does not fit the dataset or the earlier stages it
    reads (called once every stage has been built)."""

  def describe(self) -> str:
    """One line for `edgegnn run --dry-run` (after "i. KIND NAME:")."""
    return ""

  def to_dict(self) -> dict[str, Any]:
    """The stage as a pipeline file's entry, `{kind: {field: value}}`, every default filled
    in (the stage cache hashes it)."""
    return {self.kind: dataclasses.asdict(self)}


# Bounds of the latency benchmark settings: checked when the file loads, so a bad one
# never fails after training with the artifact half-written.
MAX_BENCH_RUNS = 100_000
MAX_BENCH_THREADS = 256


def check_bench(runs: int, warmup: int, threads: int) -> None:
  """Raises ValueError unless the benchmark settings of an artifact-writing stage are in
  range."""
  if not 1 <= runs <= MAX_BENCH_RUNS:
    raise ValueError(f"bench_runs must be in 1..{MAX_BENCH_RUNS}, got {runs}.")
  if not 0 <= warmup <= MAX_BENCH_RUNS:
    raise ValueError(f"bench_warmup must be in 0..{MAX_BENCH_RUNS}, got {warmup}.")
  if not 1 <= threads <= MAX_BENCH_THREADS:
    raise ValueError(f"bench_threads must be in 1..{MAX_BENCH_THREADS}, got {threads}.")


def check_seeds(seeds) -> None:
  if not seeds:
    raise ValueError("seeds must list at least one seed.")


def with_quantization_method(values: Optional[Mapping[str, Any]], method: str, kind: str,
                             where: Optional[str]) -> dict[str, Any]:
  """A stage mapping whose `quantization:` section gets the method its stage kind fixes
  (degree_quant: dq, qat: qat, ptq: ptq); a different method given there is an error."""
  values = dict(values or {})
  raw = values.get("quantization") or {}
  if isinstance(raw, Mapping):
    if raw.get("method", method) != method:
      raise ValueError(f"{where or kind}.quantization.method is {raw['method']!r}, but a "
                       f"{kind} stage quantizes with method {method!r}; use that stage kind "
                       "or drop the key.")
    values["quantization"] = dict(raw, method=method)
  return values
