"""Knowledge distillation: losses and students that carry a teacher's knowledge over.

| module | concept |
|---|---|
| soft_targets | soft-target KD loss (T, alpha, T^2 scaling) |
| lsp | local structure preserving loss (kernels, union of edges) |
| hidden_states | named hidden states of a model (distillation points) |
| cpf | CPF student: parameterized label propagation + feature transformation |
| self_distillation | GNN-SD: neighbourhood discrepancy rate, adaptive discrepancy retaining |
| fake_graphs | GFKD's fake graphs: Bernoulli edges, learned features, valence cap, type support |
| gfkd | graph-free KD: generator objective, REINFORCE structure gradients, student training |
| node_trainer | node-level methods' student training (`edgegnn.engine.fit` on the whole graph) |
| methods, config | method registry (`get`); `DistillConfig` (common fields) and one config dataclass per method (`METHOD_CONFIGS`) |
| distill | `distill(teacher, student, dataset, config, seed)` |

`edgegnn.distill.config` and `edgegnn.distill.methods` import without TensorFlow (a
pipeline file is checked with them); the losses and trainers load it on first use.
"""
import importlib
import sys
import types

# Public name -> the module that defines it (imported on first access).
_MODULES = {
    "METHOD_CONFIGS": "config", "CPFConfig": "config", "DistillConfig": "config",
    "GFKDConfig": "config", "GLNNConfig": "config", "KDConfig": "config",
    "LSPConfig": "config", "SelfDistillationConfig": "config", "config_class": "config",
    "GLNN_STUDENT": "config",
    "KERNELS": "lsp", "local_structure": "lsp", "lsp_loss": "lsp", "union_edges": "lsp",
    "METHODS": "methods", "get": "methods",
}


def __getattr__(name):
  if name in _MODULES:
    module = importlib.import_module(f"edgegnn.distill.{_MODULES[name]}")
    return getattr(module, name)
  raise AttributeError(f"module 'edgegnn.distill' has no attribute {name!r}")




class _Package(types.ModuleType):
  """`edgegnn.distill.distill` is the function; importing the submodule of the same name
  would otherwise rebind the package attribute to the module."""

  @property
  def distill(self):
    from edgegnn.distill.distill import distill  # pylint: disable=g-import-not-at-top
    return distill

  @distill.setter
  def distill(self, _):  # the import system binding the submodule: the function stays
    pass


sys.modules[__name__].__class__ = _Package

__all__ = [*_MODULES, "distill"]
