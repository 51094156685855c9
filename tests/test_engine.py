"""The training engine: the weight-decay rule and its use by every method, the step's
arithmetic, early stopping, resume, learning-rate schedules, predict / evaluate."""
import numpy as np
import pytest

from edgegnn import engine
import tensorflow as tf  # after edgegnn (Keras 2)

from edgegnn.data import Graph
from edgegnn.engine import decay
from edgegnn.federated.client import LocalTraining
from edgegnn.federated.client_data import NodeClientData
from edgegnn.models import ModelSpec, build_model, feeds
from edgegnn.training import TrainConfig, make_task, train

# The variables weight decay applies to, by their own names: weight matrices and GAT's
# attention vectors. Everything else (biases, batch norm, GIN's epsilon, binary scales,
# CPF's gates and priors) is not decayed.
DECAYED_NAMES = {"kernel", "confidence_kernel", "source_vector", "target_vector",
                 "general_vector"}


def _leaf(variable):
  return variable.name.split("/")[-1].split(":")[0]


def _tiny_model(seed=0):
  tf.keras.utils.set_random_seed(seed)
  x = inputs = tf.keras.Input([3], name="node_features")
  x = tf.keras.layers.Dense(4, activation="relu", name="hidden")(x)
  logits = tf.keras.layers.Dense(2, name="out")(x)
  return tf.keras.Model({"node_features": inputs}, {"logits": logits})


def _tiny_batch(seed=0, n=16):
  x = np.random.default_rng(seed).normal(size=(n, 3)).astype(np.float32)
  return engine.Batch({"node_features": x}, (x[:, 0] + x[:, 1] > 0).astype(np.int32))


@pytest.mark.parametrize("architecture", ["gcn", "gat", "sage", "gin", "mlp"])
def test_decayed_variables_are_the_kernels_and_attention_vectors(architecture):
  model = build_model(ModelSpec(architecture, batch_norm=architecture == "gin"),
                      num_features=5, num_classes=3)
  decayed = {v.ref() for v in engine.decayed_variables(model)}
  for v in model.trainable_variables:
    assert (v.ref() in decayed) == (_leaf(v) in DECAYED_NAMES), v.name
  leaves = {_leaf(v) for v in engine.decayed_variables(model)}
  assert ("source_vector" in leaves) == (architecture == "gat")
  assert not leaves & {"bias", "gamma", "beta", "epsilon"}


def test_cpf_and_binary_students_follow_the_same_rule():
  from edgegnn.binary import BinarySpec, build_binary_model
  from edgegnn.distill.cpf import build_cpf_student
  cpf = build_cpf_student(5, 3, num_nodes=6, labelled_index=np.array([0, 1]),
                          labels=np.array([0, 2]))
  binary = build_binary_model(BinarySpec("gcn", hidden_units=8), precision="binary",
                              num_features=5, num_classes=3)
  for model in (cpf, binary):
    decayed = {v.ref() for v in engine.decayed_variables(model)}
    assert decayed
    for v in model.trainable_variables:
      assert (v.ref() in decayed) == (_leaf(v) in DECAYED_NAMES), v.name


def test_coupled_and_decoupled_decay_arithmetic():
  # A loss with zero gradient isolates the decay: coupled L2 (wd/2 ||W||^2 through SGD
  # with rate r) gives W (1 - r wd); decoupled gives W (1 - r wd) after the step too;
  # biases never move.
  zero = lambda outputs, batch: 0.0 * tf.reduce_sum(outputs["logits"])
  for decoupled in (False, True):
    model = _tiny_model()
    before = {v.name: v.numpy() for v in model.trainable_variables}
    step = engine.TrainStep(model, zero, tf.keras.optimizers.SGD(0.5), weight_decay=0.1,
                            decoupled_weight_decay=decoupled)
    step(_tiny_batch())
    for v in model.trainable_variables:
      factor = 0.95 if _leaf(v) == "kernel" else 1.0
      np.testing.assert_allclose(v.numpy(), before[v.name] * factor, rtol=1e-6)


