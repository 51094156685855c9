"""Synthetic node-classification graphs of any size: communities, power-law degrees and
sparse bag-of-words features (numpy only, vectorised; a million nodes in seconds).

Model (all draws from one `np.random.default_rng(seed)`):

* Communities. The N nodes are split into K equal communities (K = `communities`,
  default the number of classes C); community j has class j mod C, and every node
  takes its community's class as label.
* Degrees (Chung-Lu). Node i gets a weight w_i from a Pareto law,
  P(w > x) = x^-(gamma - 1) for x >= 1 (`power_law_exponent` gamma > 2), so the
  degree distribution has a power-law tail P(d) ~ d^-gamma. Weights are scaled to
  mean `avg_degree` and capped at sqrt(avg_degree * N / K) (the usual Chung-Lu bound,
  which keeps the expected number of repeated pairs small). Node i gets
  floor(2 w_i + U) endpoint stubs (a stochastic rounding: expectation 2 w_i). Each
  undirected edge {u, v} draws u as a uniform stub, i.e. proportionally to the weights;
  with probability `homophily` v is a uniform stub of u's community, otherwise a
  uniform stub among the nodes of the other classes. So the fraction of edges joining
  two nodes of one class (edge homophily) is `homophily` (up to the repeats dropped
  below, which are a little more frequent inside a community), and node i's expected
  degree is proportional to w_i.
* Edges. Self-loops and repeated pairs are dropped and edges drawn again until there
  are exactly M = round(N * avg_degree / 2) distinct pairs; each pair is stored in both
  directions (2M directed edges, mean in-degree `avg_degree`).
* Features (binary bag of words, F = `num_features` words). Each class owns a topic, a
  disjoint set of F // C words. Node i has L_i = max(1, Poisson(`words_per_node`))
  word draws; each is, with probability `feature_signal`, a uniform word of its
  class's topic, otherwise a background word of Zipf-like popularity over a random word
  order: rank r = floor((F + 1)^U) - 1, so p(r) = ln((r + 2) / (r + 1)) / ln(F + 1),
  about 1 / ((r + 1.5) ln(F + 1)). Repeated words count once. The features are stored
  as CSR (`edgegnn.data.SparseFeatures`); a dense [N, F] matrix is built only on request.
* Node ids are a random permutation (ids say nothing about communities), and the
  train / val / test split is a uniformly random partition with the `split` fractions.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from edgegnn.data.datasets import NodeClassificationDataset
from edgegnn.data.graph import Graph
from edgegnn.data.sparse import SparseFeatures

_MAX_ROUNDS = 60   # edge top-up rounds before the parameters are declared unsatisfiable
_STUBS_PER_DEGREE = 2   # endpoint list entries per unit of weight (rounding granularity)


def _check(num_nodes, avg_degree, num_classes, num_features, words_per_node, feature_signal,
           communities, power_law_exponent, homophily, split) -> None:
  if num_nodes < 2:
    raise ValueError(f"num_nodes must be >= 2, got {num_nodes}.")
  if num_classes < 1 or communities < num_classes:
    raise ValueError(f"need num_classes >= 1 and communities >= num_classes, got "
                     f"{num_classes} classes, {communities} communities.")
  if communities > num_nodes:
    raise ValueError(f"{communities} communities for {num_nodes} nodes: need at most one "
                     "community per node.")
  if not 0 < avg_degree <= (num_nodes / communities - 1) / 2:
    raise ValueError(f"avg_degree must lie in (0, {(num_nodes / communities - 1) / 2:g}] "
                     f"for {num_nodes} nodes in {communities} communities (edges must fit "
                     f"without repeats); got {avg_degree}. Use more nodes or fewer "
                     "communities.")
  if not power_law_exponent > 2:
    raise ValueError(f"power_law_exponent must be > 2 (finite mean degree), got "
                     f"{power_law_exponent}.")
  if not 0 <= homophily <= 1 or (num_classes == 1 and homophily < 1):
    raise ValueError(f"homophily must lie in [0, 1] (and be 1 for a single class), got "
                     f"{homophily}.")
  if num_features < num_classes:
    raise ValueError(f"num_features ({num_features}) must be >= num_classes ({num_classes}): "
                     "each class needs its own topic words.")
  if words_per_node <= 0 or not 0 <= feature_signal <= 1:
    raise ValueError(f"need words_per_node > 0 and feature_signal in [0, 1], got "
                     f"{words_per_node}, {feature_signal}.")
  if len(split) != 3 or min(split) < 0 or sum(split) > 1 + 1e-9:
    raise ValueError(f"split must be 3 fractions (train, val, test) summing to <= 1, got "
                     f"{tuple(split)}.")


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
  """np.unique without its copy: sorts `keys` in place, returns the distinct ones."""
  keys.sort()
  keep = np.empty(keys.size, np.bool_)
  keep[:1] = True
  np.not_equal(keys[1:], keys[:-1], out=keep[1:])
  return keys[keep]


def _draw_pairs(rng, count, stubs, stub_start, stub_count, community, label, homophily):
  """`count` node pairs (u, v) by the Chung-Lu rule of the module doc (int64, may hold
  self-loops and repeats). `stubs` lists node i stub-count times, in community order:
  community c's stubs are stubs[stub_start[c]:stub_start[c] + stub_count[c]], so a
  uniform stub of the whole list (or of a block) is a node drawn proportionally to its
  weight (within that community): one gather, no search."""
  u = stubs[rng.integers(0, stubs.size, count)].astype(np.int64)
  v = np.empty(count, np.int64)
  inside = rng.random(count) < homophily
  c = community[u[inside]]
  v[inside] = stubs[stub_start[c] + (rng.random(c.size) * stub_count[c]).astype(np.int64)]
  outside = np.flatnonzero(~inside)
  while outside.size:   # rejection: v of another class (about 1/C of the draws fail)
    draw = stubs[rng.integers(0, stubs.size, outside.size)]
    v[outside] = draw
    outside = outside[label[draw] == label[u[outside]]]
  return u, v


def _edges(rng, num_nodes, avg_degree, communities, num_classes, power_law_exponent,
           homophily):
  """(pair keys a * N + b with a < b, sorted; labels) in community order."""
  sizes = np.full(communities, num_nodes // communities)
  sizes[: num_nodes % communities] += 1
  community = np.repeat(np.arange(communities), sizes)
  label = community % num_classes
  weight = (1.0 - rng.random(num_nodes)) ** (-1.0 / (power_law_exponent - 1.0))
  weight *= avg_degree / weight.mean()
  np.minimum(weight, max(avg_degree, math.sqrt(avg_degree * num_nodes / communities)),
             out=weight)
  # Stub counts: a stochastic rounding of _STUBS_PER_DEGREE * weight (expectation
  # proportional to the weight, so expected degrees stay proportional to it).
  counts = np.floor(weight * _STUBS_PER_DEGREE + rng.random(num_nodes)).astype(np.int64)
  stubs = np.repeat(np.arange(num_nodes, dtype=np.int32), counts)
  stub_count = np.add.reduceat(counts, np.concatenate([[0], np.cumsum(sizes)[:-1]]))
  if np.any(stub_count == 0):
    raise ValueError("a community got no edge endpoints; use more nodes per community.")
  stub_start = np.cumsum(stub_count) - stub_count
  wanted = int(round(num_nodes * avg_degree / 2))
  keys = np.zeros(0, np.int64)
  for _ in range(_MAX_ROUNDS):
    missing = wanted - keys.size
    if missing <= 0:
      break
    u, v = _draw_pairs(rng, int(missing * 1.05) + 64, stubs, stub_start, stub_count,
                       community, label, homophily)
    keep = u != v
    a, b = np.minimum(u[keep], v[keep]), np.maximum(u[keep], v[keep])
    keys = _sorted_unique(np.concatenate([keys, a * num_nodes + b]))
  else:
    raise ValueError(f"could not place {wanted} distinct edges in {_MAX_ROUNDS} rounds; "
                     "lower avg_degree or homophily, or use more nodes per community.")
  if keys.size > wanted:   # drop a random surplus; what stays stays sorted
    keys = np.delete(keys, rng.choice(keys.size, keys.size - wanted, replace=False))
  return keys, label


def _features(rng, labels, num_classes, num_features, words_per_node, feature_signal):
  """Binary bag-of-words CSR (module doc), rows in the order of `labels`."""
  n = labels.size
  words = np.maximum(rng.poisson(words_per_node, n), 1)
  rows = np.repeat(np.arange(n, dtype=np.int32), words)
  topic_size = num_features // num_classes
  topics = rng.permutation(num_features)[: topic_size * num_classes].reshape(
      num_classes, topic_size)
  order = rng.permutation(num_features)                    # background rank -> word
  # rank r = floor((F + 1)^U) - 1: P(r) = ln((r + 2) / (r + 1)) / ln(F + 1) ~ 1 / (r + 1)
  rank = np.exp(rng.random(rows.size) * math.log(num_features + 1)).astype(np.int64) - 1
  background = order[np.clip(rank, 0, num_features - 1)]
  topical = rng.random(rows.size) < feature_signal
  word = background
  word[topical] = topics[labels[rows[topical]], rng.integers(0, topic_size, topical.sum())]
  # one entry per (node, word); int32 keys sort faster where they fit
  key_type = np.int32 if n * num_features < 2**31 else np.int64
  keys = _sorted_unique(rows.astype(key_type) * key_type(num_features) + word.astype(key_type))
  splits = np.zeros(n + 1, np.int64)
  np.cumsum(np.bincount(keys // num_features, minlength=n), out=splits[1:])
  return SparseFeatures(splits, (keys % num_features).astype(np.int32), num_features)


def synthetic_dataset(num_nodes: int, avg_degree: float = 10.0, num_classes: int = 7,
                      num_features: int = 1000, words_per_node: float = 18.0,
                      feature_signal: float = 0.3, communities: int | None = None,
                      power_law_exponent: float = 2.5, homophily: float = 0.8,
                      split: Sequence[float] = (0.6, 0.2, 0.2), dense_features: bool = False,
                      seed: int = 0) -> NodeClassificationDataset:
  """A synthetic node-classification dataset (model in the module doc).

  Args:
    num_nodes: N.
    avg_degree: mean in-degree (= out-degree); the graph has N * avg_degree / 2
      undirected edges, each stored in both directions.
    num_classes: C.
    num_features: F, the vocabulary size of the bag-of-words features.
    words_per_node: mean number of word draws per node (mean non-zeros per row, a
      little less after repeats).
    feature_signal: probability that a word draw comes from the node's class topic.
    communities: K >= C (default C); community j has class j mod C.
    power_law_exponent: gamma > 2 of the degree tail P(d) ~ d^-gamma.
    homophily: fraction of edges inside a community (= edge homophily by class).
    split: (train, val, test) fractions of the nodes, drawn at random.
    dense_features: also store the dense [N, F] float32 features (`graph.node_features`),
      which the current feeds need; N * F * 4 bytes, so only for small graphs. Otherwise
      `graph.node_features` is None and `graph.sparse_features` holds the features.
    seed: random seed; the same arguments and seed give identical arrays.

  Returns:
    A `NodeClassificationDataset` named "synthetic-N".

  Raises:
    ValueError: parameters out of range (named, with the valid range).
  """
  communities = num_classes if communities is None else int(communities)
  _check(num_nodes, avg_degree, num_classes, num_features, words_per_node, feature_signal,
         communities, power_law_exponent, homophily, split)
  rng = np.random.default_rng(seed)
  keys, label_by_block = _edges(rng, num_nodes, avg_degree, communities, num_classes,
                                power_law_exponent, homophily)
  new_id = rng.permutation(num_nodes).astype(np.int32)    # community order -> node id
  labels = np.empty(num_nodes, np.int32)
  labels[new_id] = label_by_block
  a, b = new_id[keys // num_nodes], new_id[keys % num_nodes]
  del keys
  features = _features(rng, labels, num_classes, num_features, words_per_node,
                       feature_signal)
  graph = Graph(node_features=features.to_dense() if dense_features else None,
                edge_source=np.concatenate([a, b]), edge_target=np.concatenate([b, a]),
                sparse_features=features)
  shuffled = rng.permutation(num_nodes)
  n_train, n_val = int(round(split[0] * num_nodes)), int(round(split[1] * num_nodes))
  n_test = min(int(round(split[2] * num_nodes)), num_nodes - n_train - n_val)
  parts = np.split(shuffled, [n_train, n_train + n_val, n_train + n_val + n_test])
  return NodeClassificationDataset(
      name=f"synthetic-{num_nodes}", graph=graph, labels=labels, num_classes=num_classes,
      train_index=np.sort(parts[0]), val_index=np.sort(parts[1]), test_index=np.sort(parts[2]))


def synthetic_graph(num_nodes: int, **kwargs) -> Graph:
  """The graph of `synthetic_dataset(num_nodes, **kwargs)` (same arguments)."""
  return synthetic_dataset(num_nodes, **kwargs).graph
