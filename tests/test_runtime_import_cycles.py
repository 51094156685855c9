"""No import cycles among the modules of edgegnn.deploy and edgegnn.runtime.

Every import statement counts, at the top of a module or inside a function (a lazy
import that closes a cycle is still a cycle). The graph is read from the source with
`ast`, so the check needs no import of the package.
"""
import ast
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("edgegnn.deploy", "edgegnn.runtime")


def _modules() -> dict[str, Path]:
  found = {}
  for package in PACKAGES:
    folder = PACKAGE_ROOT.joinpath(*package.split("."))
    for path in folder.glob("*.py"):
      found[package if path.stem == "__init__" else f"{package}.{path.stem}"] = path
  return found


def _targets(name: str, path: Path, known: set[str]) -> set[str]:
  """The modules of `known` that `name` (at `path`) imports anywhere in its source."""
  package = name if path.stem == "__init__" else name.rsplit(".", 1)[0]
  targets = set()
  for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
    if isinstance(node, ast.Import):
      candidates = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
      if node.level:
        base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
        base = f"{base}.{node.module}" if node.module else base
      else:
        base = node.module
      candidates = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                    for alias in node.names]
    else:
      continue
    targets |= {c for c in candidates if c in known and c != name}
  return targets


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
  """Strongly connected components with more than one module (Tarjan)."""
  index, low, stack, on_stack, out = {}, {}, [], set(), []

  def visit(v):
    index[v] = low[v] = len(index)
    stack.append(v)
    on_stack.add(v)
    for w in sorted(graph[v]):
      if w not in index:
        visit(w)
        low[v] = min(low[v], low[w])
      elif w in on_stack:
        low[v] = min(low[v], index[w])
    if low[v] == index[v]:
      component = []
      while True:
        w = stack.pop()
        on_stack.discard(w)
        component.append(w)
        if w == v:
          break
      if len(component) > 1:
        out.append(sorted(component))

  for v in sorted(graph):
    if v not in index:
      visit(v)
  return out


def test_cycle_finder_finds_a_planted_cycle():
  assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
  assert _cycles({"a": {"b"}, "b": set()}) == []


def test_import_graph_reads_relative_and_lazy_imports():
  modules = _modules()
  graph = {name: _targets(name, path, set(modules)) for name, path in modules.items()}
  # Spot checks that the reader sees what the files hold: relative, lazy and aliased.
  assert "edgegnn.runtime.tflite_file" in graph["edgegnn.runtime.interpreters"]
  assert "edgegnn.runtime.arena" in graph["edgegnn.runtime.interpreters"]  # in a method
  assert graph["edgegnn.deploy.runtimes"] == {"edgegnn.runtime.interpreters"}


def test_no_import_cycles_in_deploy_and_runtime():
  modules = _modules()
  graph = {name: _targets(name, path, set(modules)) for name, path in modules.items()}
  assert _cycles(graph) == []
