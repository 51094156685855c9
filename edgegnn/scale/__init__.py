"""Graphs beyond full-batch: layer-wise full-graph inference and training on sampled
subgraphs (`edgegnn.data.sampling`) through `edgegnn.engine`."""
from edgegnn.scale.layerwise import layerwise_accuracy, layerwise_logits
from edgegnn.scale.sampled_training import (sampled_batches, sampled_layout, teacher_logits,
                                            train_sampled, train_sampled_model)

__all__ = ["layerwise_accuracy", "layerwise_logits", "sampled_batches", "sampled_layout",
           "teacher_logits", "train_sampled", "train_sampled_model"]
