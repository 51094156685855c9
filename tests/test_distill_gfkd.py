"""GFKD: the REINFORCE estimator against the exact gradient, the batch-norm recorder, the
snapshot pool, and proof that no real training graph reaches the student's training loop."""
import dataclasses
import inspect
import itertools

import numpy as np
import pytest

from edgegnn.data import Graph
from edgegnn.distill import DistillConfig, distill, fake_graphs, gfkd
from edgegnn.models import ModelSpec, build_model, feeds
from edgegnn.training import TrainConfig, train
import tensorflow as tf


def test_score_function_gradient_is_unbiased_on_an_enumerable_problem():
  """n = 3 nodes -> 3 undirected edges, 8 structures: compare with the exact gradient."""
  rng = np.random.default_rng(0)
  theta = np.array([0.3, -0.8, 1.1])
  p = 1 / (1 + np.exp(-theta))
  weights = np.array([1.0, -2.0, 0.5])
  loss = lambda a: (a @ weights) ** 2 + a[0] * a[2]
  exact = np.zeros(3)
  for bits in itertools.product([0, 1], repeat=3):
    a = np.array(bits, float)
    prob = np.prod(np.where(a == 1, p, 1 - p))
    exact += prob * loss(a) * (a - p)            # d/dtheta E[L] = E[L (A - p)]
  samples = (rng.random((20000, 3)) < p).astype(float)
  upper = np.zeros((20000, 1, 3, 3))
  upper[:, 0, 0, 1], upper[:, 0, 0, 2], upper[:, 0, 1, 2] = samples.T
  probs = np.zeros((1, 3, 3))
  probs[0, 0, 1], probs[0, 0, 2], probs[0, 1, 2] = p
  losses = np.array([loss(a) for a in samples])[:, None]
  estimate = gfkd.score_function_gradient(losses, upper, probs)[0]
  got = np.array([estimate[0, 1], estimate[0, 2], estimate[1, 2]])
  np.testing.assert_allclose(got, exact, atol=0.05)


def test_generator_samples_are_symmetric_loopless_and_follow_p():
  generator = fake_graphs.FakeGraphGenerator(4, 6, 3, 2, edge_prior=0.3, seed=1)
  p = generator.edge_probabilities().numpy()
  np.testing.assert_allclose(p, np.transpose(p, [0, 2, 1]))
  assert np.all(np.diagonal(p, axis1=1, axis2=2) == 0)
  rng = np.random.default_rng(2)
  mean = np.mean([generator.sample_adjacency(rng) for _ in range(400)], 0)
  np.testing.assert_allclose(mean, p, atol=0.1)
  x = fake_graphs.sample_one_hot_features(generator, rng)
  assert x.shape == (4, 6, 3) and np.all(x.sum(-1) == 1)
  feed = generator.feed(generator.sample_adjacency(rng), x)
  assert feed["node_graph_index"].tolist() == np.repeat(np.arange(4), 6).tolist()


def test_degree_cap_on_a_hand_built_star_and_triangle():
  """cap_2 of a 5-leaf star plus a separate triangle: the hub keeps exactly 2 of its 5
  edges (which two depends on the random order), the triangle (degrees 2) is kept whole."""
  b = np.zeros([1, 9, 9], np.float32)
  for leaf in range(1, 6):
    b[0, 0, leaf] = b[0, leaf, 0] = 1
  for i, j in ((6, 7), (7, 8), (6, 8)):
    b[0, i, j] = b[0, j, i] = 1
  kept_leaves = set()
  for seed in range(20):
    a = fake_graphs.cap_degree(b, 2, np.random.default_rng(seed))
    np.testing.assert_array_equal(a, np.transpose(a, [0, 2, 1]))
    assert np.all(a <= b)
    assert a[0, 0].sum() == 2 and a[0, 1:6, 1:].sum() == 0
    np.testing.assert_array_equal(a[0, 6:, 6:], b[0, 6:, 6:])
    kept_leaves |= set(np.flatnonzero(a[0, 0]).tolist())
  assert kept_leaves == {1, 2, 3, 4, 5}          # every edge of the hub can be the one kept
  with pytest.raises(ValueError, match="max_degree"):
    fake_graphs.cap_degree(b, 0, np.random.default_rng(0))


