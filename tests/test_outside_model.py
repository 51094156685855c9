"""A Keras model built outside edgegnn (plain Keras + a TF-GNN convolution, written here)
that follows the input contract converts, verifies and benchmarks from its .keras file or
SavedModel directory on the user's own graph; one that breaks the contract is refused with
the inputs or outputs at fault, and nothing is written."""
import json

import numpy as np
import pytest
from click.testing import CliRunner

from edgegnn import _keras_env  # noqa: F401  (Keras 2 before TensorFlow)
import tensorflow as tf
import tensorflow_gnn as tfgnn

from edgegnn import data
from edgegnn.cli import main

from test_data_sources import small_graph, write_npz

F, C = 5, 3   # small_graph(): 5 features, 3 classes, 30 nodes


@tf.keras.utils.register_keras_serializable(package="edgegnn_test")
class SumConv(tf.keras.layers.Layer):
  """Builds a GraphTensor from the contract's plain tensors (as TF-GNN's own TFLite tests
  do) and runs TF-GNN's SimpleConv over it: messages Dense(source state), summed at the
  target."""

  def __init__(self, units, **kwargs):
    super().__init__(**kwargs)
    self.units = units
    self.conv = tfgnn.keras.layers.SimpleConv(tf.keras.layers.Dense(units), "sum",
                                              receiver_tag=tfgnn.TARGET)

  def call(self, inputs):
    states, source, target = inputs
    graph = tfgnn.GraphTensor.from_pieces(
        node_sets={"nodes": tfgnn.NodeSet.from_fields(
            sizes=tf.shape(states)[:1], features={tfgnn.HIDDEN_STATE: states})},
        edge_sets={"edges": tfgnn.EdgeSet.from_fields(
            sizes=tf.shape(source), adjacency=tfgnn.Adjacency.from_indices(
                ("nodes", source), ("nodes", target)))})
    return self.conv(graph, edge_set_name="edges")

  def get_config(self):
    return {**super().get_config(), "units": self.units}


def build(names=("node_features", "edge_source", "edge_target"), output="logits"):
  features = tf.keras.Input([F], name=names[0])
  source = tf.keras.Input([], dtype=tf.int32, name=names[1])
  target = tf.keras.Input([], dtype=tf.int32, name=names[2])
  hidden = tf.keras.layers.Dense(8, activation="relu")(features)
  hidden = tf.keras.layers.Concatenate()([hidden, SumConv(8)([hidden, source, target])])
  logits = tf.keras.layers.Dense(C, name="head")(hidden)
  return tf.keras.Model({names[0]: features, names[1]: source, names[2]: target},
                        {output: logits})


def trained_model():
  """The contract model fitted for 40 full-graph steps on small_graph's training nodes."""
  tf.keras.utils.set_random_seed(0)
  model = build()
  features, source, target, labels, splits = small_graph()
  feed = {"node_features": features, "edge_source": source.astype(np.int32),
          "edge_target": target.astype(np.int32)}
  optimizer = tf.keras.optimizers.Adam(0.05)
  for _ in range(40):
    with tf.GradientTape() as tape:
      logits = tf.gather(model(feed, training=True)["logits"], splits["train"])
      loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(
          labels[splits["train"]], logits, from_logits=True))
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                  model.trainable_variables))
  logits = model(feed, training=False)["logits"].numpy()
  test = splits["test"]
  return model, float(np.mean(logits[test].argmax(-1) == labels[test]))


def _convert(tmp_path, model_path, *extra):
  return CliRunner().invoke(main, ["convert", str(model_path), "--dataset",
                                   str(tmp_path / "g.npz"), "-o", str(tmp_path / "m.tflite"),
                                   *extra])


@pytest.mark.parametrize("saved", ["model.keras",
                                   pytest.param("saved_model_dir", marks=pytest.mark.slow)])
def test_outside_keras_model_converts_verifies_and_benchmarks(tmp_path, saved):
  write_npz(tmp_path / "g.npz")
  model, keras_accuracy = trained_model()
  model.save(str(tmp_path / saved))
  result = _convert(tmp_path, tmp_path / saved, "--target", "mobile")
  assert result.exit_code == 0, result.output
  artifact = tmp_path / "m.tflite"
  sidecar = json.loads((tmp_path / "m.tflite.json").read_text())
  assert sidecar["dataset"] == "g" and sidecar["num_classes"] == C
  assert sidecar["dataset_source"]["path"] == str(tmp_path / "g.npz")
  assert {i["name"] for i in sidecar["inputs"]} == {"node_features", "edge_source",
                                                    "edge_target"}
  # The artifact's own predictions: the Keras model's accuracy on the test nodes.
  from ai_edge_litert.interpreter import Interpreter  # pylint: disable=g-import-not-at-top
  features, source, target, labels, splits = small_graph()
  runner = Interpreter(model_path=str(artifact)).get_signature_runner()
  logits = runner(node_features=features, edge_source=source.astype(np.int32),
                  edge_target=target.astype(np.int32))["logits"]
  assert np.mean(logits[splits["test"]].argmax(-1) == labels[splits["test"]]) == keras_accuracy
  assert f"{100 * keras_accuracy:.2f} %" in result.output and "agreement 1.000" in result.output
  # edgegnn bench times it on the user's graph: the sidecar names the source.
  timed = CliRunner().invoke(main, ["bench", str(artifact), "--runs", "2", "--json"])
  assert timed.exit_code == 0, timed.output
  report = json.loads(timed.output)
  assert report["inputs"]["node_features"]["shape"] == [30, F]
  assert report["inputs"]["edge_source"]["shape"] == [60]


