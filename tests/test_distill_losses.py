"""Soft-target KD, NDR and ADR against numpy references on hand-built inputs, gradients."""
import numpy as np
import pytest

from edgegnn.distill import self_distillation as sd
from edgegnn.distill import soft_targets
import tensorflow as tf

RNG = np.random.default_rng(3)
STUDENT = RNG.normal(size=(5, 3)).astype(np.float32)
TEACHER = RNG.normal(size=(5, 3)).astype(np.float32)
LABELS = np.array([0, 2, 1, 1, 0], np.int32)


def _log_softmax(z):
  z = z - z.max(-1, keepdims=True)
  return z - np.log(np.exp(z).sum(-1, keepdims=True))


def _numpy_kd(s, t, y, temperature, alpha, label_rows=None, soft_rows=None):
  ls = label_rows if label_rows is not None else np.arange(len(s))
  ss = soft_rows if soft_rows is not None else np.arange(len(s))
  ce = -np.mean(_log_softmax(s[ls])[np.arange(len(ls)), y])
  pt = np.exp(_log_softmax(t[ss] / temperature))
  kl = np.sum(pt * (np.log(pt) - _log_softmax(s[ss] / temperature)), -1).mean()
  return alpha * ce + (1 - alpha) * temperature ** 2 * kl


@pytest.mark.parametrize("temperature,alpha", [(1.0, 0.5), (4.0, 0.1), (0.5, 0.0), (2.0, 1.0)])
def test_kd_loss_matches_numpy(temperature, alpha):
  got = soft_targets.kd_loss(tf.constant(STUDENT), tf.constant(TEACHER), LABELS, temperature,
                             alpha)
  np.testing.assert_allclose(float(got), _numpy_kd(STUDENT, TEACHER, LABELS, temperature,
                                                   alpha), rtol=1e-5)


def test_kd_loss_rows_select_labelled_and_soft_nodes():
  label_rows, soft_rows = np.array([1, 3]), np.array([0, 2, 4])
  got = soft_targets.kd_loss(tf.constant(STUDENT), tf.constant(TEACHER), LABELS[label_rows],
                             2.0, 0.3, label_rows=label_rows, soft_rows=soft_rows)
  want = _numpy_kd(STUDENT, TEACHER, LABELS[label_rows], 2.0, 0.3, label_rows, soft_rows)
  np.testing.assert_allclose(float(got), want, rtol=1e-5)


def test_soft_target_loss_is_zero_at_teacher_and_gradient_is_t_scaled():
  assert abs(float(soft_targets.soft_target_loss(tf.constant(TEACHER), tf.constant(TEACHER),
                                                 3.0))) < 1e-6
  s, t = tf.Variable(STUDENT), tf.Variable(TEACHER)
  temperature = 2.0
  with tf.GradientTape() as tape:
    loss = soft_targets.soft_target_loss(s, t, temperature)
  grad_s, grad_t = tape.gradient(loss, [s, t])
  assert grad_t is None
  # d/ds of T^2 KL(p_T(t) || p_T(s)) = T (p_T(s) - p_T(t)) / rows.
  want = temperature * (np.exp(_log_softmax(STUDENT / temperature))
                        - np.exp(_log_softmax(TEACHER / temperature))) / len(STUDENT)
  np.testing.assert_allclose(grad_s.numpy(), want, rtol=1e-4, atol=1e-7)


def test_soft_label_loss_matches_numpy():
  q = np.exp(_log_softmax(TEACHER))
  got = soft_targets.soft_label_loss(tf.constant(_log_softmax(STUDENT)), tf.constant(q))
  np.testing.assert_allclose(float(got), -np.mean(np.sum(q * _log_softmax(STUDENT), -1)),
                             rtol=1e-6)


@pytest.mark.parametrize("kwargs,words", [(dict(temperature=0.0), "temperature"),
                                          (dict(alpha=1.5), "alpha")])
def test_invalid_kd_options(kwargs, words):
  options = dict(temperature=1.0, alpha=0.5) | kwargs
  with pytest.raises(ValueError, match=words):
    soft_targets.kd_loss(tf.constant(STUDENT), tf.constant(TEACHER), LABELS, **options)


# 0 <- 1, 0 <- 2, 1 <- 0, 2 <- 1, 2 <- 3 ; node 3 and node 4 have no in-neighbour.
SOURCE = np.array([1, 2, 0, 1, 3], np.int32)
TARGET = np.array([0, 0, 1, 2, 2], np.int32)


def _numpy_ndr(h, self_loops=False):
  out = np.zeros(len(h))
  for v in range(len(h)):
    nbrs = SOURCE[TARGET == v]
    if self_loops:
      nbrs = np.append(nbrs, v)
    if not len(nbrs):
      continue
    mean = h[nbrs].mean(0)
    out[v] = 1 - h[v] @ mean / (np.linalg.norm(h[v]) * np.linalg.norm(mean))
  return out


def test_neighborhood_discrepancy_matches_numpy():
  got = sd.neighborhood_discrepancy(tf.constant(STUDENT), SOURCE, TARGET, 5).numpy()
  np.testing.assert_allclose(got, _numpy_ndr(STUDENT), rtol=1e-5, atol=1e-6)
  assert got[3] == 0 and got[4] == 0
  smooth = np.tile(STUDENT[:1], (5, 1))
  np.testing.assert_allclose(sd.neighborhood_discrepancy(tf.constant(smooth), SOURCE, TARGET,
                                                         5).numpy(), 0, atol=1e-6)


