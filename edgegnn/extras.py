"""Optional dependencies: which pip extra brings which module, and the error when it is missing.

The core install converts, verifies and benchmarks float and int8 artifacts; these extras add
the rest (pyproject.toml's `[project.optional-dependencies]`):

    binary     larq, larq-compute-engine   binary GNNs, the `binarize` stage, `lce` artifacts
    federated  flwr[simulation]            the `federated` stage, edgegnn.federated
    mcu        tflite-micro                `mcu` exports, the tflite-micro interpreter
    scale      apache-beam[tfrecord]       TF-GNN's Beam subgraph sampler
    all        every extra above

Use `require` where such a module is imported:

    lq = require("binary", "larq")
"""
from __future__ import annotations

import importlib
import types

EXTRAS = {
    "binary": ("larq and larq-compute-engine", "binary GNNs and lce artifacts"),
    "federated": ("flwr[simulation]", "federated training"),
    "mcu": ("tflite-micro", "microcontroller artifacts and the tflite-micro interpreter"),
    "scale": ("apache-beam[tfrecord]", "TF-GNN's Beam subgraph sampler"),
}


# Top-level module -> the extra that installs it.
MODULES = {"larq": "binary", "larq_compute_engine": "binary", "flwr": "federated",
           "ray": "federated", "tflite_micro": "mcu", "apache_beam": "scale", "crcmod": "scale"}


class MissingExtraError(ImportError):
  """An optional dependency is not installed; the message names the extra to install."""


def require(extra: str, module: str) -> types.ModuleType:
  """Imports `module`, which the pip extra `extra` installs, or raises MissingExtraError."""
  if extra not in EXTRAS:
    raise ValueError(f"unknown extra {extra!r}; edgegnn's extras are {', '.join(EXTRAS)}")
  try:
    return importlib.import_module(module)
  except ImportError as e:
    raise _missing(extra, module, e) from e


def explain(error: ImportError) -> MissingExtraError | None:
  """The MissingExtraError for an ImportError of a module an extra installs, else None."""
  if isinstance(error, MissingExtraError):
    return error
  module = (getattr(error, "name", None) or "").split(".")[0]
  return _missing(MODULES[module], module, error) if module in MODULES else None


def _missing(extra: str, module: str, error: ImportError) -> MissingExtraError:
  packages, purpose = EXTRAS[extra]
  return MissingExtraError(
      f"{module} is not installed: {purpose} need {packages}, the [{extra}] extra. Install it "
      f"with `pip install 'edgegnn[{extra}]'` (or 'edgegnn[all]'). ({error})")

