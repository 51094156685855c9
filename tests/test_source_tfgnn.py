"""The tfgnn source format: a GraphSchema + TFRecord of GraphTensors written here (with
tfgnn.write_schema / write_example) loads to the arrays of the same graph built in Python;
a heterogeneous schema needs node_set/edge_set; a graph task reads one graph per record."""
import numpy as np
import pytest

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf
import tensorflow_gnn as tfgnn

from edgegnn import data
from edgegnn.data.source_build import SourceError

from test_data_sources import assert_same_as_python, small_graph


def _write(directory, graphs):
  """graph_schema.pbtxt + graphs.tfrecord (one record per GraphTensor)."""
  directory.mkdir(parents=True, exist_ok=True)
  tfgnn.write_schema(tfgnn.create_schema_pb_from_graph_spec(graphs[0].spec),
                     str(directory / "graph_schema.pbtxt"))
  with tf.io.TFRecordWriter(str(directory / "graphs.tfrecord")) as writer:
    for graph in graphs:
      writer.write(tfgnn.write_example(graph).SerializeToString())
  return {"format": "tfgnn", "schema": str(directory / "graph_schema.pbtxt"),
          "path": str(directory / "graphs.*")}


def node_task_graph(with_masks=True):
  """small_graph() as papers/cites plus an authors node set and writes edge set."""
  features, source, target, labels, splits = small_graph()
  n = features.shape[0]
  paper_features = {"hidden_state": tf.constant(features), "label": tf.constant(labels)}
  if with_masks:
    for name, rows in splits.items():
      mask = np.zeros(n, np.int64)
      mask[rows] = 1
      paper_features[f"{name}_mask"] = tf.constant(mask)
  return tfgnn.GraphTensor.from_pieces(
      node_sets={
          "papers": tfgnn.NodeSet.from_fields(sizes=[n], features=paper_features),
          "authors": tfgnn.NodeSet.from_fields(
              sizes=[2], features={"hidden_state": tf.zeros([2, 1])})},
      edge_sets={
          "cites": tfgnn.EdgeSet.from_fields(sizes=[source.size], adjacency=tfgnn.Adjacency.
                                             from_indices(("papers", source),
                                                          ("papers", target))),
          "writes": tfgnn.EdgeSet.from_fields(sizes=[2], adjacency=tfgnn.Adjacency.
                                              from_indices(("authors", [0, 1]),
                                                           ("papers", [0, 1])))})


def test_heterogeneous_schema_needs_the_sets_then_gives_the_python_graph(tmp_path):
  spec = _write(tmp_path / "mygraph", [node_task_graph()])
  with pytest.raises(SourceError) as error:
    data.load_source(spec)
  assert "graph_schema.pbtxt" in str(error.value)
  assert "['authors', 'papers']" in str(error.value) and "node_set" in str(error.value)
  dataset = data.load_source(dict(spec, node_set="papers", edge_set="cites"))
  assert dataset.name == "mygraph"
  assert_same_as_python(dataset)


def test_node_task_without_masks_takes_a_generated_split(tmp_path):
  spec = _write(tmp_path / "g", [node_task_graph(with_masks=False)])
  spec.update(node_set="papers", edge_set="cites")
  with pytest.raises(SourceError, match="no split"):
    data.load_source(spec)
  dataset = data.load_source(dict(spec, split={"train": 0.5, "val": 0.2}))
  assert len(dataset.train_index) == 15 and dataset.num_classes == 3


def test_graph_task_reads_one_graph_per_record(tmp_path):
  graphs, expected = [], []
  for g in range(6):
    n = 2 + g % 3
    features = np.full((n, 2), g, np.float32)
    source, target = np.arange(n - 1), np.arange(1, n)
    graphs.append(tfgnn.GraphTensor.from_pieces(
        context=tfgnn.Context.from_fields(features={"label": tf.constant([g % 2])}),
        node_sets={"atoms": tfgnn.NodeSet.from_fields(
            sizes=[n], features={"hidden_state": tf.constant(features)})},
        edge_sets={"bonds": tfgnn.EdgeSet.from_fields(
            sizes=[n - 1], adjacency=tfgnn.Adjacency.from_indices(("atoms", source),
                                                                  ("atoms", target)))}))
    expected.append((features, source, target))
  spec = _write(tmp_path / "mols", graphs)
  dataset = data.load_source(dict(spec, folds=2))
  assert dataset.task == "graph" and dataset.num_graphs == 6 and dataset.num_folds == 2
  np.testing.assert_array_equal(dataset.labels, [0, 1, 0, 1, 0, 1])
  for graph, (features, source, target) in zip(dataset.graphs, expected):
    np.testing.assert_array_equal(graph.node_features, features)
    np.testing.assert_array_equal(graph.edge_source, source)
    np.testing.assert_array_equal(graph.edge_target, target)


@pytest.mark.parametrize("change, words", [
    ({"features": "embedding"}, ["graph_schema.pbtxt", "'embedding'", "hidden_state"]),
    ({"label": "class"}, ["graph_schema.pbtxt", "'class'", "label"]),
    ({"path": "nothing-*.tfrecord"}, ["nothing-*.tfrecord", "no TFRecord file"]),
    ({"edge_set": "writes"}, ["'writes'", "cites"]),
])
def test_tfgnn_errors_name_the_file_and_the_choices(tmp_path, change, words):
  spec = _write(tmp_path / "g", [node_task_graph()])
  spec.update(node_set="papers", edge_set="cites")
  spec.update(change)
  with pytest.raises(SourceError) as error:
    data.load_source(spec, tmp_path)
  for word in words:
    assert word in str(error.value), (word, str(error.value))
