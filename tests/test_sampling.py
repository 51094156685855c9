"""The neighbour sampler (`edgegnn.data.sampling`) against an independent numpy reference
and against TF-GNN 1.0.3's in-memory edge sampler (`InMemUniformEdgesSampler`)."""
import collections

import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import numpy as np
import pytest

from edgegnn.data import Graph
from edgegnn.data.sampling import (NeighbourSampler, SamplingConfig, check_model_inputs,
                                   node_bound, sample_in_edges, InNeighbours)


def _random_graph(num_nodes=40, num_edges=260, seed=3, dense=True):
  rng = np.random.default_rng(seed)
  # Skewed targets so that some nodes have many more in-edges than the fan-outs.
  target = np.minimum(rng.zipf(1.6, num_edges) - 1, num_nodes - 1).astype(np.int32)
  source = rng.integers(0, num_nodes, num_edges).astype(np.int32)
  pairs = np.unique(np.stack([source, target], 1), axis=0)
  features = rng.normal(size=(num_nodes, 3)).astype(np.float32)
  return Graph(features if dense else None, pairs[:, 0], pairs[:, 1])


def _in_neighbours(graph):
  """Reference: node -> list of in-neighbours, by looping over the edges."""
  table = collections.defaultdict(list)
  for s, t in zip(graph.edge_source.tolist(), graph.edge_target.tolist()):
    table[t].append(s)
  return table


def test_batches_are_bounded_real_sampled_neighbourhoods():
  graph = _random_graph()
  table = _in_neighbours(graph)
  fanouts = (3, 2)
  sampler = NeighbourSampler(graph, fanouts, seed=7)
  seeds = np.arange(0, 40, 3)
  batches = list(sampler.epoch(seeds, batch_size=5, epoch=0))
  assert [b.num_seeds for b in batches] == [5, 5, 4]
  assert sorted(np.concatenate([b.seed_ids for b in batches]).tolist()) == seeds.tolist()
  for batch in batches:
    ids, g = batch.node_ids, batch.graph
    assert len(set(ids.tolist())) == len(ids)                   # nodes once each
    assert g.num_nodes <= node_bound(fanouts, batch.num_seeds)
    np.testing.assert_array_equal(g.node_features, graph.node_features[ids])
    np.testing.assert_array_equal(batch.full_in_degree,
                                  [len(table[i]) for i in ids.tolist()])
    np.testing.assert_array_equal(batch.loss_mask(),
                                  (np.arange(len(ids)) < batch.num_seeds).astype(np.float32))
    sampled = collections.defaultdict(list)
    for s, t in zip(ids[g.edge_source].tolist(), ids[g.edge_target].tolist()):
      sampled[t].append(s)
    for local, node in enumerate(ids.tolist()):
      hop = batch.hop[local]
      got = sampled.get(node, [])
      if hop < len(fanouts):   # expanded: min(fanout, degree) distinct real in-neighbours
        assert len(got) == min(fanouts[hop], len(table[node])), (node, got)
        assert len(set(got)) == len(got)
        assert set(got) <= set(table[node])
        for source in got:   # sources reached at the next hop unless seen earlier
          assert batch.hop[list(ids).index(source)] <= hop + 1
      else:
        assert got == []     # the last hop's nodes are not expanded


def test_same_seed_same_batches_other_seed_other_draws():
  graph = _random_graph()
  seeds = np.arange(40)
  run = lambda s, e: [(b.node_ids.tolist(), b.graph.edge_source.tolist())
                      for b in NeighbourSampler(graph, (4, 4), seed=s).epoch(seeds, 8, e)]
  assert run(1, 0) == run(1, 0)
  assert run(1, 0) != run(2, 0)
  assert run(1, 0) != run(1, 1)


def test_sparse_features_travel():
  graph = _random_graph()
  from edgegnn.data.sparse import SparseFeatures
  sparse = Graph(None, graph.edge_source, graph.edge_target,
                 sparse_features=SparseFeatures.from_dense(graph.node_features))
  batch = next(NeighbourSampler(sparse, (2, 2), seed=0).epoch(np.arange(10), 10))
  np.testing.assert_array_equal(batch.graph.dense_features(),
                                graph.node_features[batch.node_ids])
  feed = batch.feed("sparse")
  np.testing.assert_array_equal(feed["in_degree"], batch.full_in_degree)
  neighbors = batch.feed("neighbors")
  width = neighbors["neighbors"].shape[1]
  assert width == min(16, batch.max_in_degree)


def test_edge_inclusion_frequencies_match_tfgnn_in_memory_sampler():
  """Per in-edge inclusion frequency over many draws: ours and TF-GNN's uniform
  without-replacement sampler both give fanout / degree, within sampling error."""
  import tensorflow as tf
  from tensorflow_gnn.experimental import sampler as tfgnn_sampler
  graph = _random_graph()
  fanout, draws = 3, 3000
  nodes = np.flatnonzero(graph.in_degree() > fanout)[:4]
  assert len(nodes) >= 2
  # TF-GNN samples a node's outgoing edges: give it the reversed edges.
  reference = tfgnn_sampler.InMemUniformEdgesSampler(
      num_source_nodes=graph.num_nodes, source=graph.edge_target, target=graph.edge_source,
      sample_size=fanout, seed=5)
  batch = tf.RaggedTensor.from_row_lengths(np.tile(nodes, draws), [len(nodes)] * draws)
  sampled = reference(batch)
  tf_counts = collections.Counter(zip(sampled["#source"].flat_values.numpy().tolist(),
                                      sampled["#target"].flat_values.numpy().tolist()))
  ours = collections.Counter()
  index, rng = InNeighbours(graph), np.random.default_rng(0)
  for _ in range(draws):
    sources, targets = sample_in_edges(index, nodes, fanout, rng)
    assert np.all(np.bincount(targets, minlength=graph.num_nodes)[nodes] == fanout)
    ours.update(zip(targets.tolist(), sources.tolist()))   # (in-edge owner, neighbour)
  assert set(ours) == set(tf_counts)          # the same candidate edges, all drawn
  table = _in_neighbours(graph)
  for key in ours:
    expected = fanout / len(table[key[0]])
    spread = 4.5 * np.sqrt(expected * (1 - expected) / draws)
    assert abs(ours[key] / draws - expected) < spread, key
    assert abs(tf_counts[key] / draws - expected) < spread, key


def test_config_and_model_checks():
  config = SamplingConfig.from_dict({"fanouts": [10, 5], "batch_size": 256})
  assert config.fanouts == (10, 5)
  with pytest.raises(ValueError, match="one fan-out per layer"):
    config.check_model_depth(3)
  with pytest.raises(ValueError, match="fanouts"):
    SamplingConfig.from_dict({"fanouts": [10, 0]})
  with pytest.raises(ValueError, match="Unknown key"):
    SamplingConfig.from_dict({"fanout": [10]})
  with pytest.raises(ValueError, match="layout: neighbors"):
    check_model_inputs(["node_features", "edge_source", "edge_target"])
  check_model_inputs(["node_features", "neighbors", "neighbor_mask", "in_degree"])
  check_model_inputs(["node_features"])    # an MLP needs no graph
  sampler = NeighbourSampler(_random_graph(), (2,), seed=0)
  with pytest.raises(ValueError, match="repeat"):
    sampler.sample(np.array([1, 1]), np.random.default_rng(0))
  with pytest.raises(ValueError, match="lie in"):
    sampler.sample(np.array([99]), np.random.default_rng(0))
