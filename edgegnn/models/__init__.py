"""The model zoo: GCN, GAT, GraphSAGE, GIN, EdgeConv (DGCNN), MLP and the LPGNAS layer.

`edgegnn.models.feeds` (numpy) and `edgegnn.models.spec` import without TensorFlow; the
Keras builders (`build_model`, `transfer_weights`) load it on first use.
"""
from edgegnn._lazy import module_getattr
from edgegnn.models.spec import ARCHITECTURES, FEATURE_ENCODINGS, LAYOUTS, ModelSpec

_ZOO = ("TASKS", "build_model", "transfer_weights")

__getattr__ = module_getattr("edgegnn.models", {name: "zoo" for name in _ZOO})


__all__ = ["ARCHITECTURES", "FEATURE_ENCODINGS", "LAYOUTS", "ModelSpec", *_ZOO]
