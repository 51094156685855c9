"""The shapes of the JSON that comes back from a device and of RUN/report.json, checked
before either is used: a device answering `"agreement": "1.0"` must fail with that field
named, not make report.json unrenderable for every later run.

`check_device_results` validates `run_bundle.py`'s results JSON (what `edgegnn deploy pi`
fetches); `load_report` reads a report.json and checks the parts the report, the bundle
and the device columns read. Both raise `SchemaError` (a ValueError) naming the file and
the JSON path of the first offending value.
"""
from __future__ import annotations

import json
import math
import pathlib
from typing import Any, Callable


class SchemaError(ValueError):
  """A JSON document does not have the expected shape."""


def _fail(where: str, expected: str, value: Any) -> SchemaError:
  shown = json.dumps(value)[:80] if _jsonable(value) else repr(value)[:80]
  return SchemaError(f"{where} must be {expected}, got {shown}")


def _jsonable(value: Any) -> bool:
  try:
    json.dumps(value)
    return True
  except (TypeError, ValueError):
    return False


def _number(low: float = -math.inf, high: float = math.inf) -> Callable[[str, Any], None]:
  def check(where, value):
    if (isinstance(value, bool) or not isinstance(value, (int, float))
        or not math.isfinite(value) or not low <= value <= high):
      raise _fail(where, f"a finite number in [{low}, {high}]", value)
  return check


def _integer(low: int) -> Callable[[str, Any], None]:
  def check(where, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
      raise _fail(where, f"an integer >= {low}", value)
  return check


def _text(where: str, value: Any) -> None:
  if not isinstance(value, str):
    raise _fail(where, "a string", value)


def _optional(check: Callable[[str, Any], None]) -> Callable[[str, Any], None]:
  def wrapped(where, value):
    if value is not None:
      check(where, value)
  return wrapped


def _latency(where: str, value: Any) -> None:
  _mapping(where, value, {key: _number(0) for key in ("p50", "p90", "mean", "min", "max")},
           required=("p50", "p90"))


def _scalar(where: str, value: Any) -> None:
  if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
    raise _fail(where, "a string, an integer or null", value)


_RESULT = {"runtime": _text, "examples": _integer(0), "agreement": _number(0, 1),
           "test_accuracy": _number(0, 1), "max_abs_diff": _optional(_number(0)),
           "latency_ms": _latency, "runs": _integer(1), "threads": _integer(1),
           "benchmark_avg_ms": _number(0), "error": _text, "skipped": _text,
           "sha256": _text, "timed": _text, "warmup": _integer(0)}


def _mapping(where: str, value: Any, fields: dict, required: tuple = ()) -> None:
  if not isinstance(value, dict):
    raise _fail(where, "an object", value)
  for key in required:
    if key not in value:
      raise SchemaError(f"{where} has no {key!r}")
  for key, item in value.items():
    if key not in fields:
      raise SchemaError(f"{where} has an unknown field {key!r} (known: {', '.join(fields)})")
    fields[key](f"{where}.{key}", item)


def _device(where: str, value: Any) -> None:
  if not isinstance(value, dict):
    raise _fail(where, "an object", value)
  for key, item in value.items():
    if key == "artifacts":
      if not isinstance(item, dict):
        raise _fail(f"{where}.artifacts", "an object of artifact results", item)
      for name, result in item.items():
        _mapping(f"{where}.artifacts[{name!r}]", result, _RESULT)
    elif key in ("runs", "threads", "cpus"):
      _optional(_integer(1))(f"{where}.{key}", item)
    else:
      _scalar(f"{where}.{key}", item)


def check_device_results(results: Any, source: str = "device results") -> dict:
  """Returns `results` (run_bundle.py's JSON) if it has the expected shape; else
  SchemaError naming `source` and the offending field."""
  try:
    if not isinstance(results, dict):
      raise _fail("results", "an object", results)
    for key in ("device", "artifacts"):
      if key not in results:
        raise SchemaError(f"results has no {key!r}")
    _device("results", {k: v for k, v in results.items() if k != "device"})
    if not isinstance(results["device"], dict):
      raise _fail("results.device", "an object", results["device"])
    _device("results.device", {k: v for k, v in results["device"].items()
                               if k != "artifacts"})
  except SchemaError as e:
    raise SchemaError(f"{source}: {e}; the device's run_bundle.py does not match this "
                      "edgegnn: bundle again and re-run it.") from None
  return results


def _artifact(where: str, value: Any) -> None:
  if not isinstance(value, dict):
    raise _fail(where, "an object", value)
  if not isinstance(value.get("name"), str):
    raise _fail(f"{where}.name", "a string", value.get("name"))
  for key in ("path", "sidecar"):
    _optional(_text)(f"{where}.{key}", value.get(key))
  for key in ("bytes", "capacity", "max_neighbors", "arena_bytes", "peak_memory_bytes"):
    _optional(_integer(0))(f"{where}.{key}", value.get(key))
  for key in ("test_accuracy", "agreement"):
    _optional(_number(0, 1))(f"{where}.{key}", value.get(key))
  if value.get("latency_ms") is not None:
    _latency(f"{where}.latency_ms", value["latency_ms"])


def load_report(path: str | pathlib.Path) -> dict:
  """RUN/report.json, checked: models, artifacts and device columns have the shapes the
  report, the bundle and `deploy` read. SchemaError (naming the file) otherwise."""
  path = pathlib.Path(path)
  if not path.is_file():
    raise FileNotFoundError(f"{path}: no report.json; run `edgegnn run PIPELINE` first.")
  try:
    report = json.loads(path.read_text(encoding="utf-8"))
  except (ValueError, UnicodeDecodeError) as e:
    raise SchemaError(f"{path}: not valid JSON ({e}); re-run `edgegnn run` to rewrite "
                      "it.") from None
  try:
    if not isinstance(report, dict):
      raise _fail("report", "an object", report)
    for key, check in (("models", _named), ("artifacts", _artifact), ("devices", _device)):
      items = report.get(key, [])
      if not isinstance(items, list):
        raise _fail(f"report.{key}", "a list", items)
      for i, item in enumerate(items):
        check(f"report.{key}[{i}]", item)
  except SchemaError as e:
    raise SchemaError(f"{path}: {e}; re-run `edgegnn run` to rewrite it.") from None
  return report


def _named(where: str, value: Any) -> None:
  if not isinstance(value, dict) or not isinstance(value.get("name"), str):
    raise _fail(where, "an object with a string name", value)
