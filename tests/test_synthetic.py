"""`edgegnn.data.synthetic` and the sparse-feature `Graph`: structure, degree tail,
homophily, reproducibility, and labels that a cheap classifier learns from features and
graph."""
import numpy as np
import pytest
import scipy.sparse
from sklearn.linear_model import LogisticRegression

from edgegnn.data import Graph, SparseFeatures, merge_graphs
from edgegnn.data.synthetic import synthetic_dataset, synthetic_graph


def _csr(features: SparseFeatures, n: int) -> scipy.sparse.csr_matrix:
  data = np.ones(features.nnz) if features.binary else features.values
  return scipy.sparse.csr_matrix((data, features.indices, features.row_splits),
                                 shape=(n, features.num_features))


@pytest.fixture(scope="module")
def medium():
  return synthetic_dataset(20000, avg_degree=10, num_classes=5, num_features=400, seed=3)


def test_edges_are_symmetric_simple_and_counted(medium):
  g = medium.graph
  n = g.num_nodes
  assert g.num_edges == 2 * round(n * 10 / 2)
  assert not np.any(g.edge_source == g.edge_target)
  keys = g.edge_source.astype(np.int64) * n + g.edge_target
  assert np.unique(keys).size == keys.size                      # no repeated edge
  reverse = g.edge_target.astype(np.int64) * n + g.edge_source
  np.testing.assert_array_equal(np.sort(keys), np.sort(reverse))  # every edge both ways
  np.testing.assert_array_equal(g.in_degree(), np.bincount(g.edge_source, minlength=n))


def test_features_stay_sparse_and_match_their_dense_form():
  d = synthetic_dataset(500, num_features=60, num_classes=3, avg_degree=4, seed=0)
  assert d.graph.node_features is None
  sparse = d.graph.sparse_features
  assert sparse.binary and sparse.num_rows == 500 and d.graph.num_features == 60
  row = np.repeat(np.arange(500), np.diff(sparse.row_splits))
  assert np.unique(row * 60 + sparse.indices).size == sparse.nnz  # a word once per row
  assert np.all(np.diff(sparse.row_splits) >= 1)
  dense = synthetic_dataset(500, num_features=60, num_classes=3, avg_degree=4, seed=0,
                            dense_features=True).graph
  expected = np.zeros((500, 60), np.float32)
  expected[row, sparse.indices] = 1.0
  np.testing.assert_array_equal(dense.node_features, expected)
  np.testing.assert_array_equal(d.graph.dense_features(), expected)


def test_splits_partition_the_nodes(medium):
  parts = [medium.train_index, medium.val_index, medium.test_index]
  assert [p.size for p in parts] == [12000, 4000, 4000]
  assert np.unique(np.concatenate(parts)).size == 20000


def test_same_seed_same_arrays_other_seed_differs():
  kwargs = dict(avg_degree=6, num_classes=4, num_features=100)
  a, b = synthetic_dataset(3000, seed=7, **kwargs), synthetic_dataset(3000, seed=7, **kwargs)
  c = synthetic_dataset(3000, seed=8, **kwargs)
  for x, y in [(a.graph.edge_source, b.graph.edge_source),
               (a.graph.edge_target, b.graph.edge_target), (a.labels, b.labels),
               (a.graph.sparse_features.indices, b.graph.sparse_features.indices),
               (a.graph.sparse_features.row_splits, b.graph.sparse_features.row_splits),
               (a.train_index, b.train_index), (a.test_index, b.test_index)]:
    np.testing.assert_array_equal(x, y)
  assert not np.array_equal(a.graph.edge_source, c.graph.edge_source)
  assert not np.array_equal(a.labels, c.labels)


def _hill(degree, d_min):
  """Maximum-likelihood exponent of a power-law tail P(d) ~ d^-gamma above d_min
  (continuous approximation, d_min shifted by 1/2 for integer degrees)."""
  tail = degree[degree >= d_min].astype(np.float64)
  return 1.0 + tail.size / np.log(tail / (d_min - 0.5)).sum()


def test_degree_tail_is_a_power_law_with_the_requested_exponent():
  estimates = []
  for gamma in (2.2, 3.0):
    degree = synthetic_graph(20000, avg_degree=10, power_law_exponent=gamma,
                             seed=1).in_degree()
    estimates.append(_hill(degree, 25))
    assert abs(estimates[-1] - gamma) < 0.4, (gamma, estimates[-1])
    # Heavy tail: a Poisson(10) degree exceeds 50 with probability ~1e-15; here percents.
    assert np.mean(degree > 50) > 0.005
    assert degree.max() > 12 * degree.mean()
  assert estimates[0] < estimates[1]


