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
from edgegnn._lazy import keep_function, module_getattr

# Public name -> the module that defines it (imported on first access).
_MODULES = {
    "METHOD_CONFIGS": "config", "CPFConfig": "config", "DistillConfig": "config",
    "GFKDConfig": "config", "GLNNConfig": "config", "KDConfig": "config",
    "LSPConfig": "config", "SelfDistillationConfig": "config", "config_class": "config",
    "GLNN_STUDENT": "config",
    "KERNELS": "lsp", "local_structure": "lsp", "lsp_loss": "lsp", "union_edges": "lsp",
    "METHODS": "methods", "get": "methods",
}


__getattr__ = module_getattr("edgegnn.distill", _MODULES)
keep_function("edgegnn.distill", "distill")

__all__ = [*_MODULES, "distill"]
