"""Training: teacher training with early stopping, checkpoints and resume."""
from edgegnn.training.batch_norm import reestimate_batch_norm
from edgegnn.training.config import TrainConfig
from edgegnn.training.cross_validation import CrossValidationResult, cross_validate
from edgegnn.training.tasks import GraphTask, NodeTask, make_task
from edgegnn.training.trainer import TrainResult, accuracy, cross_entropy, predict, train

__all__ = ["TrainConfig", "CrossValidationResult", "cross_validate", "GraphTask", "NodeTask", "make_task", "TrainResult", "accuracy",
           "cross_entropy", "predict", "reestimate_batch_norm", "train"]
