"""TF-GNN's Beam sampler on the DirectRunner: 2-hop neighbourhoods of Cora seeds."""
import numpy as np
import pytest

from edgegnn.data import beam_sampling

try:
  beam_sampling._require_beam()  # pylint: disable=protected-access
  _BEAM = None
except ImportError as e:
  _BEAM = str(e)

SEEDS = (0, 1, 2, 633, 1700)


def test_config_validates_and_bounds():
  config = beam_sampling.BeamSamplingConfig.from_dict({"fanouts": [5, 3], "seeds": [1]})
  assert (config.max_nodes(), config.max_edges()) == (21, 20)
  with pytest.raises(ValueError, match="fanouts"):
    beam_sampling.BeamSamplingConfig(fanouts=(5, 0))
  with pytest.raises(ValueError, match="runner"):
    beam_sampling.BeamSamplingConfig(runner="Local")
  with pytest.raises(ValueError, match="Did you mean 'fanouts'"):
    beam_sampling.BeamSamplingConfig.from_dict({"fanout": [5]})


def _require_beam():
  """tools/setup.sh installs the [scale] extra, so a missing Beam is a failed set-up, not a
  reason to skip."""
  if _BEAM:
    pytest.fail(f"apache-beam[tfrecord] is not installed (the [scale] extra; "
                f"`pip install -e '.[dev,scale]'` or `bash tools/setup.sh`): {_BEAM}")


def test_small_graph_two_hops(tmp_path):
  """The default-run check: a 30-node graph (ring plus chords, both directions)."""
  _require_beam()
  from edgegnn.data import Graph
  n = 30
  pairs = [(i, (i + 1) % n) for i in range(n)] + [(i, (i + 7) % n) for i in range(0, n, 3)]
  source = [a for a, b in pairs] + [b for a, b in pairs]
  target = [b for a, b in pairs] + [a for a, b in pairs]
  rng = np.random.default_rng(0)
  graph = Graph(rng.normal(size=(n, 4)).astype(np.float32), source, target)
  config = beam_sampling.BeamSamplingConfig(fanouts=(2, 2), seeds=(0, 5, 29))
  beam_sampling.sample_graph(graph, str(tmp_path), config, labels=np.arange(n) % 3)
  subgraphs = beam_sampling.read_samples(str(tmp_path))
  assert [s.seed for s in subgraphs] == [0, 5, 29]
  edges = set(zip(source, target))
  for s in subgraphs:
    assert 1 < s.graph.num_nodes <= 7 and s.graph.num_edges <= 6
    assert set(zip(s.sampled_source.tolist(), s.sampled_target.tolist())) <= edges
    assert len(set(s.sampled_target[s.sampled_source == s.seed].tolist())) == 2
    np.testing.assert_array_equal(s.graph.node_features, graph.node_features[s.node_ids])
  feed, seed_rows, labels = beam_sampling.batch(subgraphs)
  np.testing.assert_array_equal(labels, [0, 2, 2])
  np.testing.assert_array_equal(feed["node_features"][seed_rows],
                                graph.node_features[[0, 5, 29]])


@pytest.fixture(scope="module")
def sampled(cora, tmp_path_factory):
  _require_beam()
  out = tmp_path_factory.mktemp("beam")
  config = beam_sampling.BeamSamplingConfig(fanouts=(5, 3), seeds=SEEDS)
  run = beam_sampling.sample_graph(cora.graph, str(out), config, labels=cora.labels)
  return out, config, run, beam_sampling.read_samples(str(out))


@pytest.mark.slow
def test_samples_are_bounded_real_neighbourhoods(cora, sampled):
  _, config, run, subgraphs = sampled
  assert run["runner"] == "DirectRunner"
  assert [s.seed for s in subgraphs] == sorted(SEEDS)
  graph_edges = set(zip(cora.graph.edge_source.tolist(), cora.graph.edge_target.tolist()))
  for s in subgraphs:
    n = s.graph.num_nodes
    assert 1 < n <= config.max_nodes()
    assert 0 < s.graph.num_edges <= config.max_edges()
    assert len(set(s.node_ids.tolist())) == n  # each node once
    # Every sampled edge is an edge of Cora.
    assert set(zip(s.sampled_source.tolist(), s.sampled_target.tolist())) <= graph_edges
    # The seed's own hop: at most 5 edges out of it, and all its neighbours if it has <= 5.
    out_of_seed = s.sampled_target[s.sampled_source == s.seed]
    neighbours = set(cora.graph.edge_target[cora.graph.edge_source == s.seed].tolist())
    assert set(out_of_seed.tolist()) <= neighbours
    assert len(set(out_of_seed.tolist())) == min(5, len(neighbours))
    # Features and labels travel with the nodes.
    np.testing.assert_array_equal(s.graph.node_features, cora.graph.node_features[s.node_ids])
    np.testing.assert_array_equal(s.labels, cora.labels[s.node_ids])


@pytest.mark.slow
def test_samples_feed_a_node_model_and_parse_as_graph_tensors(cora, sampled):
  import tensorflow as tf
  import tensorflow_gnn as tfgnn
  from edgegnn.models import ModelSpec, build_model
  out, _, _, subgraphs = sampled
  feed, seed_rows, labels = beam_sampling.batch(subgraphs)
  np.testing.assert_array_equal(labels, cora.labels[list(sorted(SEEDS))])
  model = build_model(ModelSpec(), num_features=cora.num_features,
                      num_classes=cora.num_classes)
  logits = tf.gather(model({k: feed[k] for k in ("node_features", "edge_source", "edge_target")})
                     ["logits"], seed_rows)
  assert logits.shape == (len(SEEDS), cora.num_classes)
  schema = tfgnn.read_schema(str(out / "schema.pbtxt"))
  spec = tfgnn.create_graph_spec_from_schema_pb(schema)
  records = tf.data.TFRecordDataset(str(out / beam_sampling.SAMPLES))
  graphs = records.batch(len(SEEDS)).map(lambda r: tfgnn.parse_example(spec, r))
  graph = next(iter(graphs))
  sizes = graph.node_sets["nodes"].sizes.numpy().ravel().tolist()
  assert sorted(sizes) == sorted(s.graph.num_nodes for s in subgraphs)
