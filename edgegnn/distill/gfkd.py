"""Graph-free knowledge distillation (GFKD, Deng & Zhang, 2021) for graph classification.

No training graph is available; only the trained teacher is. GFKD learns M fake graphs of
n nodes from the teacher's forward passes, then distils the teacher into the student on
samples of those graphs only.

Fake graph m has n_m nodes (n_m = n, or drawn uniformly from [n_min, n] once at
initialisation, like the authors' code's 10-29: with a sum readout the student then sees
graphs of several sizes), a Bernoulli distribution over its undirected edges,
p_m,ij = sigmoid(theta_m,ij) (i < j < n_m, no self-loops), and learned node features
X_m = softmax(phi_m) (rows on the simplex, like one-hot atom types), with a target class
y_m (classes balanced over m; or, with `gfkd_target_concentration` beta > 0, a soft target
q_m ~ Dirichlet(beta 1_C) whose largest entry is on y_m, as in Zero-Shot KD's data
impressions, so that CE(., q_m) drives the teacher's output to q_m and the graphs also cover
its uncertain region). The generator minimises, over the structure distribution,

    J(theta, phi) = E_{A ~ Bern(p)} [ mean_m CE(T(A_m, X_m), y_m) + w_BN * R_BN(A, X) ]
                    + w_H * mean_{m, i < n_m} H(X_m,i)

with H(x) = -sum_f x_f log x_f the entropy of a feature row (the authors' one-hot
regulariser: w_H > 0 pushes rows toward one-hot codes, so the argmax / sampled one-hot
rows the student sees are the rows the teacher was optimised on),

    R_BN = sum_{BN layers b} ||mu_b(A, X) - mu_b^T||_2 + ||var_b(A, X) - var_b^T||_2

(b over all the teacher's batch-norm layers, or the first k in call order),

where mu_b, var_b are the batch statistics of the inputs of the teacher's batch-norm layer b
on the fake batch and mu_b^T, var_b^T its running statistics (the prior the teacher keeps of
its training data). phi gets exact gradients by back-propagation; the discrete A does not:
theta gets the score-function (REINFORCE) estimate from S samples with the leave-one-out
mean as the baseline,

    d J / d theta_m,ij ~= 1/S sum_s (L_m(A^s) - mean_{s' != s} L_m(A^s')) (A^s_m,ij - p_m,ij)

(d log Bern(A; sigmoid(theta)) / d theta = A - p), never back-propagating through A. The
fake graphs themselves (`FakeGraphGenerator`) and the priors on them that read no loss, the
valence cap (`gfkd_max_degree`) and the node-type support (`gfkd_feature_support`), are in
`edgegnn.distill.fake_graphs`.

The student then minimises T^2 KL(p_T(teacher) || p_T(student)) (plus, with the option
`gfkd_hint_weight` w > 0, the hint term of FitNets, Romero et al., ICLR 2015, at the
teacher's and student's hidden layers l in `gfkd_hint_layers`, default every conv{i}:

    w * 1/|layers| sum_l 1/(N d_l) ||h_S^l - h_T^l||_F^2

over the batch's N nodes, so each fake graph teaches the student the teacher's node states
at every layer, not only its C logits) on batches of fresh samples
A ~ Bern(p) with features X (by default one-hot rows drawn from softmax(phi), so the student
sees categorical node features like the real data's, and new ones every epoch). With the
option `gfkd_snapshot_every` k > 0 (`distill_on_generated_graphs`) it trains on a pool: the
fake graphs (theta, phi) as they were at generator steps 0, k, 2k, ... and at the end, every
snapshot visited each epoch. The final graphs are prototypes the teacher labels with near
certainty; the earlier ones lie between them and the random start, where the teacher's
decision is less sure, so the student sees more of the teacher's function than its extremes.

Adversarial rounds (option `gfkd_adversarial_rounds` R > 0; the competition term of
adaptive DeepInversion, Yin et al., CVPR 2020, applied to GFKD's generator): after the
first distillation, round r = 1..R fits a new generator whose per-graph loss is

    L_m = CE(T(A_m, X_m), y_m) - w_adv * JS(p(T(A_m, X_m)) || p(S(A_m, X_m)))

(plus the same priors; S the student as the previous round left it, only read), so the
new graphs are ones the teacher labels y_m but the student does not yet agree on; they join
the pool and the student trains `gfkd_adversarial_epochs` more epochs on all of it.

`train_on_generator` takes the teacher, the student and the generator(s) only: no dataset is
passed to it.
"""
from __future__ import annotations