def test_capped_generator_feeds_capped_graphs_and_scores_the_bernoulli_sample(monkeypatch):
  """max_degree 2 on dense Bernoulli graphs: every graph the teacher sees has degrees <= 2,
  while the REINFORCE estimate is given the uncapped samples B (degrees up to 7)."""
  tf.keras.utils.set_random_seed(0)
  teacher = build_model(ModelSpec("gin", hidden_units=4, num_layers=2), num_features=3,
                        num_classes=2, task="graph", batched=True)
  generator = fake_graphs.FakeGraphGenerator(6, 8, 3, 2, edge_prior=0.6, seed=0, max_degree=2)
  assert generator.snapshot().max_degree == 2
  fed, scored = [], []
  original_feed, original_score = generator.feed, gfkd.score_function_gradient

  def feed(adjacency, features, index=None):
    fed.append(adjacency)
    return original_feed(adjacency, features, index)

  def score(losses, samples, probabilities):
    scored.append(samples)
    return original_score(losses, samples, probabilities)
  monkeypatch.setattr(generator, "feed", feed)
  monkeypatch.setattr(gfkd, "score_function_gradient", score)
  gfkd.fit_generator(teacher, generator, steps=1, learning_rate=0.01, samples=3,
                     bn_weight=0.0, seed=0)
  (samples,) = scored
  assert len(fed) == 3 and samples.shape == (3, 6, 8, 8)
  assert max(a.sum(-1).max() for a in fed) == 2
  assert samples.sum(-1).max() > 2
  for a, b in zip(fed, samples):
    assert np.all(a <= b)                        # the fed graph is a subgraph of its sample
  with pytest.raises(ValueError, match="max_degree"):
    fake_graphs.FakeGraphGenerator(2, 4, 3, 2, max_degree=-1)


def test_teacher_feature_mix_recovers_the_first_batch_norm_mean_aggregate():
  """A GIN teacher whose first BN running mean is W1^T e for a chosen mean aggregate e:
  teacher_feature_mix returns e / sum(e) (least squares, exact up to float32)."""
  tf.keras.utils.set_random_seed(0)
  teacher = build_model(ModelSpec("gin", hidden_units=8, num_layers=2), num_features=3,
                        num_classes=2, task="graph", batched=True)
  mlp = teacher.get_layer("conv0").mlp
  dense, norm = mlp.layers[0], mlp.layers[1]
  e = np.array([2.4, 0.1, 0.7], np.float32)
  norm.moving_mean.assign(dense.kernel.numpy().T @ e)
  np.testing.assert_allclose(fake_graphs.teacher_feature_mix(teacher), e / e.sum(), atol=1e-5)
  plain = build_model(ModelSpec("gin", hidden_units=8, num_layers=2, batch_norm=False),
                      num_features=3, num_classes=2, task="graph", batched=True)
  with pytest.raises(ValueError, match="gfkd_feature_support"):
    fake_graphs.teacher_feature_mix(plain)


def test_feature_support_masks_node_types():
  """Type 1 unsupported: probability 0 in X, never sampled, entropy and its gradient finite."""
  generator = fake_graphs.FakeGraphGenerator(5, 6, 3, 2, seed=0,
                                             feature_support=[True, False, True])
  x = generator.node_features().numpy()
  assert np.all(x[..., 1] == 0) and np.allclose(x.sum(-1), 1)
  counts = fake_graphs.sample_one_hot_features(generator, np.random.default_rng(0)).sum((0, 1))
  assert counts[1] == 0 and counts[0] > 0 and counts[2] > 0
  with tf.GradientTape() as tape:
    entropy = generator.feature_entropy()
  assert np.isfinite(float(entropy)) and 0 < float(entropy) <= np.log(2) + 1e-6
  assert np.all(np.isfinite(tape.gradient(entropy, generator.feature_logits).numpy()))
  np.testing.assert_array_equal(generator.snapshot().node_features().numpy(), x)
  with pytest.raises(ValueError, match="feature_support"):
    fake_graphs.FakeGraphGenerator(5, 6, 3, 2, feature_support=[False, False, False])


