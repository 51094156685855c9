"""The model zoo: GCN, GAT, GraphSAGE, GIN, EdgeConv (DGCNN), MLP and the LPGNAS layer."""
from edgegnn.models.spec import ARCHITECTURES, LAYOUTS, ModelSpec
from edgegnn.models.zoo import TASKS, build_model, transfer_weights

__all__ = ["ARCHITECTURES", "LAYOUTS", "ModelSpec", "TASKS", "build_model", "transfer_weights"]