import contextlib
from typing import Callable, Optional, Sequence

import numpy as np

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.distill import soft_targets
from edgegnn.engine import Batch, accuracy, fit, loss_and_gradients, predict
from edgegnn.distill.fake_graphs import (FakeGraphGenerator, generated_batches,
                                         teacher_feature_mix)
from edgegnn.distill.hidden_states import with_hidden_states
from edgegnn.models import feeds
from edgegnn.training.tasks import GraphTask
from edgegnn.training.trainer import TrainResult


def _batch_norm_layers(model: tf.keras.Model) -> list[tf.keras.layers.BatchNormalization]:
  return [m for m in model.submodules if isinstance(m, tf.keras.layers.BatchNormalization)]


@contextlib.contextmanager
def recording_batch_norm_inputs(model: tf.keras.Model):
  """Within the block, every call of a BatchNormalization layer of `model` appends
  (layer, its input) to the yielded list. The layers compute exactly as before."""
  records = []
  layers = _batch_norm_layers(model)
  for layer in layers:
    original = layer.call

    def recorder(inputs, *args, _layer=layer, _original=original, **kwargs):
      records.append((_layer, inputs))
      return _original(inputs, *args, **kwargs)
    layer.call = recorder
  try:
    yield records
  finally:
    for layer in layers:
      del layer.call


def batch_norm_prior(records) -> tf.Tensor:
  """R_BN over recorded (layer, input) pairs (see module doc)."""
  total = tf.constant(0.0)
  for layer, inputs in records:
    mean, variance = tf.nn.moments(inputs, axes=[0])
    total += tf.norm(mean - layer.moving_mean) + tf.norm(variance - layer.moving_variance)
  return total


def score_function_gradient(losses: np.ndarray, samples: np.ndarray,
                            probabilities: np.ndarray) -> np.ndarray:
  """REINFORCE estimate of d E_{A ~ Bern(p)}[L_m(A)] / d theta for p = sigmoid(theta).

  Args:
    losses: [S, M] loss of graph m under sample s.
    samples: [S, M, n, n] the sampled 0/1 adjacencies.
    probabilities: [M, n, n] p.

  Returns:
    [M, n, n]: 1/S sum_s (L_m(A^s) - b_s) (A^s - p), per entry, with the leave-one-out
    baseline b_s = mean_{s' != s} L_m(A^s') (unbiased; needs S >= 2).
  """
  num_samples = losses.shape[0]
  advantage = (losses - losses.mean(0, keepdims=True)) * num_samples / (num_samples - 1)
  return (advantage[:, :, None, None] * (samples - probabilities[None])).mean(0)


def jensen_shannon(logits_a: tf.Tensor, logits_b: tf.Tensor) -> tf.Tensor:
  """JS(p_a || p_b) per row, p = softmax(logits), in nats (0 <= JS <= log 2):

      JS = 1/2 KL(p_a || m) + 1/2 KL(p_b || m),   m = (p_a + p_b) / 2
  """
  log_a, log_b = tf.nn.log_softmax(logits_a, -1), tf.nn.log_softmax(logits_b, -1)
  p_a, p_b = tf.exp(log_a), tf.exp(log_b)
  log_m = tf.math.log(0.5 * (p_a + p_b) + 1e-12)
  return 0.5 * tf.reduce_sum(p_a * (log_a - log_m) + p_b * (log_b - log_m), -1)