def test_batch_norm_recorder_sees_every_bn_layer_and_changes_nothing():
  model = build_model(ModelSpec("gin", hidden_units=4, num_layers=2), num_features=3,
                      num_classes=2, task="graph", batched=True)
  rng = np.random.default_rng(0)
  graph = Graph(rng.normal(size=(5, 3)), [0, 1, 2, 3], [1, 2, 3, 4])
  feed = feeds.select(feeds.batch_feed([graph]), feeds.model_input_names(model))
  before = model(feed, training=False)["logits"].numpy()
  with gfkd.recording_batch_norm_inputs(model) as records:
    during = model(feed, training=False)["logits"].numpy()
  np.testing.assert_array_equal(before, during)
  assert len(records) == 4                     # 2 GIN layers x 2 BN in each MLP
  assert all(inputs.shape == (5, 4) for _, inputs in records)
  prior = gfkd.batch_norm_prior(records)
  assert float(prior) > 0
  assert "call" not in vars(records[0][0])     # the layer is restored


TEACHER = ModelSpec("gin", hidden_units=16, num_layers=2, dropout=0.0, readout="sum")
STUDENT = ModelSpec("gin", hidden_units=16, num_layers=2, dropout=0.0, readout="sum",
                    batch_norm=False)
SMALL = DistillConfig(method="gfkd", gfkd_graphs=16, gfkd_nodes=8, gfkd_steps=3,
                      gfkd_samples=2, epochs=2, batch_size=8, weight_decay=0.0)


@pytest.fixture(scope="module")
def mutag_teacher(mutag):
  return train(TEACHER, mutag, TrainConfig(epochs=5, batch_size=32), seed=0,
               progress=False).model


def _student(mutag):
  tf.keras.utils.set_random_seed(0)
  return build_model(STUDENT, num_features=mutag.num_features,
                     num_classes=mutag.num_classes, task="graph", batched=True)


def test_student_trainer_takes_no_dataset_and_sees_only_generated_graphs(mutag,
                                                                         mutag_teacher):
  # By construction: the student's training loop has no parameter that could carry data.
  parameters = set(inspect.signature(gfkd.train_on_generator).parameters)
  assert parameters == {"teacher", "student", "generators", "epochs", "learning_rate",
                        "batch_size", "temperature", "weight_decay", "one_hot", "seed",
                        "hint_weight", "hint_layers", "on_batch"}
  # By instrumentation: every graph the student trains on is one of the generator's.
  generator = fake_graphs.FakeGraphGenerator(16, 8, mutag.num_features, 2, seed=0)
  gfkd.fit_generator(mutag_teacher, generator, steps=2, learning_rate=0.05, samples=2,
                     bn_weight=0.0)
  seen = []
  gfkd.train_on_generator(mutag_teacher, _student(mutag), generator, epochs=2,
                          learning_rate=0.01, batch_size=8, temperature=1.0,
                          on_batch=seen.append)
  assert len(seen) == 4                                 # 2 epochs x 16 graphs / 8
  real = {(g.num_nodes, g.node_features.tobytes(), g.edge_source.tobytes(),
           g.edge_target.tobytes()) for g in mutag.graphs}
  for feed in seen:
    assert np.all(np.bincount(feed["node_graph_index"]) == 8)   # every graph: 8 fake nodes
    for graph in range(feed["node_graph_index"].max() + 1):
      rows = feed["node_graph_index"] == graph
      offset = np.flatnonzero(rows)[0]
      mask = rows[feed["edge_target"]]
      key = (8, feed["node_features"][rows].tobytes(),
             (feed["edge_source"][mask] - offset).astype(np.int32).tobytes(),
             (feed["edge_target"][mask] - offset).astype(np.int32).tobytes())
      assert key not in real


@pytest.mark.slow
@pytest.mark.parametrize("config", [
    SMALL, dataclasses.replace(SMALL, gfkd_feature_support=0.01, gfkd_max_degree=3)],
    ids=["plain", "support-and-cap"])
def test_poisoned_training_graphs_change_nothing(mutag, mutag_teacher, config):
  """distill(gfkd) with every training graph of the fold replaced by NaN features gives
  bit-identical student weights: no training graph reached the student (or the generator,
  or the node-type support, which reads the teacher's weights only)."""
  train_index, _ = mutag.split(0)
  poisoned_graphs = list(mutag.graphs)
  for i in train_index:
    g = poisoned_graphs[i]
    poisoned_graphs[i] = Graph(np.full_like(g.node_features, np.nan), g.edge_source,
                               g.edge_target)
  poisoned = dataclasses.replace(mutag, graphs=tuple(poisoned_graphs))
  clean = distill(mutag_teacher, _student(mutag), mutag, config, seed=0, fold=0)
  dirty = distill(mutag_teacher, _student(mutag), poisoned, config, seed=0, fold=0)
  for a, b in zip(clean.model.get_weights(), dirty.model.get_weights()):
    np.testing.assert_array_equal(a, b)
  assert all(np.isfinite(w).all() for w in dirty.model.get_weights())
  assert clean.metrics["test_accuracy"] == dirty.metrics["test_accuracy"]


