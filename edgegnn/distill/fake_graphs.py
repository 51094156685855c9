"""The fake graphs of graph-free KD (`edgegnn.distill.gfkd`): M learned graphs and how they
are sampled.

Fake graph m has n_m nodes, a Bernoulli distribution over its undirected edges
p_m,ij = sigmoid(theta_m,ij) and node features X_m = softmax(phi_m) (the full model, its
targets and the generator's objective are in `gfkd`'s module doc). Two priors shape them
without any loss term:

Valence cap (option `gfkd_max_degree` k > 0): Bernoulli graphs have no valence limit (a
node's degree is binomial, up to n - 1), while molecules' heavy atoms have at most 4 bonds.
The graph the teacher and student see is then A = cap_k(B, pi), with B ~ Bern(p) and pi a
uniformly random order of B's edges: each edge of B, in that order, is kept while both its
ends have fewer than k kept edges, so every node's degree is <= k and A's edges are a
subset of B's. pi does not depend on theta, so `gfkd`'s REINFORCE estimate stays unbiased
when L_m(A^s) is scored against the Bernoulli sample B^s it was capped from:

    d J / d theta_m,ij ~= 1/S sum_s (L_m(cap_k(B^s)) - b_s) (B^s_m,ij - p_m,ij)

Node-type support (option `gfkd_feature_support` tau > 0): the generator may use node
types the teacher's training data hardly had (on MUTAG, four types that are 1.3 % of the
real atoms made up 6-31 % of the final fake graphs' nodes on the five folds), and a student
that learns those as class cues has nothing to go on for real molecules. The teacher's first
batch-norm layer holds its training data's mean aggregated input: for a GIN teacher whose
first MLP starts Dense (kernel W1 [F, U], no bias) -> BatchNormalization, the BN input is
z = W1^T a with a = (1 + eps) x_v + sum_{u in N(v)} x_u, so its running mean mu gives

    E[a] = argmin_e ||W1^T e - mu||_2   (least squares; U > F),   share_f = E[a]_f / sum E[a]

(`teacher_feature_mix`), from the weights alone. Types with share_f < tau are left out of
the fake graphs: their feature logits are masked, X_m = softmax(phi_m + log 1[share >= tau]).
"""
from __future__ import annotations

from typing import Iterator, Optional, Sequence

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.distill.config import FEATURE_SUPPORT_TEACHER


