"""The model zoo: GCN, GAT, GraphSAGE, GIN, EdgeConv (DGCNN), MLP and the LPGNAS layer.

`edgegnn.models.feeds` (numpy) and `edgegnn.models.spec` import without TensorFlow; the
Keras builders (`build_model`, `transfer_weights`) load it on first use.
"""
from edgegnn.models.spec import ARCHITECTURES, FEATURE_ENCODINGS, LAYOUTS, ModelSpec

_ZOO = ("TASKS", "build_model", "transfer_weights")


def __getattr__(name):
  if name in _ZOO:
    from edgegnn.models import zoo  # pylint: disable=g-import-not-at-top
    return getattr(zoo, name)
  raise AttributeError(f"module 'edgegnn.models' has no attribute {name!r}")


__all__ = ["ARCHITECTURES", "FEATURE_ENCODINGS", "LAYOUTS", "ModelSpec", *_ZOO]