def test_variable_sizes_drop_the_padding_nodes_from_feeds():
  """min_nodes > 0: graph m keeps its first n_m nodes; padded nodes get no edges, no rows."""
  generator = fake_graphs.FakeGraphGenerator(5, 6, 3, 2, edge_prior=0.5, seed=0, min_nodes=2)
  sizes = generator.sizes
  assert sizes.min() >= 2 and sizes.max() <= 6 and len(set(sizes.tolist())) > 1
  p = generator.edge_probabilities().numpy()
  for m, n in enumerate(sizes):
    assert np.all(p[m, n:] == 0) and np.all(p[m, :, n:] == 0)
  rng = np.random.default_rng(0)
  adjacency = np.ones([5, 6, 6], np.float32) - np.eye(6, dtype=np.float32)   # complete
  x = fake_graphs.sample_one_hot_features(generator, rng)
  feed = generator.feed(adjacency, x, index=np.array([3, 1]))
  counts = np.bincount(feed["node_graph_index"])
  assert counts.tolist() == [sizes[3], sizes[1]]
  assert len(feed["node_features"]) == sizes[3] + sizes[1]
  # Complete graphs on each graph's own nodes: n (n - 1) directed edges, none across graphs.
  assert len(feed["edge_source"]) == sizes[3] * (sizes[3] - 1) + sizes[1] * (sizes[1] - 1)
  graph_of = feed["node_graph_index"]
  assert np.all(graph_of[feed["edge_source"]] == graph_of[feed["edge_target"]])
  np.testing.assert_array_equal(feed["node_features"].numpy()[:sizes[3]], x[3, :sizes[3]])
  with pytest.raises(ValueError, match="min_nodes"):
    fake_graphs.FakeGraphGenerator(5, 6, 3, 2, min_nodes=7)


def test_feature_entropy_golden_value_and_its_pull_toward_one_hot():
  generator = fake_graphs.FakeGraphGenerator(1, 2, 2, 2, seed=0)
  generator.feature_logits.assign(np.array([[[0.0, 0.0], [np.log(3.0), 0.0]]], np.float32))
  # rows (1/2, 1/2) and (3/4, 1/4): H = log 2 and -(3/4 log 3/4 + 1/4 log 1/4).
  expected = (np.log(2) - (0.75 * np.log(0.75) + 0.25 * np.log(0.25))) / 2
  np.testing.assert_allclose(float(generator.feature_entropy()), expected, rtol=1e-6)
  with tf.GradientTape() as tape:
    entropy = generator.feature_entropy()
  grad = tape.gradient(entropy, generator.feature_logits).numpy()
  assert grad[0, 1, 0] < 0 < grad[0, 1, 1]     # descending sharpens the (3/4, 1/4) row
  np.testing.assert_allclose(grad[0, 0], 0.0, atol=1e-7)   # the uniform row is stationary


@pytest.mark.parametrize("bn_layers", [0, 1])
def test_generator_loss_uses_the_first_bn_layers_only(bn_layers):
  """fit_generator's first recorded loss = mean CE + w * R_BN over the first `bn_layers`
  batch-norm layers (all for 0), recomputed by hand with the same structure samples."""
  tf.keras.utils.set_random_seed(0)
  teacher = build_model(ModelSpec("gin", hidden_units=4, num_layers=2), num_features=3,
                        num_classes=2, task="graph", batched=True)
  names = feeds.model_input_names(teacher)
  history = gfkd.fit_generator(teacher, fake_graphs.FakeGraphGenerator(4, 5, 3, 2, seed=0),
                               steps=1, learning_rate=0.01, samples=2, bn_weight=0.5,
                               bn_layers=bn_layers, seed=0)
  generator, rng = fake_graphs.FakeGraphGenerator(4, 5, 3, 2, seed=0), np.random.default_rng([0, 1])
  expected = []
  for _ in range(2):
    feed = generator.feed(generator.sample_adjacency(rng), generator.node_features())
    with gfkd.recording_batch_norm_inputs(teacher) as records:
      logits = teacher(feeds.select(feed, names), training=False)["logits"]
    assert len(records) == 4
    used = records[:bn_layers] if bn_layers else records
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(generator.targets, logits).numpy()
    expected.append(ce + 0.5 * float(gfkd.batch_norm_prior(used)))
  np.testing.assert_allclose(history[0]["loss"], np.mean(expected), rtol=1e-5)