@pytest.mark.parametrize("homophily,communities", [(0.8, None), (0.3, None), (0.9, 10)])
def test_edge_homophily_matches_the_parameter(homophily, communities):
  d = synthetic_dataset(8000, avg_degree=8, num_classes=5, communities=communities,
                        homophily=homophily, seed=2)
  g = d.graph
  same = np.mean(d.labels[g.edge_source] == d.labels[g.edge_target])
  assert abs(same - homophily) < 0.02
  if communities:
    assert np.bincount(d.labels).min() > 1000          # 10 communities over 5 classes


def test_labels_are_learnable_from_features_and_graph():
  """Logistic regression on the bag of words beats chance; adding the mean of the
  neighbours' words (one propagation step, homophily 0.8) beats the words alone; and
  with feature_signal 0 the words carry nothing."""
  kwargs = dict(avg_degree=8, num_classes=5, num_features=300, words_per_node=10,
                feature_signal=0.2, homophily=0.8)
  d = synthetic_dataset(4000, seed=4, **kwargs)
  g, n = d.graph, d.graph.num_nodes
  x = _csr(g.sparse_features, n)
  a = scipy.sparse.csr_matrix((np.ones(g.num_edges), (g.edge_target, g.edge_source)),
                              shape=(n, n))
  mean_neighbours = scipy.sparse.diags(1.0 / np.maximum(g.in_degree(), 1)) @ a @ x

  def score(features, labels, train, test):
    model = LogisticRegression(max_iter=500, C=1.0).fit(features[train], labels[train])
    return model.score(features[test], labels[test])

  words = score(x, d.labels, d.train_index, d.test_index)
  both = score(scipy.sparse.hstack([x, mean_neighbours]).tocsr(), d.labels, d.train_index,
               d.test_index)
  assert words > 1 / 5 + 0.2
  assert both > words + 0.05
  noise = synthetic_dataset(4000, seed=4, **dict(kwargs, feature_signal=0.0))
  chance = score(_csr(noise.graph.sparse_features, n), noise.labels, noise.train_index,
                 noise.test_index)
  assert chance < 1 / 5 + 0.06


def test_refuses_parameters_it_cannot_meet():
  with pytest.raises(ValueError, match="power_law_exponent"):
    synthetic_dataset(1000, power_law_exponent=2.0)
  with pytest.raises(ValueError, match="avg_degree"):
    synthetic_dataset(30, avg_degree=10, num_classes=7)
  with pytest.raises(ValueError, match="communities"):
    synthetic_dataset(100, num_classes=4, communities=3)


def test_graph_with_sparse_features_only():
  sparse = SparseFeatures(np.array([0, 2, 2, 3]), np.array([0, 3, 1]), 4,
                          np.array([1.0, 2.0, 5.0]))
  g = Graph(None, [0, 1], [1, 2], sparse_features=sparse)
  assert (g.num_nodes, g.num_features, g.node_features) == (3, 4, None)
  np.testing.assert_array_equal(g.dense_features(),
                                [[1, 0, 0, 2], [0, 0, 0, 0], [0, 5, 0, 0]])
  np.testing.assert_array_equal(g.padded_features(4)[3], 0)
  np.testing.assert_array_equal(sparse.take([2, 0]).to_dense(), g.dense_features()[[2, 0]])
  dense = Graph(np.eye(2, 4), [0], [1])
  merged, _ = merge_graphs([g, dense])                 # mixed: the merge stays sparse
  assert merged.node_features is None
  np.testing.assert_array_equal(merged.dense_features(),
                                np.concatenate([g.dense_features(), np.eye(2, 4)]))
  np.testing.assert_array_equal(merged.edge_source, [0, 1, 3])
  with pytest.raises(ValueError, match="neither"):
    Graph(None, [0], [0])
  with pytest.raises(ValueError, match="same matrix"):
    Graph(np.zeros((2, 4)), [0], [1], sparse_features=sparse)
  with pytest.raises(ValueError, match=r"outside \[0, 3\)"):
    Graph(None, [0], [3], sparse_features=sparse)
  with pytest.raises(ValueError, match="end at"):
    SparseFeatures(np.array([0, 2]), np.array([0]), 4)
