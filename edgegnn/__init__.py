"""edgegnn: from TF-GNN models to compressed, verified .tflite artifacts.

Importing edgegnn first makes `tf.keras` resolve to Keras 2 (tf-keras), which TF-GNN,
larq and the LCE converter need. The public API is loaded lazily so that
`edgegnn inspect` / `bench` start without TensorFlow.
"""
from edgegnn import _keras_env  # (must precede any TensorFlow import)

_keras_env.check_legacy_keras()

__version__ = "0.3.0"   # the one place the version is set (pyproject reads it)

_LAZY = {
    "data": "edgegnn.data",
    "layers": "edgegnn.layers",
    "models": "edgegnn.models",
    "training": "edgegnn.training",
    "deploy": "edgegnn.deploy",
    "pipeline": "edgegnn.pipeline",
    "load_dataset": ("edgegnn.data", "load"),
    "ModelSpec": ("edgegnn.models", "ModelSpec"),
    "build_model": ("edgegnn.models", "build_model"),
    "train": ("edgegnn.training", "train"),
    "TrainConfig": ("edgegnn.training", "TrainConfig"),
    "convert": ("edgegnn.deploy.convert", "convert"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name):
  import importlib
  if name not in _LAZY:
    raise AttributeError(f"module 'edgegnn' has no attribute {name!r}")
  target = _LAZY[name]
  if isinstance(target, str):
    return importlib.import_module(target)
  return getattr(importlib.import_module(target[0]), target[1])