def test_snapshots_are_frozen_copies_taken_every_k_steps(mutag, mutag_teacher, monkeypatch):
  """gfkd_snapshot_every 2 over 5 steps: the student's pool is the graphs at steps 0, 2, 4
  and the final ones, each snapshot equal to the generator at its step and unchanged by
  later steps."""
  config = dataclasses.replace(SMALL, gfkd_steps=5, gfkd_snapshot_every=2)
  pools, at_step = [], {}
  original_fit, original_train = gfkd.fit_generator, gfkd.train_on_generator

  def fit(teacher, generator, **kwargs):
    at_step[0] = generator.edge_logits.numpy()
    keep = kwargs.pop("on_step")

    def record(step):
      at_step[step] = generator.edge_logits.numpy()
      keep(step)
    return original_fit(teacher, generator, on_step=record, **kwargs)

  def train_pool(teacher, student, generators, **kwargs):
    pools.append(list(generators))
    return original_train(teacher, student, generators, **kwargs)
  monkeypatch.setattr(gfkd, "fit_generator", fit)
  monkeypatch.setattr(gfkd, "train_on_generator", train_pool)
  final, history, _ = gfkd.distill_on_generated_graphs(mutag_teacher, _student(mutag), config,
                                                       seed=0)
  assert len(history) == 5
  (pool,) = pools
  assert len(pool) == 4 and pool[-1] is final
  for snapshot, step in zip(pool[:3], (0, 2, 4)):
    np.testing.assert_array_equal(snapshot.edge_logits.numpy(), at_step[step])
    assert not snapshot.trainable_variables
  assert not np.array_equal(pool[0].edge_logits.numpy(), final.edge_logits.numpy())
  np.testing.assert_array_equal(final.edge_logits.numpy(), at_step[5])


def test_pool_training_visits_every_snapshot_once_per_epoch(mutag, mutag_teacher):
  generator = fake_graphs.FakeGraphGenerator(16, 8, mutag.num_features, 2, seed=0)
  pool = []
  for value in range(3):               # constant rows: each member's features identify it
    generator.feature_logits.assign(np.zeros([16, 8, mutag.num_features], np.float32))
    generator.feature_logits[:, :, value].assign(np.full([16, 8], 5.0, np.float32))
    pool.append(generator.snapshot())
  seen = []
  gfkd.train_on_generator(mutag_teacher, _student(mutag), pool, epochs=2, learning_rate=0.01,
                          batch_size=8, temperature=1.0, one_hot=False, on_batch=seen.append)
  members = [int(np.argmax(feed["node_features"][0])) for feed in seen]
  assert len(seen) == 12                                 # 2 epochs x 3 members x 16 / 8
  for epoch in (members[:6], members[6:]):
    assert sorted(epoch) == [0, 0, 1, 1, 2, 2]
  assert members[:6] != [0, 0, 1, 1, 2, 2]               # shuffled across members
  with pytest.raises(ValueError, match="at least one generator"):
    gfkd.train_on_generator(mutag_teacher, _student(mutag), [], epochs=1, learning_rate=0.01,
                            batch_size=8, temperature=1.0)


def test_jensen_shannon_golden_values_and_bounds():
  """JS of softmax rows against numpy: 0 for equal rows, log 2 for disjoint ones."""
  a = np.array([[2.0, 0.0], [0.0, 0.0], [30.0, -30.0]], np.float32)
  b = np.array([[0.0, 1.0], [0.0, 0.0], [-30.0, 30.0]], np.float32)
  p, q = (np.exp(x) / np.exp(x).sum(-1, keepdims=True) for x in (a, b))
  m = (p + q) / 2
  expected = 0.5 * (p * np.log(p / m)).sum(-1) + 0.5 * (q * np.log(q / m)).sum(-1)
  got = gfkd.jensen_shannon(tf.constant(a), tf.constant(b)).numpy()
  np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
  assert got[1] == pytest.approx(0.0, abs=1e-7)
  assert got[2] == pytest.approx(np.log(2.0), rel=1e-4)


