"""Training: teacher training with early stopping, checkpoints and resume.

`edgegnn.training.config` (`TrainConfig`) imports without TensorFlow (a pipeline file is
checked with it); the trainer and the tasks load it on first use.
"""
from edgegnn._lazy import module_getattr

# Public name -> the module that defines it (imported on first access).
_MODULES = {
    "TrainConfig": "config",
    "CrossValidationResult": "cross_validation", "cross_validate": "cross_validation",
    "GraphTask": "tasks", "NodeTask": "tasks", "make_task": "tasks",
    "TrainResult": "trainer", "accuracy": "trainer", "cross_entropy": "trainer",
    "predict": "trainer", "train": "trainer",
    "reestimate_batch_norm": "batch_norm",
}


__getattr__ = module_getattr("edgegnn.training", _MODULES)

__all__ = list(_MODULES)
