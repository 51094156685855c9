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
"""
from edgegnn.distill.config import (METHOD_CONFIGS, CPFConfig, DistillConfig, GFKDConfig,
                                    GLNNConfig, KDConfig, LSPConfig, SelfDistillationConfig,
                                    config_class)
from edgegnn.distill.distill import GLNN_STUDENT, distill
from edgegnn.distill.lsp import KERNELS, local_structure, lsp_loss, union_edges
from edgegnn.distill.methods import METHODS, get

__all__ = ["METHOD_CONFIGS", "CPFConfig", "GFKDConfig", "GLNNConfig", "KDConfig", "LSPConfig",
           "SelfDistillationConfig", "config_class", "DistillConfig", "GLNN_STUDENT", "distill", "KERNELS", "local_structure",
           "lsp_loss", "union_edges", "METHODS", "get"]