class FakeGraphGenerator(tf.Module):
  """M learned fake graphs: Bernoulli edge logits theta [M, n, n] and features phi [M, n, F].

  Args:
    num_graphs: M.
    num_nodes: n, the (largest) number of nodes per graph.
    min_nodes: n_min; graph m keeps its first n_m ~ U{n_min..n} nodes (0: every graph has n).
    num_features: F, the teacher's input width.
    num_classes: C; graph m targets class m mod C.
    target_concentration: 0: graph m's target is the one-hot y_m (class m mod C); beta > 0:
      a soft target q_m ~ Dirichlet(beta 1_C) with its argmax balanced over the classes
      (Zero-Shot KD's "data impressions", Nayak et al., ICML 2019): the generator then drives
      the teacher's output on graph m to q_m, so the graphs also cover the teacher's
      uncertain region between the classes, not only its prototypes.
    edge_prior: initial edge probability.
    seed: initialisation seed.
    max_degree: k > 0 caps every node's degree at k in the graphs the models see (the
      valence cap, module doc); 0: no cap.
    feature_support: [F] booleans, the node types the graphs may use (None: all); the
      others get probability 0 in X = softmax(phi) (module doc).
  """

  def __init__(self, num_graphs: int, num_nodes: int, num_features: int, num_classes: int,
               edge_prior: float = 0.1, seed: int = 0, min_nodes: int = 0,
               target_concentration: float = 0.0, max_degree: int = 0,
               feature_support: Optional[Sequence[bool]] = None):
    super().__init__(name="fake_graph_generator")
    for name, value in (("num_graphs", num_graphs), ("num_nodes", num_nodes),
                        ("num_features", num_features), ("num_classes", num_classes)):
      if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}.")
    if target_concentration < 0:
      raise ValueError(f"target_concentration must be >= 0 (0: one-hot targets), got "
                       f"{target_concentration}.")
    if max_degree < 0:
      raise ValueError(f"max_degree must be >= 0 (0: no valence cap), got {max_degree}.")
    if not 0 < edge_prior < 1:
      raise ValueError(f"edge_prior must be in (0, 1), got {edge_prior}.")
    if min_nodes and not 1 <= min_nodes <= num_nodes:
      raise ValueError(f"min_nodes must be 0 (fixed size) or in [1, num_nodes={num_nodes}], "
                       f"got {min_nodes}.")
    rng = np.random.default_rng(seed)
    prior = np.log(edge_prior / (1 - edge_prior))
    self.num_graphs, self.num_nodes = num_graphs, num_nodes
    self.num_features, self.num_classes = num_features, num_classes
    self.max_degree = int(max_degree)
    support = np.ones(num_features, bool) if feature_support is None else np.asarray(
        feature_support, bool)
    if support.shape != (num_features,) or not support.any():
      raise ValueError(f"feature_support must be {num_features} booleans with at least one "
                       f"True, got {support.tolist()}.")
    # Added to phi: 0 for allowed types, a large negative number for the others.
    self._feature_offset = np.where(support, 0.0, -1e9).astype(np.float32)
    self.edge_logits = tf.Variable(
        (prior + 0.01 * rng.standard_normal([num_graphs, num_nodes, num_nodes])).astype(
            np.float32), name="edge_logits")
    self.feature_logits = tf.Variable(
        rng.standard_normal([num_graphs, num_nodes, num_features]).astype(np.float32),
        name="feature_logits")
    self.targets = (np.arange(num_graphs) % num_classes).astype(np.int32)
    self.target_probabilities = None
    if target_concentration:
      # Dirichlet draws, each sorted so that its largest entry is on class targets[m].
      draws = np.random.default_rng([seed, 4]).dirichlet(
          np.full(num_classes, target_concentration), num_graphs)
      draws = -np.sort(-draws, -1)                  # descending
      order = (self.targets[:, None] + np.arange(num_classes)[None]) % num_classes
      probabilities = np.zeros_like(draws)
      np.put_along_axis(probabilities, order, draws, -1)
      self.target_probabilities = probabilities.astype(np.float32)
    self.sizes = (np.full(num_graphs, num_nodes) if not min_nodes else
                  np.random.default_rng([seed, 3]).integers(min_nodes, num_nodes + 1,
                                                             num_graphs)).astype(np.int32)
    self.node_mask = np.arange(num_nodes)[None, :] < self.sizes[:, None]        # [M, n]
    # Upper triangle among each graph's own nodes: [M, n, n].
    self._upper = (np.triu(np.ones([num_nodes, num_nodes], np.float32), 1)[None]
                   * self.node_mask[:, :, None] * self.node_mask[:, None, :]).astype(np.float32)

  def snapshot(self) -> "FakeGraphGenerator":
    """A copy with the current theta and phi in new variables: later generator steps do
    not change it."""
    frozen = object.__new__(FakeGraphGenerator)
    tf.Module.__init__(frozen, name="fake_graph_snapshot")
    for name in ("num_graphs", "num_nodes", "num_features", "num_classes", "targets",
                 "target_probabilities", "sizes", "max_degree", "_feature_offset",
                 "node_mask", "_upper"):
      setattr(frozen, name, getattr(self, name))
    frozen.edge_logits = tf.Variable(self.edge_logits.numpy(), trainable=False,
                                     name="edge_logits")
    frozen.feature_logits = tf.Variable(self.feature_logits.numpy(), trainable=False,
                                        name="feature_logits")
    return frozen

  def target_loss(self, logits: tf.Tensor) -> tf.Tensor:
    """[M] per-graph cross-entropy of the teacher's logits to the targets: -log p(y_m), or
    -sum_c q_mc log p_c with soft targets (minimal where the teacher outputs q_m)."""
    if self.target_probabilities is None:
      return tf.nn.sparse_softmax_cross_entropy_with_logits(self.targets, logits)
    return tf.nn.softmax_cross_entropy_with_logits(self.target_probabilities, logits)

  def edge_probabilities(self) -> tf.Tensor:
    """p [M, n, n]: symmetric, zero diagonal (theta's upper triangle is used)."""
    upper = tf.sigmoid(self.edge_logits) * self._upper
    return upper + tf.transpose(upper, [0, 2, 1])

  def node_features(self) -> tf.Tensor:
    """X [M, n, F] = softmax(phi) over the supported node types (differentiable)."""
    return tf.nn.softmax(self.feature_logits + self._feature_offset, -1)

  def feature_entropy(self) -> tf.Tensor:
    """mean over the graphs' nodes of H(X_m,i) = -sum_f X log X (differentiable)."""
    log_x = tf.nn.log_softmax(self.feature_logits + self._feature_offset, -1)
    entropy = -tf.reduce_sum(tf.exp(log_x) * log_x, -1)
    mask = tf.constant(self.node_mask, entropy.dtype)
    return tf.reduce_sum(entropy * mask) / tf.reduce_sum(mask)

  def sample_structure(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(B, A): B ~ Bern(p) and the graph the models see, A = cap_k(B) with the valence cap
    k = max_degree (A is B when k is 0); both [M, n, n] symmetric 0/1, zero diagonal."""
    p = self.edge_probabilities().numpy() * self._upper
    upper = (rng.random(p.shape) < p).astype(np.float32) * self._upper
    sample = upper + np.transpose(upper, [0, 2, 1])
    if not self.max_degree:
      return sample, sample
    return sample, cap_degree(sample, self.max_degree, rng)

  def sample_adjacency(self, rng: np.random.Generator) -> np.ndarray:
    """A: a structure sample as the models see it (`sample_structure`'s second part)."""
    return self.sample_structure(rng)[1]

  def feed(self, adjacency: np.ndarray, features, index: Optional[np.ndarray] = None) -> dict:
    """A merged-batch feed (node_features, edge_source, edge_target, node_graph_index) of
    the graphs `index` (default all) with `adjacency` [M, n, n] and `features` [M, n, F]."""
    index = np.arange(self.num_graphs) if index is None else np.asarray(index)
    n = self.num_nodes
    mask = self.node_mask[index]
    valid = np.flatnonzero(mask.ravel())                 # kept nodes, in [B * n] numbering
    renumber = np.full(len(index) * n, -1, np.int64)
    renumber[valid] = np.arange(len(valid))
    graph, row, col = np.nonzero(adjacency[index] * mask[:, :, None] * mask[:, None, :])
    offset = graph * n
    x = tf.gather(features, index) if tf.is_tensor(features) else np.asarray(features)[index]
    x = tf.gather(tf.reshape(x, [len(index) * n, self.num_features]), valid)
    return {"node_features": x,
            "edge_source": renumber[offset + col].astype(np.int32),
            "edge_target": renumber[offset + row].astype(np.int32),
            "node_graph_index": np.repeat(np.arange(len(index)), n)[valid].astype(np.int32)}




def first_batch_norm_input(teacher: tf.keras.Model) -> tuple[tf.keras.layers.Dense,
                                                             tf.keras.layers.BatchNormalization]:
  """(Dense W1, BatchNormalization): the first two layers of conv0's MLP in a GIN teacher
  with batch norm; raises ValueError naming the requirement for any other teacher."""
  conv = next((l for l in teacher.layers if l.name == "conv0"), None)
  first = list(getattr(getattr(conv, "mlp", None), "layers", []))[:2]
  if (len(first) < 2 or not isinstance(first[0], tf.keras.layers.Dense)
      or first[0].use_bias or not isinstance(first[1], tf.keras.layers.BatchNormalization)):
    raise ValueError(f"{FEATURE_SUPPORT_TEACHER} (conv0's MLP: Dense without bias -> "
                     f"BatchNormalization); teacher {teacher.name!r} has none. Set "
                     "gfkd_feature_support to 0.")
  return first[0], first[1]


def teacher_mean_aggregate(teacher: tf.keras.Model) -> np.ndarray:
  """E[a] [F] by least squares from the first batch-norm layer's running mean (module doc)."""
  dense, norm = first_batch_norm_input(teacher)
  mean_aggregate, *_ = np.linalg.lstsq(dense.kernel.numpy().T, norm.moving_mean.numpy(),
                                       rcond=None)
  return mean_aggregate


def teacher_feature_mix(teacher: tf.keras.Model) -> np.ndarray:
  """share_f = E[a]_f / sum E[a] [F] (negative least-squares entries read as 0): the
  node-type mix of the teacher's training data as its first batch-norm layer holds it."""
  mean_aggregate = np.clip(teacher_mean_aggregate(teacher), 0.0, None)
  return mean_aggregate / mean_aggregate.sum()


def cap_degree(adjacency: np.ndarray, max_degree: int,
               rng: np.random.Generator) -> np.ndarray:
  """cap_k(B, pi) (module doc): B's edges [M, n, n] (symmetric 0/1) visited in a uniformly
  random order per graph, each kept while both its ends have fewer than k kept edges."""
  if max_degree < 1:
    raise ValueError(f"max_degree must be >= 1, got {max_degree}.")
  num_graphs, n, _ = adjacency.shape
  rows, cols = np.triu_indices(n, 1)
  present = adjacency[:, rows, cols] > 0                          # [M, P] candidate edges
  # A random order per graph with B's edges first (absent pairs sort after every edge).
  order = np.argsort(rng.random(present.shape) + 2.0 * ~present, axis=1, kind="stable")
  degree = np.zeros([num_graphs, n], np.int64)
  capped = np.zeros_like(adjacency)
  graphs = np.arange(num_graphs)
  for position in range(int(present.sum(1).max(initial=0))):
    pair = order[:, position]
    i, j = rows[pair], cols[pair]
    keep = present[graphs, pair] & (degree[graphs, i] < max_degree) & (
        degree[graphs, j] < max_degree)
    g, i, j = graphs[keep], i[keep], j[keep]
    degree[g, i] += 1
    degree[g, j] += 1
    capped[g, i, j] = capped[g, j, i] = 1
  return capped


def sample_one_hot_features(generator: FakeGraphGenerator,
                            rng: np.random.Generator) -> np.ndarray:
  """One-hot rows drawn from the categorical distributions softmax(phi): [M, n, F]."""
  probs = generator.node_features().numpy().astype(np.float64)
  cumulative = np.cumsum(probs, -1)
  draws = rng.random(probs.shape[:-1] + (1,)) * cumulative[..., -1:]
  index = np.minimum((draws > cumulative).sum(-1), probs.shape[-1] - 1)
  return np.eye(probs.shape[-1], dtype=np.float32)[index]


def generated_batches(generator: FakeGraphGenerator, batch_size: int,
                      rng: np.random.Generator,
                      one_hot: bool = True) -> Iterator[dict[str, np.ndarray]]:
  """One epoch of numpy feeds, shuffled: fresh structure samples A ~ Bern(p) and features
  X (one-hot samples of softmax(phi) when `one_hot`, else softmax(phi) itself)."""
  adjacency = generator.sample_adjacency(rng)
  features = (sample_one_hot_features(generator, rng) if one_hot
              else generator.node_features().numpy())
  order = rng.permutation(generator.num_graphs)
  for start in range(0, len(order), batch_size):
    feed = generator.feed(adjacency, features, order[start:start + batch_size])
    feed["node_features"] = feed["node_features"].numpy()
    yield feed
