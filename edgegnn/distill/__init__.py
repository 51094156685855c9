"""Knowledge distillation: losses and students that carry a teacher's knowledge over."""
from edgegnn.distill.lsp import KERNELS, local_structure, lsp_loss, union_edges

__all__ = ["KERNELS", "local_structure", "lsp_loss", "union_edges"]