def fit_generator(teacher: tf.keras.Model, generator: FakeGraphGenerator, *, steps: int,
                  learning_rate: float, samples: int, bn_weight: float,
                  entropy_weight: float = 0.0, bn_layers: int = 0, seed: int = 0,
                  on_step: Optional[Callable[[int], None]] = None,
                  student: Optional[tf.keras.Model] = None,
                  adversarial_weight: float = 0.0) -> list[dict[str, float]]:
  """Learns the generator from the teacher's forward passes (REINFORCE for structure).

  bn_layers: R_BN sums over the first `bn_layers` batch-norm layers the forward pass calls
  (0: all of them).
  on_step: called with the number of steps taken after each step (e.g. to keep snapshots).
  student, adversarial_weight: with a student and w_adv > 0, each graph's loss also gets
  - w_adv * JS(p(teacher) || p(student)) (the competition term of adaptive DeepInversion,
  Yin et al., CVPR 2020): the generator seeks graphs the teacher labels as its target but
  the current student gets wrong. The student is only read (its weights do not change).
  """
  if adversarial_weight < 0:
    raise ValueError(f"adversarial_weight must be >= 0, got {adversarial_weight}.")
  if adversarial_weight and student is None:
    raise ValueError("adversarial_weight > 0 needs the student whose disagreement with the "
                     "teacher the generator seeks; pass student=.")
  rng = np.random.default_rng([seed, 1])
  optimizer = tf.keras.optimizers.Adam(learning_rate)
  names = feeds.model_input_names(teacher)
  student_names = feeds.model_input_names(student) if adversarial_weight else ()
  use_bn = bn_weight > 0 and bool(_batch_norm_layers(teacher))

  def generator_step(_batch) -> dict[str, float]:
    """One generator update: exact feature gradients, REINFORCE edge gradients."""
    per_sample, feature_grads, adjacencies = [], [], []
    for _ in range(samples):
      sample, adjacency = generator.sample_structure(rng)
      parts = {}

      def objective():
        feed = generator.feed(adjacency, generator.node_features())
        with (recording_batch_norm_inputs(teacher) if use_bn
              else contextlib.nullcontext([])) as records:
          parts["logits"] = teacher(feeds.select(feed, names), training=False)["logits"]
        per_graph = generator.target_loss(parts["logits"])
        if adversarial_weight:
          student_logits = student(feeds.select(feed, student_names), training=False)["logits"]
          parts["disagreement"] = jensen_shannon(parts["logits"], student_logits)
          per_graph -= adversarial_weight * parts["disagreement"]
        used = records[:bn_layers] if bn_layers else records
        parts["prior"] = bn_weight * batch_norm_prior(used) if use_bn else tf.constant(0.0)
        parts["per_graph"] = per_graph
        loss = tf.reduce_mean(per_graph) + parts["prior"]
        if entropy_weight:
          loss += entropy_weight * generator.feature_entropy()
        return loss
      _, (feature_grad,) = loss_and_gradients(objective, [generator.feature_logits])
      feature_grads.append(feature_grad)
      per_sample.append((parts["per_graph"] + parts["prior"]).numpy())
      adjacencies.append(sample)     # scored against B, not the capped A (fake_graphs doc)
    p = generator.edge_probabilities().numpy()
    edge_grad = score_function_gradient(np.stack(per_sample), np.stack(adjacencies), p)
    # The objective is a mean over graphs: scale like the feature gradient.
    edge_grad = edge_grad * generator._upper / generator.num_graphs
    losses = np.stack(per_sample)
    optimizer.apply_gradients([
        (tf.add_n(feature_grads) / samples, generator.feature_logits),
        (tf.constant(edge_grad.astype(np.float32)), generator.edge_logits)])
    record = {"loss": float(losses.mean()),
              "teacher_agreement": float(np.mean(np.argmax(parts["logits"].numpy(), -1)
                                                 == generator.targets))}
    if adversarial_weight:
      record["student_disagreement"] = float(tf.reduce_mean(parts["disagreement"]))
    return record

  callbacks = [lambda epoch, record: on_step(epoch + 1)] if on_step is not None else []
  fitted = fit(generator, None, [Batch({})], epochs=steps, step=generator_step,
               callbacks=callbacks)
  return [{"step": r["epoch"], **{k: v for k, v in r.items() if k != "epoch"}}
          for r in fitted.history]


