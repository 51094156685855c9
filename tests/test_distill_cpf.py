"""CPF's PLP + FT layer: propagation vs a numpy reference, layouts, gradients, save/reload."""
import numpy as np
import pytest

from edgegnn.data import Graph
from edgegnn.distill import cpf
from edgegnn.models import feeds
import tensorflow as tf

# 0 <- 1, 1 <- 0, 1 <- 2, 2 <- 1, 3 <- 2 ; node 4 is isolated.
SOURCE = np.array([1, 0, 2, 1, 2], np.int32)
TARGET = np.array([0, 1, 1, 2, 3], np.int32)
N, F, C = 5, 4, 3
RNG = np.random.default_rng(7)
X = RNG.normal(size=(N, F)).astype(np.float32)
GRAPH = Graph(X, SOURCE, TARGET)
LABELLED, LABELS = np.array([0, 3]), np.array([2, 0])


def _layer(steps=2, confidence="inductive", self_loops=True):
  layer = cpf.ParameterizedLabelPropagation(N, C, num_steps=steps, confidence=confidence,
                                            add_self_loops=self_loops)
  layer((X, GRAPH.to_graph_tensor()))
  rng = np.random.default_rng(11)
  for w in layer.trainable_weights:
    w.assign(rng.normal(size=w.shape).astype(np.float32))
  layer.set_prior(LABELLED, LABELS)
  return layer


def _numpy_plp(layer, steps, self_loops=True):
  weights = {w.name.split("/")[-1].split(":")[0]: w.numpy() for w in layer.weights}
  src, tgt = SOURCE, TARGET
  if self_loops:
    src, tgt = np.concatenate([src, np.arange(N)]), np.concatenate([tgt, np.arange(N)])
  if layer.confidence == "inductive":
    c = (X @ weights["confidence_kernel"])[:, 0]
  else:
    c = weights["node_confidence"][:, 0]
  ft_kernel = [w.numpy() for w in layer.feature_transform.weights]
  scores = X @ ft_kernel[0] + ft_kernel[1]
  ft = np.exp(scores - scores.max(1, keepdims=True))
  ft /= ft.sum(1, keepdims=True)
  gate = 1 / (1 + np.exp(-weights["gate_logits"][:, 0]))
  prior = np.full([N, C], 1 / C)
  prior[LABELLED] = np.eye(C)[LABELS]
  f = prior.copy()
  for _ in range(steps):
    new = np.zeros_like(f)
    for v in range(N):
      nbrs = src[tgt == v]
      if len(nbrs):
        w = np.exp(c[nbrs]) / np.exp(c[nbrs]).sum()
        new[v] = gate[v] * (w[:, None] * f[nbrs]).sum(0)
      new[v] += (1 - gate[v]) * ft[v]
    new[LABELLED] = prior[LABELLED]
    f = new
  return np.log(f + layer.eps)


@pytest.mark.parametrize("steps", [1, 3])
@pytest.mark.parametrize("confidence", cpf.CONFIDENCES)
@pytest.mark.parametrize("self_loops", [True, False])
def test_plp_matches_numpy(steps, confidence, self_loops):
  layer = _layer(steps, confidence, self_loops)
  got = layer((X, GRAPH.to_graph_tensor())).numpy()
  np.testing.assert_allclose(got, _numpy_plp(layer, steps, self_loops), rtol=1e-5, atol=1e-5)
  probs = np.exp(got)
  np.testing.assert_allclose(probs[:4].sum(1), 1.0, atol=1e-5)   # nodes with neighbours
  np.testing.assert_allclose(probs[LABELLED], np.eye(C)[LABELS], atol=1e-6)


def test_plp_hand_computed_one_step():
  """Uniform confidences, gate 1: one step averages the neighbours' (and own) labels."""
  layer = _layer(1)
  layer.confidence_kernel.assign(np.zeros([F, 1], np.float32))
  layer.gate_logits.assign(np.full([N, 1], 50.0, np.float32))
  probs = np.exp(layer((X, GRAPH.to_graph_tensor())).numpy())
  uniform = np.full(C, 1 / C)
  # node 1 <- {0 (label 2), 2 (uniform), 1 itself (uniform)}
  np.testing.assert_allclose(probs[1], (np.eye(C)[2] + 2 * uniform) / 3, atol=1e-5)
  # node 2 <- {1, 2}: both uniform; node 4 only itself: uniform
  np.testing.assert_allclose(probs[2], uniform, atol=1e-5)
  np.testing.assert_allclose(probs[4], uniform, atol=1e-5)


def test_plp_sparse_equals_dense():
  layer = _layer(3)
  sparse = layer((X, GRAPH.to_graph_tensor())).numpy()
  dense = layer((X, tf.constant(GRAPH.dense_adjacency()))).numpy()
  np.testing.assert_allclose(sparse, dense, rtol=1e-5, atol=1e-5)


def test_plp_gradients_reach_confidence_gate_and_transform():
  layer = _layer(2)
  with tf.GradientTape() as tape:
    out = layer((X, GRAPH.to_graph_tensor()), training=True)
    loss = -tf.reduce_sum(out[1:3, 0]) - tf.reduce_sum(out[4, 1])
  grads = tape.gradient(loss, layer.trainable_weights)
  names = [w.name for w in layer.trainable_weights]
  assert all(g is not None and np.abs(tf.convert_to_tensor(g).numpy()).sum() > 0
             for g in grads), names
  assert not any("prior" in n or "mask" in n for n in names)
  # finite-difference check of one confidence weight (float32: loose tolerance)
  kernel = layer.confidence_kernel
  index = 1
  base = kernel.numpy().copy()
  def value(delta):
    w = base.copy(); w[index, 0] += delta
    kernel.assign(w)
    out = layer((X, GRAPH.to_graph_tensor())).numpy()
    return -out[1:3, 0].sum() - out[4, 1]
  numeric = (value(1e-2) - value(-1e-2)) / 2e-2
  kernel.assign(base)
  grad = tf.convert_to_tensor(grads[names.index(kernel.name)]).numpy()[index, 0]
  np.testing.assert_allclose(grad, numeric, rtol=2e-2, atol=1e-4)


