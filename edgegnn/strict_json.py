"""Strict JSON for the files apps and devices read (report.json): a metric that does not
exist, such as the validation accuracy of a dataset without a validation split (computed as
NaN), is written as null, never as the non-standard NaN / Infinity tokens that strict
parsers (JavaScript's JSON.parse, Kotlin's org.json, jq) reject."""
from __future__ import annotations

import json
import math
from typing import Any


def finite_or_none(value: Any) -> Any:
  """`value` with every non-finite float (NaN, +-inf) in nested dicts/lists/tuples as None."""
  if isinstance(value, float):
    return value if math.isfinite(value) else None
  if isinstance(value, dict):
    return {k: finite_or_none(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [finite_or_none(v) for v in value]
  return value


def dumps(value: Any, **kwargs) -> str:
  """json.dumps of `finite_or_none(value)`; raises if anything non-standard is left."""
  return json.dumps(finite_or_none(value), allow_nan=False, **kwargs)