def train_on_generator(teacher: tf.keras.Model, student: tf.keras.Model,
                       generators: FakeGraphGenerator | Sequence[FakeGraphGenerator], *,
                       epochs: int, learning_rate: float, batch_size: int,
                       temperature: float, weight_decay: float = 0.0, one_hot: bool = True,
                       seed: int = 0, hint_weight: float = 0.0,
                       hint_layers: Sequence[str] = (),
                       on_batch: Optional[Callable[[dict], None]] = None) -> list[dict]:
  """Distils `teacher` into `student` on generated graphs only (no dataset argument).

  Args:
    generators: one generator, or a pool (e.g. snapshots): each epoch takes every pool
      member's batches (each batch from one member) in a shuffled order.
    hint_weight, hint_layers: w and the layers of the hint term (module doc); layers ()
      means every conv{i} layer of the student (the teacher needs layers of those names and
      widths).
    on_batch: called with every feed the student trains on (instrumentation).
  """
  pool = [generators] if isinstance(generators, FakeGraphGenerator) else list(generators)
  if not pool:
    raise ValueError("train_on_generator needs at least one generator; got an empty pool.")
  if hint_weight < 0:
    raise ValueError(f"hint_weight must be >= 0, got {hint_weight}.")
  hints = list(hint_layers) or (default_hint_layers(student) if hint_weight else [])
  tf.keras.utils.set_random_seed(seed)
  rng = np.random.default_rng([seed, 2])
  teacher_names = feeds.model_input_names(teacher)
  if hint_weight:
    teacher, student_probe = _hint_probes(teacher, student, hints)
  else:
    student_probe = student

  def loss(outputs, batch):
    value = soft_targets.soft_target_loss(outputs["logits"], batch.targets["logits"],
                                          temperature)
    if hint_weight:
      value += hint_weight * tf.add_n([
          tf.reduce_mean(tf.square(outputs[name] - batch.targets[name]))
          for name in hints]) / len(hints)
    return value

  def epoch_batches(epoch):
    batches = [feed for generator in pool
               for feed in generated_batches(generator, batch_size, rng, one_hot)]
    if len(pool) > 1:
      batches = [batches[i] for i in rng.permutation(len(batches))]
    for feed in batches:
      if on_batch is not None:
        on_batch(feed)
      teacher_outputs = teacher(feeds.select(feed, teacher_names), training=False)
      yield Batch(feed, targets=dict(teacher_outputs))

  return fit(student, loss, epoch_batches, epochs=epochs, learning_rate=learning_rate,
             weight_decay=weight_decay, outputs_model=student_probe).history


def default_hint_layers(student: tf.keras.Model) -> list[str]:
  """The student's message-passing layers conv0, conv1, ... (the zoo's names)."""
  names = [layer.name for layer in student.layers if layer.name.startswith("conv")
           and layer.name[4:].isdigit()]
  if not names:
    raise ValueError(f"Student {student.name} has no conv{{i}} layers for the hint term; "
                     "name the layers with gfkd_hint_layers.")
  return names


def _hint_probes(teacher: tf.keras.Model, student: tf.keras.Model, names: Sequence[str]
                 ) -> tuple[tf.keras.Model, tf.keras.Model]:
  """Teacher and student exposing the hint layers (sharing their weights); raises
  ValueError if a layer is missing or its widths differ."""
  probes = (with_hidden_states(teacher, names), with_hidden_states(student, names))
  for name in names:
    widths = [int(p.output[name].shape[-1]) for p in probes]
    if widths[0] != widths[1]:
      raise ValueError(f"Hint layer {name!r} has width {widths[0]} in the teacher and "
                       f"{widths[1]} in the student; the hint term compares them entry by "
                       "entry. Give the student the teacher's hidden_units, or choose other "
                       "gfkd_hint_layers.")
  return probes


def _fit_pool(teacher: tf.keras.Model, generator: FakeGraphGenerator, config, seed: int,
              student: Optional[tf.keras.Model] = None, adversarial_weight: float = 0.0
              ) -> tuple[list[FakeGraphGenerator], list[dict]]:
  """Fits `generator` and returns the pool it gives the student (its snapshots every
  `config.gfkd_snapshot_every` steps, then the generator itself) and its history."""
  every = config.gfkd_snapshot_every
  snapshots = [generator.snapshot()] if every else []

  def keep(step):
    if every and step % every == 0 and step < config.gfkd_steps:
      snapshots.append(generator.snapshot())
  history = fit_generator(
      teacher, generator, steps=config.gfkd_steps, learning_rate=config.gfkd_learning_rate,
      samples=config.gfkd_samples, bn_weight=config.gfkd_bn_weight,
      entropy_weight=config.gfkd_entropy_weight, bn_layers=config.gfkd_bn_layers, seed=seed,
      on_step=keep, student=student, adversarial_weight=adversarial_weight)
  return snapshots + [generator], history