def test_adversarial_generator_loss_subtracts_the_student_disagreement():
  """fit_generator's first loss with a student = mean (CE - w JS(teacher || student)),
  recomputed by hand with the same structure samples; the student's weights stay."""
  tf.keras.utils.set_random_seed(0)
  teacher = build_model(ModelSpec("gin", hidden_units=4, num_layers=2), num_features=3,
                        num_classes=2, task="graph", batched=True)
  student = build_model(ModelSpec("gin", hidden_units=4, num_layers=1, batch_norm=False),
                        num_features=3, num_classes=2, task="graph", batched=True)
  before = [w.copy() for w in student.get_weights()]
  history = gfkd.fit_generator(teacher, fake_graphs.FakeGraphGenerator(4, 5, 3, 2, seed=0), steps=1,
                               learning_rate=0.01, samples=2, bn_weight=0.0, seed=0,
                               student=student, adversarial_weight=0.7)
  generator, rng = fake_graphs.FakeGraphGenerator(4, 5, 3, 2, seed=0), np.random.default_rng([0, 1])
  expected, disagreement = [], []
  for _ in range(2):
    feed = generator.feed(generator.sample_adjacency(rng), generator.node_features())
    t = teacher(feeds.select(feed, feeds.model_input_names(teacher)), training=False)["logits"]
    s = student(feeds.select(feed, feeds.model_input_names(student)), training=False)["logits"]
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(generator.targets, t).numpy()
    js = gfkd.jensen_shannon(t, s).numpy()
    expected.append(ce - 0.7 * js)
    disagreement.append(js.mean())
  np.testing.assert_allclose(history[0]["loss"], np.mean(expected), rtol=1e-5)
  assert history[0]["student_disagreement"] == pytest.approx(disagreement[-1], rel=1e-5)
  for a, b in zip(before, student.get_weights()):
    np.testing.assert_array_equal(a, b)
  with pytest.raises(ValueError, match="needs the student"):
    gfkd.fit_generator(teacher, generator, steps=1, learning_rate=0.01, samples=2,
                       bn_weight=0.0, adversarial_weight=1.0)


def test_adversarial_rounds_grow_the_pool_with_new_generators(mutag, mutag_teacher, monkeypatch):
  """2 rounds, snapshots every 2 of 3 steps: the student trains on the first pool (steps
  0, 2 and the end: 3 members) for `epochs`, then on it plus each round's 3 new members for
  `gfkd_adversarial_epochs`; each round's generator starts from its own seed and is fitted
  against the student."""
  config = dataclasses.replace(SMALL, gfkd_snapshot_every=2, gfkd_adversarial_rounds=2,
                               gfkd_adversarial_weight=0.5, gfkd_adversarial_epochs=1)
  pools, fits = [], []
  original_fit, original_train = gfkd.fit_generator, gfkd.train_on_generator

  def fit(teacher, generator, **kwargs):
    fits.append((generator.edge_logits.numpy().copy(), kwargs["student"],
                 kwargs["adversarial_weight"], kwargs["seed"]))
    return original_fit(teacher, generator, **kwargs)

  def train_pool(teacher, student, generators, **kwargs):
    pools.append((list(generators), kwargs["epochs"]))
    return original_train(teacher, student, generators, **kwargs)
  monkeypatch.setattr(gfkd, "fit_generator", fit)
  monkeypatch.setattr(gfkd, "train_on_generator", train_pool)
  student = _student(mutag)
  final, history, student_history = gfkd.distill_on_generated_graphs(
      mutag_teacher, student, config, seed=0)
  assert [len(pool) for pool, _ in pools] == [3, 6, 9]
  assert [epochs for _, epochs in pools] == [2, 1, 1]
  assert pools[1][0][:3] == pools[0][0] and pools[2][0][:6] == pools[1][0]
  assert pools[2][0][-1] is final
  assert [(s is student, w, seed) for _, s, w, seed in fits] == [
      (False, 0.0, 0), (True, 0.5, 1000), (True, 0.5, 2000)]
  assert not np.array_equal(fits[0][0], fits[1][0])        # a new generator each round
  assert [entry.get("round", 0) for entry in history] == [0] * 3 + [1] * 3 + [2] * 3
  assert [entry.get("round", 0) for entry in student_history] == [0, 0, 1, 2]
  assert all("student_disagreement" in entry for entry in history[3:])