def test_neighborhood_discrepancy_with_self_loops_matches_numpy():
  got = sd.neighborhood_discrepancy(tf.constant(STUDENT), SOURCE, TARGET, 5,
                                    self_loops=True).numpy()
  np.testing.assert_allclose(got, _numpy_ndr(STUDENT, self_loops=True), rtol=1e-5, atol=1e-6)
  # Nodes 3 and 4 have only themselves: their mean is h_v, so their NDR is 0.
  np.testing.assert_allclose(got[3:], 0, atol=1e-6)
  assert not np.allclose(got[:3], _numpy_ndr(STUDENT)[:3])  # the option changes the mean


def _numpy_adr(ss):
  total = 0.0
  for a, b in zip(ss[:-1], ss[1:]):
    if np.linalg.norm(a) > np.linalg.norm(b):
      total += np.mean((a - b) ** 2)
  return total


def test_adr_loss_matches_numpy_and_stops_gradient_into_shallow_layer():
  layers = [RNG.normal(size=(5, 4)).astype(np.float32) for _ in range(3)]
  layers[2] = layers[1] * 0.2 + layers[2] * 0.1   # the deepest layer over-smooths
  variables = [tf.Variable(h) for h in layers]
  with tf.GradientTape(persistent=True) as tape:
    ndr = [sd.neighborhood_discrepancy(v, SOURCE, TARGET, 5) for v in variables]
    loss = sd.adr_loss(ndr)
  want = _numpy_adr([_numpy_ndr(h) for h in layers])
  np.testing.assert_allclose(float(loss), want, rtol=1e-5)
  # Gradient w.r.t. the deeper NDR vectors only: d/ds^{l+1} = -2 (s^l - s^{l+1}) / N.
  grads = tape.gradient(loss, ndr)
  assert grads[0] is None or np.allclose(grads[0].numpy(), 0)
  s = [n.numpy() for n in ndr]
  for l in (1, 2):
    active = np.linalg.norm(s[l - 1]) > np.linalg.norm(s[l])
    want_grad = -2 * (s[l - 1] - s[l]) / 5 if active else np.zeros(5)
    got = np.zeros(5) if grads[l] is None else grads[l].numpy()
    # s^1 also acts as the teacher of s^2 (stop-gradient): only the student role counts.
    np.testing.assert_allclose(got, want_grad, rtol=1e-5, atol=1e-7)


def test_ndr_gradient_matches_finite_differences():
  h = tf.Variable(STUDENT.astype(np.float64))
  with tf.GradientTape() as tape:
    total = tf.reduce_sum(sd.neighborhood_discrepancy(h, SOURCE, TARGET, 5) ** 2)
  grad = tape.gradient(total, h).numpy()
  eps = 1e-6
  for index in [(0, 0), (1, 2), (3, 1)]:
    bumped = STUDENT.astype(np.float64).copy()
    bumped[index] += eps
    numeric = (np.sum(_numpy_ndr(bumped) ** 2) - np.sum(_numpy_ndr(STUDENT.astype(np.float64))
                                                         ** 2)) / eps
    np.testing.assert_allclose(grad[index], numeric, rtol=1e-3, atol=1e-6)


def _numpy_adr_node_gate(ss):
  return sum(np.mean(np.where(a > b, (a - b) ** 2, 0.0)) for a, b in zip(ss[:-1], ss[1:]))


def test_adr_node_gate_matches_numpy_and_never_pulls_discrepancy_down():
  s0 = tf.constant([0.5, 0.1, 0.4, 0.0, 0.3])
  s1 = tf.Variable([0.2, 0.3, 0.4, 0.1, 0.1])   # nodes 1 and 3 are more discrepant deeper
  with tf.GradientTape() as tape:
    loss = sd.adr_loss([s0, s1], gate="node")
  # Only nodes 0 and 4 are pulled: (0.3^2 + 0.2^2) / 5.
  np.testing.assert_allclose(float(loss), (0.09 + 0.04) / 5, rtol=1e-6)
  np.testing.assert_allclose(float(loss), _numpy_adr_node_gate([s0.numpy(), s1.numpy()]),
                             rtol=1e-6)
  # d/ds1_v = -2 (s0_v - s1_v) / N where s0_v > s1_v, else 0: the gradient step only raises
  # the deeper NDR.
  np.testing.assert_allclose(tape.gradient(loss, s1).numpy(),
                             [-2 * 0.3 / 5, 0, 0, 0, -2 * 0.2 / 5], rtol=1e-5, atol=1e-7)
  # The paper's layer gate is open here (||s0|| > ||s1||) and pulls nodes 1 and 3 down too.
  with tf.GradientTape() as tape:
    layer = sd.adr_loss([s0, s1], gate="layer")
  assert tape.gradient(layer, s1).numpy()[1] > 0


def test_adr_node_gate_on_ndr_of_hand_built_graph():
  layers = [RNG.normal(size=(5, 4)).astype(np.float32) for _ in range(3)]
  ndr = [sd.neighborhood_discrepancy(tf.constant(h), SOURCE, TARGET, 5) for h in layers]
  np.testing.assert_allclose(float(sd.adr_loss(ndr, gate="node")),
                             _numpy_adr_node_gate([_numpy_ndr(h) for h in layers]), rtol=1e-5)


def test_adr_rejects_unknown_gate():
  with pytest.raises(ValueError, match="gate must be one of layer, node, got 'nodes'"):
    sd.adr_loss([tf.zeros(3), tf.zeros(3)], gate="nodes")


def test_adr_needs_two_layers():
  with pytest.raises(ValueError, match="at least two layers"):
    sd.adr_loss([tf.zeros(3)])