def distill_on_generated_graphs(teacher: tf.keras.Model, student: tf.keras.Model, config,
                                *, seed: int = 0
                                ) -> tuple[FakeGraphGenerator, list[dict], list[dict]]:
  """Learns the fake graphs from `teacher` and distils it into `student` on them (and on
  the generator's snapshots when `config.gfkd_snapshot_every` > 0). Takes no dataset.

  With `config.gfkd_adversarial_rounds` R > 0, R adversarial rounds follow: round r fits a
  new generator (seed `seed + 1000 r`) whose loss adds - w_adv * JS(teacher || student) for
  the student as it is after the previous round (`fit_generator`), adds its snapshots and
  final graphs to the pool, and trains the student `config.gfkd_adversarial_epochs` more
  epochs on the whole pool.

  Returns:
    (the last generator, its per-step history (with "round" from round 1 on), the
    student's per-epoch history (likewise)).
  """
  num_features = int(teacher.input["node_features"].shape[-1])
  num_classes = int(teacher.output["logits"].shape[-1])

  support = (teacher_feature_mix(teacher) >= config.gfkd_feature_support
             if config.gfkd_feature_support else None)

  def new_generator(generator_seed):
    return FakeGraphGenerator(config.gfkd_graphs, config.gfkd_nodes, num_features,
                              num_classes, config.gfkd_edge_prior, seed=generator_seed,
                              min_nodes=config.gfkd_min_nodes,
                              target_concentration=config.gfkd_target_concentration,
                              max_degree=config.gfkd_max_degree, feature_support=support)

  def train_student(pool, epochs, student_seed):
    return train_on_generator(
        teacher, student, pool, epochs=epochs, learning_rate=config.learning_rate,
        batch_size=config.batch_size, temperature=config.temperature,
        weight_decay=config.weight_decay, one_hot=config.gfkd_one_hot, seed=student_seed,
        hint_weight=config.gfkd_hint_weight, hint_layers=config.gfkd_hint_layers)
  generator = new_generator(seed)
  pool, generator_history = _fit_pool(teacher, generator, config, seed)
  history = train_student(pool, config.epochs, seed)
  for round_index in range(1, config.gfkd_adversarial_rounds + 1):
    round_seed = seed + 1000 * round_index
    generator = new_generator(round_seed)
    members, steps = _fit_pool(teacher, generator, config, round_seed, student,
                               config.gfkd_adversarial_weight)
    pool = pool + members
    generator_history += [dict(entry, round=round_index) for entry in steps]
    history += [dict(entry, round=round_index)
                for entry in train_student(pool, config.gfkd_adversarial_epochs, round_seed)]
  return generator, generator_history, history


def distill_graph_free(teacher: tf.keras.Model, student: tf.keras.Model, dataset, config,
                       *, seed: int = 0, fold: int = 0) -> TrainResult:
  """GFKD end to end: learn fake graphs, distil on them, then evaluate on fold `fold`'s
  test graphs. The dataset is read only for that evaluation."""
  _, generator_history, history = distill_on_generated_graphs(teacher, student, config,
                                                              seed=seed)
  task = GraphTask.from_fold(dataset, fold)
  test = task.split("test")
  labels = dataset.labels[test]
  metrics = {"seed": seed, "fold": fold, "epochs_run": config.epochs,
             "test_accuracy": accuracy(predict(student, task, test), labels),
             "teacher_test_accuracy": accuracy(predict(teacher, task, test), labels),
             "generator_loss": generator_history[-1]["loss"],
             "generator_teacher_agreement": generator_history[-1]["teacher_agreement"]}
  return TrainResult(model=student, metrics=metrics, history=history)
