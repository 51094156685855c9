"""Re-estimating BatchNorm statistics of a trained model: `edgegnn.engine.batch_norm`."""
from edgegnn.engine.batch_norm import reestimate_batch_norm, statistics_feeds

__all__ = ["reestimate_batch_norm", "statistics_feeds"]
