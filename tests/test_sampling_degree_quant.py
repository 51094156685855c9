"""Degree-Quant on sampled subgraphs: the protective mask of a model fed sampled batches
draws with the probabilities p_i of the nodes' FULL-graph in-degrees, not of the
truncated degrees inside the sample."""
import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import numpy as np
import tensorflow as tf

from edgegnn.data.loading import load
from edgegnn.data.sampling import NeighbourSampler, full_graph_protection_probability
from edgegnn.models import ModelSpec, build_model, feeds
from edgegnn.quantization import QuantizationConfig

P_MIN, P_MAX = 0.1, 0.9      # wide, so that buckets differ by much more than the noise
BUCKETS = [(1, 1), (2, 2), (3, 3), (4, 5), (6, 10), (11, 10_000)]


def test_mask_frequency_per_degree_bucket_follows_full_graph_degrees():
  dataset = load("cora")
  sampler = NeighbourSampler(dataset.graph, (10, 10), seed=0)
  tf.keras.utils.set_random_seed(0)
  model = build_model(ModelSpec(architecture="gcn", hidden_units=8), layout="neighbors",
                      num_features=dataset.num_features, num_classes=dataset.num_classes,
                      max_neighbors=sampler.max_in_degree,
                      quantization=QuantizationConfig(p_min=P_MIN, p_max=P_MAX))
  mask_of = tf.keras.Model(model.inputs, model.get_layer("protective_mask").output)
  names = feeds.model_input_names(mask_of)
  degree, drawn, p_full, p_sample = [], [], [], []
  for epoch in range(3):
    for batch in sampler.epoch(np.arange(dataset.graph.num_nodes), 512, epoch):
      mask = mask_of(feeds.select(batch.feed("neighbors"), names), training=True).numpy()
      assert mask.shape == (batch.graph.num_nodes,) and set(np.unique(mask)) <= {0.0, 1.0}
      degree.append(batch.full_in_degree)
      drawn.append(mask)
      # p_i by Degree-Quant's rule over the batch's nodes, from full-graph degrees...
      p_full.append(full_graph_protection_probability(batch.full_in_degree, P_MIN, P_MAX))
      # ...and what counting the degrees inside the sample would have given.
      p_sample.append(full_graph_protection_probability(batch.graph.in_degree(), P_MIN,
                                                        P_MAX))
    assert not np.array_equal(batch.graph.in_degree(), batch.full_in_degree)
  degree, drawn = np.concatenate(degree), np.concatenate(drawn)
  p_full, p_sample = np.concatenate(p_full), np.concatenate(p_sample)
  far_from_sample = 0
  for low, high in BUCKETS:
    rows = (degree >= low) & (degree <= high)
    assert rows.sum() > 300, (low, high)
    frequency, expected = drawn[rows].mean(), p_full[rows].mean()
    noise = np.sqrt(np.sum(p_full[rows] * (1 - p_full[rows]))) / rows.sum()
    assert abs(frequency - expected) < 5 * noise + 1e-3, (low, high, frequency, expected)
    far_from_sample += abs(frequency - p_sample[rows].mean()) > 10 * noise
  assert far_from_sample >= 3      # the in-sample rule would have been told apart
  # Higher full-graph degree, more protection (monotone in the bucket means).
  means = [drawn[(degree >= lo) & (degree <= hi)].mean() for lo, hi in BUCKETS]
  assert all(a < b for a, b in zip(means, means[1:]))
