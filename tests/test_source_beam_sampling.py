"""TF-GNN's Beam sampler on your own graph: `python -m edgegnn.data.beam_sampling --dataset`
takes a source file like every other command, and a graph with sparse features only is
written to the sampler's tables row by row, each row equal to the CSR matrix's."""
import numpy as np
import pytest
import yaml

from edgegnn import data
from edgegnn.data import beam_sampling
from edgegnn.data.sparse import SparseFeatures

from test_data_sources import small_graph, write_csv


def test_sparse_feature_graph_is_written_with_its_dense_rows(tmp_path, monkeypatch):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(beam_sampling, "ROWS_PER_CHUNK", 7)   # 30 nodes: five chunks
  features, source, target, labels, _ = small_graph()
  sparse = SparseFeatures.from_dense(np.where(features > 0.5, features, 0), binary=False)
  graph = data.Graph(None, source, target, sparse)
  beam_sampling.write_unigraph(graph, str(tmp_path), labels)
  rows, ids, written = [], [], []
  for record in tf.data.TFRecordDataset(str(tmp_path / "nodes.tfrecord")).as_numpy_iterator():
    example = tf.train.Example.FromString(record)
    rows.append(np.asarray(example.features.feature["hidden_state"].float_list.value))
    ids.append(example.features.feature["node_id"].int64_list.value[0])
    written.append(example.features.feature["label"].int64_list.value[0])
  np.testing.assert_array_equal(np.stack(rows), sparse.to_dense())
  assert ids == list(range(30)) and written == labels.tolist()


def test_sampler_cli_refuses_a_graph_task_source_and_writes_nothing(tmp_path, capsys):
  graph_index = np.repeat(np.arange(6), 5)
  features, source, target, _, _ = small_graph()
  keep = graph_index[source] == graph_index[target]
  np.savez(tmp_path / "graphs.npz", node_features=features, edge_source=source[keep],
           edge_target=target[keep], graph_index=graph_index, graph_labels=np.arange(6) % 2)
  (tmp_path / "graphs.yaml").write_text(yaml.safe_dump({"format": "npz", "path": "graphs.npz",
                                                        "folds": 2}))
  with pytest.raises(SystemExit) as exit_info:
    beam_sampling.main(["--dataset", str(tmp_path / "graphs.yaml"), "--out",
                        str(tmp_path / "out")])
  assert exit_info.value.code == 2
  assert "graphs" in capsys.readouterr().err
  assert not (tmp_path / "out").exists()
  with pytest.raises(SystemExit):
    beam_sampling.main(["--dataset", str(tmp_path / "missing.npz"), "--out",
                        str(tmp_path / "out")])
  assert "missing.npz" in capsys.readouterr().err and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_sampler_cli_samples_a_csv_source(tmp_path, capsys):
  """About a minute (Beam's DirectRunner)."""
  spec = write_csv(tmp_path)                      # text ids n0..n29, the small_graph ring
  (tmp_path / "source.yaml").write_text(yaml.safe_dump(spec))
  beam_sampling.main(["--dataset", str(tmp_path / "source.yaml"), "--fanouts", "2,2",
                      "--seeds", "0,5,29", "--out", str(tmp_path / "samples")])
  assert '"subgraphs": 3' in capsys.readouterr().out
  dataset = data.load_source(spec, tmp_path)
  subgraphs = beam_sampling.read_samples(str(tmp_path / "samples"))
  assert [s.seed for s in subgraphs] == [0, 5, 29]
  edges = set(zip(dataset.graph.edge_source.tolist(), dataset.graph.edge_target.tolist()))
  for s in subgraphs:
    np.testing.assert_array_equal(s.graph.node_features,
                                  dataset.graph.node_features[s.node_ids])
    np.testing.assert_array_equal(s.labels, dataset.labels[s.node_ids])
    assert set(zip(s.sampled_source.tolist(), s.sampled_target.tolist())) <= edges
