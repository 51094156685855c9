"""LSP loss against a numpy reference on a hand-built graph, and its gradient."""
import numpy as np
import pytest

from edgegnn.distill import lsp
import tensorflow as tf

# 0 <- 1, 0 <- 2, 1 <- 0, 2 <- 1, 2 <- 3 ; node 3 has no in-neighbour.
SOURCE = np.array([1, 2, 0, 1, 3], np.int32)
TARGET = np.array([0, 0, 1, 2, 2], np.int32)
RNG = np.random.default_rng(0)
STUDENT = RNG.normal(size=(4, 3)).astype(np.float32)
TEACHER = RNG.normal(size=(4, 3)).astype(np.float32)


def _numpy_lsp(s, t, kernel, sigma=1.0):
  def sim(z, i, j):
    d = np.sum((z[i] - z[j]) ** 2)
    cos = z[i] @ z[j] / np.linalg.norm(z[i]) / np.linalg.norm(z[j])
    return {"distance": -d, "rbf": np.exp(-d / (2 * sigma ** 2)), "linear": z[i] @ z[j],
            "hamming": np.exp(-(z.shape[1] - z[i] @ z[j]) / 2),
            "unit_distance": 2 * cos - 2}[kernel]
  total, count = 0.0, 0
  for i in range(4):
    nbrs = SOURCE[TARGET == i]
    if not len(nbrs):
      continue
    ps = np.exp([sim(s, i, j) for j in nbrs]); ps /= ps.sum()
    pt = np.exp([sim(t, i, j) for j in nbrs]); pt /= pt.sum()
    total += np.sum(ps * (np.log(ps) - np.log(pt)))
    count += 1
  return total / count


@pytest.mark.parametrize("kernel", lsp.KERNELS)
def test_lsp_matches_numpy(kernel):
  got = lsp.lsp_loss(tf.constant(STUDENT), tf.constant(TEACHER), SOURCE, TARGET, 4, kernel)
  np.testing.assert_allclose(float(got), _numpy_lsp(STUDENT, TEACHER, kernel), rtol=1e-5)


def test_lsp_is_zero_for_identical_embeddings_and_flows_only_into_student():
  s, t = tf.Variable(STUDENT), tf.Variable(TEACHER)
  assert abs(float(lsp.lsp_loss(s, s, SOURCE, TARGET, 4))) < 1e-6
  with tf.GradientTape() as tape:
    loss = lsp.lsp_loss(s, t, SOURCE, TARGET, 4)
  grad_s, grad_t = tape.gradient(loss, [s, t])
  grad_s = tf.convert_to_tensor(grad_s)
  assert grad_t is None and np.abs(grad_s.numpy()).sum() > 0
  eps, base = 1e-3, _numpy_lsp(STUDENT, TEACHER, "distance")
  bumped = STUDENT.copy(); bumped[0, 1] += eps
  numeric = (_numpy_lsp(bumped, TEACHER, "distance") - base) / eps
  np.testing.assert_allclose(grad_s.numpy()[0, 1], numeric, rtol=2e-2)


def test_unit_distance_ignores_scale_where_distance_does_not():
  """A teacher 100x smaller than the student: the same directions, so under unit_distance
  the local structures agree (L_LSP = 0); under distance the teacher's is uniform."""
  loss = lambda kernel: float(lsp.lsp_loss(tf.constant(STUDENT), tf.constant(STUDENT / 100),
                                           SOURCE, TARGET, 4, kernel))
  assert abs(loss("unit_distance")) < 1e-6
  uniform = np.zeros((4, 3), np.float32)        # every neighbour equally similar
  np.testing.assert_allclose(loss("distance"), float(lsp.lsp_loss(
      tf.constant(STUDENT), tf.constant(uniform), SOURCE, TARGET, 4, "distance")), rtol=1e-3)
  assert loss("distance") > 0.05
  log_ls = lsp.local_structure(tf.constant(STUDENT), SOURCE, TARGET, 4, "unit_distance")
  np.testing.assert_allclose(
      log_ls.numpy(), lsp.local_structure(tf.constant(7 * STUDENT), SOURCE, TARGET, 4,
                                          "unit_distance").numpy(), atol=1e-6)


def test_unknown_kernel_names_valid_ones():
  with pytest.raises(ValueError, match="distance, rbf, linear, hamming"):
    lsp.lsp_loss(tf.constant(STUDENT), tf.constant(TEACHER), SOURCE, TARGET, 4, "cosine")


def test_union_edges_deduplicates():
  s, t = lsp.union_edges([0, 1], [1, 2], [1, 2], [2, 0])
  assert sorted(zip(s.tolist(), t.tolist())) == [(0, 1), (1, 2), (2, 0)]


def _numpy_lsp_general(s, t, temperature, direction):
  """unit_distance kernel / temperature, either KL direction."""
  def ls(z, i, nbrs):
    u = z / np.linalg.norm(z, axis=1, keepdims=True)
    scores = np.array([-np.sum((u[i] - u[j]) ** 2) for j in nbrs]) / temperature
    e = np.exp(scores - scores.max())
    return e / e.sum()
  total, count = 0.0, 0
  for i in range(4):
    nbrs = SOURCE[TARGET == i]
    if not len(nbrs):
      continue
    ps, pt = ls(s, i, nbrs), ls(t, i, nbrs)
    p, q = (ps, pt) if direction == "student_teacher" else (pt, ps)
    total += np.sum(p * (np.log(p) - np.log(q)))
    count += 1
  return total / count


@pytest.mark.parametrize("direction", lsp.DIRECTIONS)
@pytest.mark.parametrize("temperature", [1.0, 0.25])
def test_lsp_temperature_and_direction_match_numpy(direction, temperature):
  got = lsp.lsp_loss(tf.constant(STUDENT), tf.constant(TEACHER), SOURCE, TARGET, 4,
                     "unit_distance", temperature=temperature, direction=direction)
  np.testing.assert_allclose(float(got), _numpy_lsp_general(STUDENT, TEACHER, temperature,
                                                             direction), rtol=1e-5)


def test_directions_differ_and_teacher_student_flows_only_into_student():
  s, t = tf.Variable(STUDENT), tf.Variable(TEACHER)
  forward = float(lsp.lsp_loss(s, t, SOURCE, TARGET, 4, "unit_distance"))
  with tf.GradientTape() as tape:
    loss = lsp.lsp_loss(s, t, SOURCE, TARGET, 4, "unit_distance", direction="teacher_student")
  grad_s, grad_t = tape.gradient(loss, [s, t])
  assert abs(forward - float(loss)) > 1e-4 and grad_t is None
  eps = 1e-3
  bumped = STUDENT.copy(); bumped[2, 0] += eps
  numeric = (_numpy_lsp_general(bumped, TEACHER, 1.0, "teacher_student")
             - _numpy_lsp_general(STUDENT, TEACHER, 1.0, "teacher_student")) / eps
  np.testing.assert_allclose(tf.convert_to_tensor(grad_s).numpy()[2, 0], numeric, rtol=2e-2)


def test_bad_direction_and_temperature_are_rejected():
  with pytest.raises(ValueError, match="student_teacher, teacher_student"):
    lsp.lsp_loss(tf.constant(STUDENT), tf.constant(TEACHER), SOURCE, TARGET, 4,
                 direction="both")
  with pytest.raises(ValueError, match="temperature must be > 0"):
    lsp.local_structure(tf.constant(STUDENT), SOURCE, TARGET, 4, temperature=0.0)
