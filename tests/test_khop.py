"""`edgegnn.deploy.khop`: the k-hop extractor against a plain BFS, and a k-layer GCN on the
extracted subgraph against the same GCN on the whole graph."""
import collections
import subprocess
import sys

import numpy as np
import pytest

from edgegnn.deploy.khop import KHopExtractor


def _random_graph(rng, n, m, symmetric, simple):
  source = rng.integers(0, n, m)
  target = rng.integers(0, n, m)
  if simple:
    keep = source != target
    source, target = source[keep], target[keep]
  if symmetric:
    source, target = np.concatenate([source, target]), np.concatenate([target, source])
  if simple:
    pairs = np.unique(np.stack([source, target], 1), axis=0)
    source, target = pairs[:, 0], pairs[:, 1]
  return source, target


def _feature_csr(rng, n, f, density):
  dense = (rng.random((n, f)) < density).astype(np.float64)
  rows, cols = np.nonzero(dense)
  indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
  return dense, indptr, cols


def _bfs_distances(source, target, n, seed):
  """dist(u) = shortest path u -> ... -> seed, by a queue over in-neighbour lists."""
  into = collections.defaultdict(list)
  for s, t in zip(source.tolist(), target.tolist()):
    into[t].append(s)
  dist = {seed: 0}
  queue = collections.deque([seed])
  while queue:
    t = queue.popleft()
    for s in into[t]:
      if s not in dist:
        dist[s] = dist[t] + 1
        queue.append(s)
  return dist


@pytest.mark.parametrize("symmetric,simple", [(True, True), (False, False), (False, True)])
@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_matches_a_reference_bfs(symmetric, simple, k):
  rng = np.random.default_rng(k + 10 * symmetric + 100 * simple)
  n = 300
  source, target = _random_graph(rng, n, 700, symmetric, simple)
  dense, indptr, cols = _feature_csr(rng, n, 40, 0.1)
  extractor = KHopExtractor.from_edges(source, target, n, feature_indptr=indptr,
                                       feature_indices=cols)
  assert extractor._simple_rows == simple
  degree = np.bincount(target, minlength=n)
  for seed in rng.integers(0, n, 25):
    seed = int(seed)
    dist = _bfs_distances(source, target, n, seed)
    sub = extractor.extract(seed, k)
    nodes = sub.node_ids
    # seed first, then level by level, each level sorted by id
    expected = [seed] + sorted((u for u, d in dist.items() if 0 < d <= k),
                               key=lambda u: (dist[u], u))
    assert nodes.tolist() == expected
    # the edges: every s -> t with dist(t) < k, as a multiset
    want = collections.Counter((s, t) for s, t in zip(source.tolist(), target.tolist())
                               if dist.get(t, k + 1) < k)
    got = collections.Counter(zip(nodes[sub.edge_source].tolist(),
                                  nodes[sub.edge_target].tolist()))
    assert got == want
    np.testing.assert_array_equal(sub.in_degree, degree[nodes])
    rebuilt = np.zeros((len(nodes), dense.shape[1]))
    rebuilt[sub.feature_node, sub.feature_index] = 1.0
    np.testing.assert_array_equal(rebuilt, dense[nodes])
    assert sub.feature_value is None
    assert sub.edge_source.dtype == sub.edge_target.dtype == np.int32
  # the node -> local map is reset after every call
  assert (extractor._local == -1).all()


def _gcn(adjacency_edges, degree, x, weights):
  """H_{l+1} = Â H_l W_l (relu between layers), Â = D^-1/2 (A + I) D^-1/2 with D = in-degree
  + 1 given (not recounted), A[t, s] = number of edges s -> t."""
  source, target = adjacency_edges
  n = x.shape[0]
  norm = 1.0 / np.sqrt(degree + 1.0)
  a_hat = np.diag(norm * norm)
  np.add.at(a_hat, (target, source), norm[target] * norm[source])
  h = x
  for i, w in enumerate(weights):
    h = a_hat @ h @ w
    if i < len(weights) - 1:
      h = np.maximum(h, 0.0)
  return h