def test_dirichlet_soft_targets_keep_balanced_argmax_and_set_the_generator_loss():
  """target_concentration beta: q_m ~ Dir(beta), argmax q_m = m mod C; the per-graph loss
  is -sum_c q_mc log softmax(logits)_c (numpy), minimal where the teacher outputs q_m."""
  generator = fake_graphs.FakeGraphGenerator(30, 4, 3, 3, seed=0, target_concentration=1.0)
  q = generator.target_probabilities
  assert q.shape == (30, 3)
  np.testing.assert_allclose(q.sum(-1), 1.0, rtol=1e-6)
  np.testing.assert_array_equal(q.argmax(-1), np.arange(30) % 3)
  assert 0.34 < q.max(-1).min() and q.max(-1).max() < 1.0    # soft, not one-hot
  logits = np.random.default_rng(1).normal(size=(30, 3)).astype(np.float32)
  log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  np.testing.assert_allclose(generator.target_loss(tf.constant(logits)).numpy(),
                             -(q * log_p).sum(-1), rtol=1e-5)
  at_target = generator.target_loss(tf.constant(np.log(q))).numpy()
  assert np.all(at_target <= generator.target_loss(tf.constant(logits)).numpy() + 1e-6)
  np.testing.assert_array_equal(generator.snapshot().target_probabilities, q)
  hard = fake_graphs.FakeGraphGenerator(4, 4, 3, 2, seed=0)
  assert hard.target_probabilities is None
  np.testing.assert_allclose(
      hard.target_loss(tf.constant(logits[:4, :2])).numpy(),
      tf.nn.sparse_softmax_cross_entropy_with_logits(hard.targets, logits[:4, :2]).numpy())
  with pytest.raises(ValueError, match="target_concentration"):
    fake_graphs.FakeGraphGenerator(4, 4, 3, 2, target_concentration=-1.0)


@pytest.mark.parametrize("weight", [0.0, 2.0])
def test_hint_term_adds_the_mean_squared_node_state_difference(mutag, mutag_teacher, weight):
  """One batch of every fake graph, a step too small to move the weights: the epoch's loss
  is T^2 KL + w * mean_l mean((h_S^l - h_T^l)^2), checked against numpy."""
  from edgegnn.distill import soft_targets
  from edgegnn.distill.hidden_states import with_hidden_states
  generator = fake_graphs.FakeGraphGenerator(8, 8, mutag.num_features, 2, seed=0)
  student = _student(mutag)
  seen = []
  history = gfkd.train_on_generator(mutag_teacher, student, generator, epochs=1,
                                    learning_rate=1e-12, batch_size=8, temperature=2.0,
                                    hint_weight=weight, on_batch=seen.append)
  feed, = seen
  layers = gfkd.default_hint_layers(student)
  assert layers == ["conv0", "conv1"]
  names = feeds.model_input_names(student)
  teacher_out = with_hidden_states(mutag_teacher, layers)(feeds.select(feed, names))
  student_out = with_hidden_states(student, layers)(feeds.select(feed, names))
  hint = np.mean([np.mean((student_out[l].numpy() - teacher_out[l].numpy()) ** 2)
                  for l in layers])
  assert hint > 0.01
  kd = float(soft_targets.soft_target_loss(student_out["logits"], teacher_out["logits"], 2.0))
  assert history[0]["train_loss"] == pytest.approx(kd + weight * hint, rel=1e-4)


def test_hint_layers_must_exist_in_both_models_with_equal_widths(mutag, mutag_teacher):
  narrow = build_model(dataclasses.replace(STUDENT, hidden_units=8),
                       num_features=mutag.num_features, num_classes=mutag.num_classes,
                       task="graph", batched=True)
  generator = fake_graphs.FakeGraphGenerator(8, 8, mutag.num_features, 2, seed=0)
  common = dict(epochs=1, learning_rate=0.01, batch_size=8, temperature=1.0, hint_weight=1.0)
  with pytest.raises(ValueError, match="'conv0' has width 16 in the teacher and 8 in the "
                                       "student"):
    gfkd.train_on_generator(mutag_teacher, narrow, generator, **common)
  with pytest.raises(ValueError, match="has no hidden layer 'conv9'"):
    gfkd.train_on_generator(mutag_teacher, _student(mutag), generator, hint_layers=["conv9"],
                            **common)
  with pytest.raises(ValueError, match="gfkd_hint_weight must be >= 0"):
    DistillConfig(method="gfkd", gfkd_hint_weight=-1.0)
