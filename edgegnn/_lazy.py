"""Lazy package attributes: a package's public names import their module on first use, so
importing the package (for its TensorFlow-free config modules) imports no TensorFlow."""
from __future__ import annotations

import importlib
import sys
import types
from typing import Callable, Mapping


def module_getattr(package: str, names: Mapping[str, str]) -> Callable[[str], object]:
  """A module-level `__getattr__` for `package`: `names[name]` is the submodule that defines
  `name` ("" when `name` is itself a submodule)."""

  def __getattr__(name: str):
    if name in names:
      module = importlib.import_module(f"{package}.{names[name] or name}")
      return getattr(module, name) if names[name] else module
    raise AttributeError(f"module {package!r} has no attribute {name!r}")

  return __getattr__


def keep_function(package: str, name: str) -> None:
  """Makes `package.name` the function `name` of the submodule of the same name for good.

  Importing a submodule binds it as an attribute of its package, which would replace the
  function (`edgegnn.distill.distill`, `edgegnn.quantization.fake_quant`); the package's
  attribute becomes a property whose setter ignores that binding.
  """

  def function(_):
    return getattr(importlib.import_module(f"{package}.{name}"), name)

  def ignore(_, __):  # the import system binding the submodule: the function stays
    pass

  sys.modules[package].__class__ = type(
      "LazyPackage", (types.ModuleType,), {name: property(function, ignore)})
