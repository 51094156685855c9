"""Makes `tf.keras` resolve to Keras 2 (tf-keras) before TensorFlow is imported.

TF-GNN, larq, tensorflow-model-optimization and the LCE converter all assume Keras 2.
TensorFlow reads `TF_USE_LEGACY_KERAS` once, when it is first imported, so this module
must run before any `import tensorflow`; `edgegnn/__init__.py` imports it first.
"""
import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def check_legacy_keras() -> None:
  """Raises if TensorFlow was imported earlier and `tf.keras` already resolved to Keras 3.

  `tf.keras` is resolved on first use, so TensorFlow imported before edgegnn is fine as long
  as nothing touched `tf.keras` yet. Keras 3 serves it as `keras._tf_keras.keras` (a name
  that contains "tf_keras"), so the test is on the top-level package, `tf_keras`.
  """
  if sys.modules.get("tensorflow") is None:  # not imported, or blocked (numpy-only use)
    return
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  if tf.keras.__name__.split(".")[0] != "tf_keras":
    raise ImportError(
        f"TensorFlow was imported before edgegnn with Keras 3 ({tf.keras.__name__}) as tf.keras; "
        "edgegnn needs Keras 2 (tf-keras). Import edgegnn before tensorflow, or set "
        "TF_USE_LEGACY_KERAS=1 in the environment.")