def test_every_method_decays_the_same_variables_of_a_gat(cora, mutag, monkeypatch):
  """Teacher training, node distillation, GFKD's student and a federated client each build
  their step through `TrainStep`; all of them decay a GAT's attention vectors."""
  seen = []
  original = engine.TrainStep.__init__

  def recording(self, model, *args, **kwargs):
    original(self, model, *args, **kwargs)
    seen.append((model, {_leaf(v) for v in self.decayed}))
  monkeypatch.setattr(engine.TrainStep, "__init__", recording)
  gat = ModelSpec("gat", hidden_units=4, num_heads=2, weight_decay=5e-4)
  teacher = train(gat, cora, TrainConfig(epochs=1), progress=False).model
  from edgegnn.distill import DistillConfig, distill
  distill(teacher, gat, cora, DistillConfig(method="kd", epochs=1), seed=0)
  client = NodeClientData(Graph(cora.graph.node_features, cora.graph.edge_source,
                                cora.graph.edge_target), cora.labels.astype(np.int32),
                          cora.train_index, np.arange(cora.graph.num_nodes))
  LocalTraining(weight_decay=5e-4)(teacher, client, server_round=1, seed=0)
  from edgegnn.distill import gfkd
  from edgegnn.distill.fake_graphs import FakeGraphGenerator
  gin = build_model(ModelSpec("gin"), num_features=mutag.num_features,
                    num_classes=mutag.num_classes, task="graph", batched=True)
  student = build_model(gat, num_features=mutag.num_features, num_classes=mutag.num_classes,
                        task="graph", batched=True)
  generator = FakeGraphGenerator(4, 6, mutag.num_features, mutag.num_classes, 0.2, seed=0)
  gfkd.train_on_generator(gin, student, generator, epochs=1, learning_rate=0.01,
                          batch_size=4, temperature=1.0, weight_decay=5e-4)
  assert len(seen) == 4
  expected = {"kernel", "source_vector", "target_vector"}
  for model, leaves in seen:
    assert leaves == expected == {_leaf(v) for v in engine.decayed_variables(model)}


def test_early_stopping_keeps_the_best_epoch_and_stops_after_patience():
  model = _tiny_model()
  # (accuracy, loss) per epoch: the best is epoch 2 (tie in accuracy with 1, lower loss);
  # with patience 2, epochs 3 and 4 are not better, so training stops after epoch 4.
  scores = iter([(0.5, 1.0), (0.6, 1.0), (0.6, 0.9), (0.6, 0.95), (0.55, 0.5), (0.9, 0.1)])
  weights = []
  result = engine.fit(model, engine.cross_entropy_loss, [_tiny_batch()], epochs=6,
                      early_stopping=engine.EarlyStopping(lambda: next(scores), patience=2),
                      callbacks=[lambda epoch, record: weights.append(model.get_weights())])
  assert (result.best_epoch, result.epochs_run, result.stopped_early) == (2, 5, True)
  assert [r["val_accuracy"] for r in result.history] == [0.5, 0.6, 0.6, 0.6, 0.55]
  for got, want in zip(model.get_weights(), weights[2]):
    np.testing.assert_array_equal(got, want)


class _Killed(Exception):
  pass


def test_a_killed_fit_resumes_to_the_uninterrupted_result(tmp_path):
  batches = [_tiny_batch(0), _tiny_batch(1)]
  val = _tiny_batch(2)

  def run(directory, kill_at=None):
    model = _tiny_model(seed=len(str(directory)))   # a different start: the checkpoint wins
    validate = lambda: tuple(float(x) for x in (
        np.mean(np.argmax(model(val.inputs)["logits"].numpy(), -1) == val.labels),
        engine.cross_entropy(model(val.inputs)["logits"], val.labels)))

    def kill(epoch, record):
      if epoch == kill_at:
        raise _Killed()
    result = engine.fit(model, engine.cross_entropy_loss, batches, epochs=8,
                        learning_rate=engine.halving(0.05, 3), weight_decay=1e-3,
                        early_stopping=engine.EarlyStopping(validate, patience=0),
                        checkpoint_dir=str(directory), checkpoint_every=1, callbacks=[kill])
    return model, result

  whole, whole_result = run(tmp_path / "a")
  with pytest.raises(_Killed):
    run(tmp_path / "b", kill_at=5)
  resumed, resumed_result = run(tmp_path / "b")
  assert resumed_result.history == whole_result.history
  assert resumed_result.best_epoch == whole_result.best_epoch
  for a, b in zip(resumed.get_weights(), whole.get_weights()):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_epoch_schedule_sets_the_rate_the_optimizer_applies():
  model = _tiny_model()
  optimizer = tf.keras.optimizers.Adam(0.01)
  rates = []
  engine.fit(model, engine.cross_entropy_loss, [_tiny_batch()], epochs=5, optimizer=optimizer,
             learning_rate=engine.halving(0.01, 2),
             callbacks=[lambda epoch, record: rates.append(float(optimizer.learning_rate))])
  np.testing.assert_allclose(rates, [0.01, 0.01, 0.005, 0.005, 0.0025], rtol=1e-6)


