"""The distillation methods by name: one `get()` resolves aliases and rejects unknown ones."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Method:
  """What a method needs.

  Attributes:
    name: canonical name.
    task: "node" or "graph" datasets.
    needs_teacher: False for self-distillation.
    builds_student: the method builds its own student when none is given.
    summary: one line for docs and errors.
  """
  name: str
  task: str
  needs_teacher: bool
  builds_student: bool
  summary: str


_METHODS = {m.name: m for m in (
    Method("kd", "node", True, False, "soft-target KD: alpha * CE + (1 - alpha) * T^2 KL"),
    Method("lsp", "node", True, False, "local structure preserving at chosen layers + CE"),
    Method("glnn", "node", True, True, "GNN-to-MLP: an MLP on labels + teacher soft labels"),
    Method("cpf", "node", True, True, "CPF: label propagation + feature transformation"),
    Method("gnn-sd", "node", False, False, "GNN self-distillation: CE + ADR over NDR"),
    Method("gfkd", "graph", True, False, "graph-free KD on generated graphs"),
)}

_ALIASES = {"soft-targets": "kd", "hinton": "kd", "local-structure": "lsp",
            "gnn-to-mlp": "glnn", "plp": "cpf", "self-distillation": "gnn-sd", "sd": "gnn-sd",
            "graph-free": "gfkd"}

METHODS = tuple(_METHODS)


def get(name: str) -> Method:
  """The method called `name` (or an alias of it); unknown names list the valid ones."""
  canonical = _ALIASES.get(name, name)
  if canonical not in _METHODS:
    aliases = ", ".join(f"{a} ({c})" for a, c in _ALIASES.items())
    raise ValueError(f"Unknown distillation method {name!r}; expected one of "
                     f"{', '.join(METHODS)} (aliases: {aliases}).")
  return _METHODS[canonical]