def test_cpf_student_save_and_reload_exact_types(tmp_path):
  model = cpf.build_cpf_student(F, C, N, LABELLED, LABELS, num_steps=2, hidden_units=6,
                                dropout=0.0)
  rng = np.random.default_rng(5)
  for w in model.trainable_weights:   # the prior (non-trainable) stays a valid prior
    w.assign(w + rng.normal(scale=0.3, size=w.shape).astype(np.float32))
  feed = feeds.select(feeds.graph_feed(GRAPH), feeds.model_input_names(model))
  expected = model(feed)["logits"].numpy()
  path = str(tmp_path / "cpf.keras")
  model.save(path)
  loaded = tf.keras.models.load_model(path)
  assert [type(l) for l in loaded.layers] == [type(l) for l in model.layers]
  assert type(loaded.get_layer("plp")) is cpf.ParameterizedLabelPropagation
  assert type(loaded.get_layer("plp").feature_transform) is tf.keras.Sequential
  assert [l.get_config() for l in loaded.layers] == [l.get_config() for l in model.layers]
  for a, b in zip(loaded.get_weights(), model.get_weights()):
    np.testing.assert_array_equal(a, b)
  np.testing.assert_allclose(loaded(feed)["logits"].numpy(), expected, rtol=1e-6, atol=1e-6)
  np.testing.assert_allclose(np.exp(expected[LABELLED]), np.eye(C)[LABELS], atol=1e-6)


@pytest.mark.parametrize("kwargs,words", [
    (dict(confidence="attention"), "confidence"), (dict(num_steps=0), "num_steps"),
    (dict(dropout=1.0), "dropout"), (dict(num_nodes=0), "num_nodes")])
def test_invalid_options_raise_in_init(kwargs, words):
  options = dict(num_nodes=N, num_classes=C) | kwargs
  with pytest.raises(ValueError, match=words):
    cpf.ParameterizedLabelPropagation(**options)


def test_set_prior_rejects_bad_labels():
  layer = _layer()
  with pytest.raises(ValueError, match="labels must be in"):
    layer.set_prior([0], [C])


@pytest.mark.parametrize("eps,finite", [(1e-8, False), (None, True)])
def test_float16_artifact_keeps_the_log_floor(tmp_path, eps, finite):
  """Clamped nodes have f = one-hot, so log(f + eps) = log(eps) off their class. In a
  float16 artifact eps = 1e-8 rounds to 0 and gives -inf; the default floor (1e-6) survives,
  and `verify` rejects the -inf artifact even though its argmax agrees."""
  import types
  from edgegnn.deploy import convert as convert_lib, runtimes, verify as verify_lib
  model = cpf.build_cpf_student(F, C, N, LABELLED, LABELS, num_steps=2, dropout=0.0)
  if eps is not None:
    plp = model.get_layer("plp")
    plp.eps = eps
  feed = feeds.graph_feed(GRAPH)
  reference = model(feed)["logits"].numpy()
  assert np.isfinite(reference).all()
  result = convert_lib.convert(model, "tflite-float16", tmp_path / "cpf16.tflite")
  logits = runtimes.open_runtime(result.path).run(feed)["logits"]
  dataset = types.SimpleNamespace(task="node", graph=GRAPH, labels=np.zeros(N, np.int64))
  check = dict(dataset=dataset, test_index=np.arange(N), reference_logits=reference,
               input_names=feeds.model_input_names(model), layout="sparse")
  if finite:
    assert np.isfinite(logits).all()
    np.testing.assert_allclose(logits, reference, atol=0.05)
    assert verify_lib.verify(result.path, **check).agreement == 1.0
  else:
    assert np.isneginf(logits[LABELLED]).sum() == len(LABELLED) * (C - 1)
    with pytest.raises(verify_lib.AgreementError, match=r"4 logits in 2 of 5 test examples "
                                                        r"are inf or NaN"):
      verify_lib.verify(result.path, **check)


@pytest.mark.parametrize("kwargs,words", [
    (dict(layout="dense"), "built in the sparse layout only; got layout 'dense'"),
    (dict(capacity=10), "bound to the one graph of 5 nodes it was trained on .* got layout "
                        "'sparse', capacity 10"),
    (dict(batched=True), "got layout 'sparse', batched True"),
    (dict(max_neighbors=4), "got layout 'sparse', max_neighbors 4"),
    (dict(formats=["tflite-float32", "tflite-int8", "lce"]),
     r"float compute only .*; got \['tflite-int8', 'lce'\]"),
])
def test_check_export_names_what_a_cpf_student_cannot_do(kwargs, words):
  with pytest.raises(ValueError, match=words):
    cpf.check_export(N, **kwargs)


def test_check_export_accepts_its_graph_in_every_float_format():
  cpf.check_export(N, capacity=N, formats=cpf.EXPORT_FORMATS)
  cpf.check_export(None, capacity=2708)          # size unknown yet (a pipeline file loading)