def test_sampled_batches_take_the_loss_at_their_seed_rows():
  """Mini-batches of different sizes whose loss rows are seed nodes: the step's loss is
  the cross-entropy of the seed rows only (numpy reference)."""
  model = _tiny_model()
  losses = []
  step = engine.TrainStep(model, engine.cross_entropy_loss, tf.keras.optimizers.SGD(0.0))
  for size, seeds in ((10, [0, 3]), (7, [6]), (12, [1, 2, 11])):
    batch = _tiny_batch(size, size)
    sampled = engine.Batch(batch.inputs, batch.labels[seeds], np.array(seeds, np.int32))
    logits = model(batch.inputs)["logits"].numpy()[seeds]
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -np.mean(log_p[np.arange(len(seeds)), batch.labels[seeds]])
    losses.append((float(step(sampled)), expected))
  np.testing.assert_allclose(*zip(*losses), rtol=1e-5)
  result = engine.fit(model, engine.cross_entropy_loss,
                      lambda epoch: [engine.Batch(_tiny_batch(epoch, 5 + epoch).inputs,
                                                  np.array([1], np.int32), np.array([0]))],
                      epochs=3)
  assert [r["epoch"] for r in result.history] == [0, 1, 2]


def test_input_signature_compiles_one_step_for_every_batch_size():
  model = _tiny_model()
  step = engine.TrainStep(model, engine.cross_entropy_loss, tf.keras.optimizers.SGD(0.1),
                          input_signature=True)
  step(_tiny_batch(3, 3))   # the first call also creates the optimizer's variables
  traces = step._signed[(True, False)].experimental_get_tracing_count()
  losses = [float(step(_tiny_batch(n, n))) for n in (5, 9, 13)]
  assert all(np.isfinite(losses))
  assert step._signed[(True, False)].experimental_get_tracing_count() == traces
  with pytest.raises(ValueError, match="targets"):
    step(engine.Batch(_tiny_batch().inputs, _tiny_batch().labels, targets={"t": [1.0]}))


def test_evaluate_matches_numpy_on_node_and_graph_tasks(cora, mutag):
  node = build_model(ModelSpec("gcn"), num_features=cora.num_features,
                     num_classes=cora.num_classes)
  task = make_task(cora)
  logits = node(feeds.select(task.full_feed(), feeds.model_input_names(node)))["logits"]
  logits = logits.numpy()[cora.test_index]
  labels = cora.labels[cora.test_index]
  shifted = logits - logits.max(-1, keepdims=True)
  loss = -np.mean(shifted[np.arange(len(labels)), labels]
                  - np.log(np.exp(shifted).sum(-1)))
  accuracy, got_loss = engine.evaluate(node, task, "test")
  assert accuracy == np.mean(logits.argmax(-1) == labels)
  assert got_loss == pytest.approx(loss, rel=1e-5)
  graph = build_model(ModelSpec("gin"), num_features=mutag.num_features,
                      num_classes=mutag.num_classes, task="graph", batched=True)
  graph_task = make_task(mutag)
  index = graph_task.split("test")
  names = feeds.model_input_names(graph)
  one_by_one = np.concatenate([graph(feeds.select(feeds.batch_feed([mutag.graphs[i]]), names)
                                     )["logits"].numpy() for i in index])
  np.testing.assert_allclose(engine.predict(graph, graph_task, index, batch_size=7),
                             one_by_one, rtol=1e-4, atol=1e-5)
  assert engine.evaluate(graph, graph_task, "test")[0] == np.mean(
      one_by_one.argmax(-1) == mutag.labels[index])
  assert np.isnan(engine.evaluate(graph, graph_task, "val")[0]) or graph_task.split("val") is not None


@pytest.mark.slow
def test_the_docs_example_trains_a_new_method(capsys):
  import pathlib
  import re
  text = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "engine.md").read_text()
  example = re.findall(r"```python\n(.*?)```", text.split("## Example")[1], re.S)[0]
  exec(compile(example, "docs/engine.md", "exec"), {})  # pylint: disable=exec-used
  best_epoch, rest = capsys.readouterr().out.split(" ", 1)
  accuracy = float(rest.strip("()\n").split(",")[0])
  assert int(best_epoch) >= 0 and accuracy >= 0.75   # a GCN on Cora: about 0.8