@pytest.mark.parametrize("kwargs, named", [
    ({"names": ("x", "senders", "receivers")},
     ["node_features", "edge_source", "edge_target", "x", "senders", "receivers"]),
    ({"names": ("node_features", "src", "edge_target")}, ["edge_source", "src"]),
    ({"output": "scores"}, ["scores", "logits"]),
])
def test_a_model_off_the_contract_is_refused_naming_what_is_missing(tmp_path, kwargs, named):
  write_npz(tmp_path / "g.npz")
  build(**kwargs).save(str(tmp_path / "model.keras"))
  result = _convert(tmp_path, tmp_path / "model.keras")
  assert result.exit_code == 1
  assert isinstance(result.exception, SystemExit)
  assert "model.keras" in result.output and "TypeError" not in result.output
  for word in named:
    assert repr(word) in result.output or f'"{word}"' in result.output, (word, result.output)
  assert sorted(p.name for p in tmp_path.iterdir()) == ["g.npz", "model.keras"]


def test_outside_model_needs_a_dataset_and_the_right_sizes(tmp_path):
  write_npz(tmp_path / "g.npz")
  build().save(str(tmp_path / "model.keras"))
  result = CliRunner().invoke(main, ["convert", str(tmp_path / "model.keras"), "-o",
                                     str(tmp_path / "m.tflite")])
  assert result.exit_code == 1 and "--dataset" in result.output
  # The bundled cora has 1433 features, the model takes 5: refused before converting.
  result = CliRunner().invoke(main, ["convert", str(tmp_path / "model.keras"), "--dataset",
                                     "cora", "-o", str(tmp_path / "m.tflite")])
  assert result.exit_code == 1 and "1433" in result.output and "5" in result.output
  assert not (tmp_path / "m.tflite").exists()
  assert data.load_source(str(tmp_path / "g.npz")).num_features == F


def test_plain_keras_mlp_with_a_logits_layer_converts(tmp_path):
  """A Sequential-style plain Keras MLP (node_features only, last layer named logits)."""
  write_npz(tmp_path / "g.npz")
  features = tf.keras.Input([F], name="node_features")
  hidden = tf.keras.layers.Dense(8, activation="relu")(features)
  model = tf.keras.Model(features, tf.keras.layers.Dense(C, name="logits")(hidden))
  model.save(str(tmp_path / "mlp.h5"))
  result = _convert(tmp_path, tmp_path / "mlp.h5", "--format", "tflite-float16")
  assert result.exit_code == 0, result.output
  sidecar = json.loads((tmp_path / "m.tflite.json").read_text())
  assert [i["name"] for i in sidecar["inputs"]] == ["node_features"]
  assert sidecar["format"] == "tflite-float16" and sidecar["dataset"] == "g"


@tf.keras.utils.register_keras_serializable(package="edgegnn_test")
class MeanPool(tf.keras.layers.Layer):
  """[N, D] node states -> [1, D]: one graph per call, as exported graph models take."""

  def call(self, states):
    return tf.reduce_mean(states, axis=0, keepdims=True)


def test_outside_graph_classifier_converts_against_a_graph_task_source(tmp_path):
  sizes = 3 + np.arange(12) % 3                     # 12 path graphs of 3-5 nodes
  graph_index = np.repeat(np.arange(12), sizes)
  rng = np.random.default_rng(0)
  starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
  pairs = [(s + i, s + i + 1) for s, n in zip(starts, sizes) for i in range(n - 1)]
  np.savez(tmp_path / "graphs.npz",
           node_features=rng.normal(size=(graph_index.size, F)).astype(np.float32),
           edge_source=np.array([a for a, b in pairs] + [b for a, b in pairs]),
           edge_target=np.array([b for a, b in pairs] + [a for a, b in pairs]),
           graph_index=graph_index, graph_labels=np.arange(12) % 2)
  (tmp_path / "graphs.yaml").write_text("{format: npz, path: graphs.npz, folds: 3}\n")
  features = tf.keras.Input([F], name="node_features")
  source = tf.keras.Input([], dtype=tf.int32, name="edge_source")
  target = tf.keras.Input([], dtype=tf.int32, name="edge_target")
  hidden = SumConv(8)([tf.keras.layers.Dense(8, activation="relu")(features), source, target])
  logits = tf.keras.layers.Dense(2)(MeanPool()(hidden))
  tf.keras.Model([features, source, target], {"logits": logits}).save(
      str(tmp_path / "gnn.keras"))
  result = CliRunner().invoke(main, ["convert", str(tmp_path / "gnn.keras"), "--dataset",
                                     str(tmp_path / "graphs.yaml"), "-o",
                                     str(tmp_path / "g.tflite")])
  assert result.exit_code == 0, result.output
  sidecar = json.loads((tmp_path / "g.tflite.json").read_text())
  assert sidecar["task"] == "graph" and sidecar["num_classes"] == 2
  assert "agreement 1.000" in result.output