@pytest.mark.parametrize("k", [1, 2, 3])
def test_gcn_on_the_subgraph_gives_the_seeds_full_graph_row(k):
  rng = np.random.default_rng(k)
  n, f = 200, 30
  source, target = _random_graph(rng, n, 400, symmetric=True, simple=True)
  dense, indptr, cols = _feature_csr(rng, n, f, 0.15)
  values = (rng.random(cols.size) + 0.5).astype(np.float32)  # as the extractor keeps them
  x = np.zeros((n, f))
  x[np.repeat(np.arange(n), np.diff(indptr)), cols] = values
  widths = [f] + [16] * (k - 1) + [5]
  weights = [rng.standard_normal(shape) for shape in zip(widths, widths[1:])]
  degree = np.bincount(target, minlength=n)
  full = _gcn((source, target), degree, x, weights)
  extractor = KHopExtractor.from_edges(source, target, n, feature_indptr=indptr,
                                       feature_indices=cols, feature_values=values)
  differs = 0
  for seed in range(n):
    sub = extractor.extract(seed, k)
    x_sub = np.zeros((sub.num_nodes, f))
    x_sub[sub.feature_node, sub.feature_index] = sub.feature_value
    out = _gcn((sub.edge_source, sub.edge_target), sub.in_degree, x_sub, weights)
    np.testing.assert_allclose(out[0], full[seed], rtol=1e-12, atol=1e-12)
    # With the subgraph's own degrees the result is wrong wherever the outermost level
    # lost in-edges: the full degrees are what make it exact.
    own = np.bincount(sub.edge_target, minlength=sub.num_nodes)
    wrong = _gcn((sub.edge_source, sub.edge_target), own, x_sub, weights)
    differs += not np.allclose(wrong[0], full[seed])
  assert differs > n // 4


def test_from_graph_carries_its_sparse_features():
  from edgegnn.data.synthetic import synthetic_dataset  # pylint: disable=g-import-not-at-top
  graph = synthetic_dataset(400, avg_degree=4, num_classes=3, num_features=50, seed=0).graph
  extractor = KHopExtractor.from_graph(graph)
  dense = graph.dense_features()
  for seed in (0, 17, 399):
    sub = extractor.extract(seed, 2)
    rebuilt = np.zeros((sub.num_nodes, 50), np.float32)
    rebuilt[sub.feature_node, sub.feature_index] = 1.0
    np.testing.assert_array_equal(rebuilt, dense[sub.node_ids])
    np.testing.assert_array_equal(sub.in_degree, graph.in_degree()[sub.node_ids])


def test_refuses_bad_input():
  extractor = KHopExtractor.from_edges([0, 1], [1, 2], 3)
  with pytest.raises(ValueError, match=r"\[0, 3\)"):
    extractor.extract(3, 1)
  with pytest.raises(ValueError, match="k must be"):
    extractor.extract(0, -1)
  with pytest.raises(ValueError, match="rows \\+ 1"):
    KHopExtractor([0, 1, 2], [1, 0], feature_indptr=[0, 1], feature_indices=[0])
  with pytest.raises(ValueError, match="end at"):
    KHopExtractor([0, 1, 3], [1, 0])
  with pytest.raises(ValueError, match=r"\[0, 3\)"):
    KHopExtractor([0, 0, 0], [], feature_indptr=[0, 1, 1], feature_indices=[5], num_features=3)
  sub = extractor.extract(0, 2)                     # node 0 has no in-edges
  assert sub.node_ids.tolist() == [0] and sub.edge_source.size == 0


def test_imports_without_tensorflow():
  code = ("import sys; sys.modules['tensorflow'] = None; import edgegnn.deploy.khop as k; "
          "e = k.KHopExtractor.from_edges([0, 1], [1, 0], 2); print(e.extract(0, 2).num_nodes)")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       check=False)
  assert out.returncode == 0, out.stderr
  assert out.stdout.strip() == "2"


def test_subgraph_inputs_pad_every_featureless_node():
  """Every local node appears in feature_node, in order (SEGMENT_SUM needs consecutive ids),
  even when a node in the middle has no feature."""
  from edgegnn.deploy.khop import KHopExtractor
  source = np.array([1, 2, 3, 0], np.int32)
  target = np.array([0, 0, 0, 1], np.int32)
  indptr = np.array([0, 1, 1, 3, 3])          # node 1 and node 3 have no feature
  extractor = KHopExtractor.from_edges(source, target, 4, feature_indptr=indptr,
                                       feature_indices=np.array([0, 1, 2], np.int32),
                                       num_features=3)
  feed = extractor.extract(0, k=1).inputs(3)
  node = feed["feature_node"]
  assert node[0] == 0 and np.all(np.diff(node) >= 0) and np.all(np.diff(node) <= 1)
  assert node[-1] == len(feed["in_degree"]) - 1
