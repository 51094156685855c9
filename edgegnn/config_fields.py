"""Builds frozen config dataclasses from mappings, rejecting unknown keys and wrong types.

Used for every section of a pipeline file, so a typo fails before any training with the
section and key named. A field typed as another config dataclass (a stage's `model:
ModelSpec`) is built from its nested mapping the same way, its errors naming the whole
path (`stages[0].train(gcn).model.hidden_units`). Imports nothing but the standard
library: pipeline files are checked without TensorFlow.
"""
from __future__ import annotations

import collections.abc
import dataclasses
import difflib
import math
import types
import typing
from typing import Any, ClassVar, Mapping, Optional, TypeVar

T = TypeVar("T")


def _unwrap(annotation: Any) -> tuple[Any, bool]:
  """(base type, optional) of an annotation such as `Optional[int]` or `int | None`."""
  if typing.get_origin(annotation) in (typing.Union, types.UnionType):
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return (args[0] if len(args) == 1 else Any), True
  return annotation, False


# Lists of these keys name runs: a repeated entry would train the same run twice and
# report a spread of 0.
_UNIQUE_LISTS = ("seeds", "folds")


def _check_type(where: str, key: str, value: Any, annotation: Any) -> Any:
  base, optional = _unwrap(annotation)
  if value is None:
    if optional:
      return None
    raise TypeError(f"{where}.{key} must not be null.")
  origin = typing.get_origin(base) or base
  if base is int and (isinstance(value, bool) or not isinstance(value, int)):
    raise TypeError(f"{where}.{key} must be an integer, got {value!r}.")
  if base is float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
      raise TypeError(f"{where}.{key} must be a number, got {value!r}.")
    if not math.isfinite(value):  # NaN/inf train to NaN weights that still "agree"
      raise ValueError(f"{where}.{key} must be a finite number, got {value!r}.")
    return float(value)
  if base is bool and not isinstance(value, bool):
    raise TypeError(f"{where}.{key} must be true or false, got {value!r}.")
  if base is str and not isinstance(value, str):
    raise TypeError(f"{where}.{key} must be a string, got {value!r}.")
  if origin in (tuple, list):
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
      raise TypeError(f"{where}.{key} must be a list, got {value!r}.")
    args = typing.get_args(base)
    item = args[0] if args and (len(args) == 1 or args[1] is Ellipsis) else Any
    if item is not Any:
      value = [_check_type(where, f"{key}[{i}]", v, item) for i, v in enumerate(value)]
    if key in _UNIQUE_LISTS and len(set(value)) != len(value):
      repeated = sorted({v for v in value if value.count(v) > 1})
      raise ValueError(f"{where}.{key} lists {repeated} more than once; each run once.")
    if key == "seeds" and any(not 0 <= v < 2 ** 31 for v in value):
      raise ValueError(f"{where}.seeds must be in 0..2147483647 (random seeds), got "
                       f"{list(value)}.")
    return tuple(value)
  if origin in (dict, collections.abc.Mapping) and not isinstance(value, Mapping):
    raise TypeError(f"{where}.{key} must be a mapping, got {value!r}.")
  if isinstance(base, type) and dataclasses.is_dataclass(base):
    return _nested(f"{where}.{key}", value, base)
  return value


def _nested(where: str, value: Any, cls: type) -> Any:
  """A section typed as config dataclass `cls` (e.g. a stage's `model: ModelSpec`), built
  from its mapping by `cls.from_dict` (which may complete it, e.g. a stage's fixed
  quantization method) or `from_mapping`."""
  if isinstance(value, cls):
    return value
  if not isinstance(value, Mapping):
    raise TypeError(f"{where} must be a mapping of keys to values, got {value!r}.")
  build = getattr(cls, "from_dict", None)
  return build(value, where) if build is not None else from_mapping(cls, value, where)


def from_mapping(cls: type[T], values: Mapping[str, Any], where: str) -> T:
  """Instantiates dataclass `cls` from `values`; `where` names the section in errors."""
  if not isinstance(values, Mapping):
    raise TypeError(f"{where} must be a mapping of keys to values, got {type(values).__name__}.")
  fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
  hints = typing.get_type_hints(cls)
  kwargs = {}
  for key, value in values.items():
    if key not in fields:
      close = difflib.get_close_matches(str(key), fields, n=1)
      hint = f" Did you mean {close[0]!r}?" if close else ""
      raise ValueError(f"Unknown key {where}.{key}.{hint} Valid keys: {', '.join(fields)}.")
    kwargs[key] = _check_type(where, key, value, hints.get(key, fields[key].type))
  try:
    return cls(**kwargs)
  except (TypeError, ValueError) as e:
    raise type(e)(f"{where}: {e}") from None


class MappingConfig:
  """Mixin for the frozen config dataclasses of a pipeline file's sections.

  `Cls.from_dict(mapping)` builds one through `from_mapping` (unknown keys and wrong
  types rejected, the section named by `SECTION` or the caller's `where`), and
  `to_dict()` gives the plain mapping back (`from_dict(c.to_dict()) == c`).
  """
  SECTION: ClassVar[str] = "config"

  @classmethod
  def from_dict(cls: type[T], values: Optional[Mapping[str, Any]] = None,
                where: Optional[str] = None) -> T:
    return from_mapping(cls, dict(values or {}), where or cls.SECTION)

  def to_dict(self) -> dict[str, Any]:
    return dataclasses.asdict(self)
