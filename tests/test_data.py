"""Tests of edgegnn.data: published statistics, the package files, and the Graph helpers."""
import pathlib
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from edgegnn import data
from edgegnn.data import loading
from edgegnn.data import registry

REPO = pathlib.Path(__file__).resolve().parents[1]
SOURCE = pathlib.Path("/work/shared/datasets")
needs_source = pytest.mark.skipif(
    not SOURCE.is_dir(),
    reason=f"raw datasets not at {SOURCE} (only the maintainers' machine has them; the "
    "package files are checked against the published statistics instead)")

# name: (graphs, classes, max nodes, directed edges, node feature width). The width is the
# number of distinct node tags, or for IMDB-BINARY of distinct node degrees (GIN: 65).
TU_TABLE = {
    "mutag": (188, 2, 28, 7442, 7),
    "ptc": (344, 2, 109, 17862, 19),
    "proteins": (1113, 2, 620, 162088, 3),
    "nci1": (4110, 2, 111, 265506, 37),
    "enzymes": (600, 6, 126, 74564, 3),
    "imdb_binary": (1000, 2, 136, 193062, 65),
}
TU_STEMS = {"mutag": "MUTAG", "ptc": "PTC", "proteins": "PROTEINS", "nci1": "NCI1",
            "enzymes": "ENZYMES", "imdb_binary": "IMDBBINARY"}


def _tiny_graph() -> data.Graph:
  """A 3-node path 0 - 1 - 2 with both directions, features [i, 10 i]."""
  return data.Graph(node_features=[[0, 0], [1, 10], [2, 20]], edge_source=[0, 1, 1, 2],
                    edge_target=[1, 0, 2, 1])


# Published statistics --------------------------------------------------------------------------


def test_cora_statistics():
  cora = data.load("cora")
  assert cora.task == "node"
  assert (cora.graph.num_nodes, cora.graph.num_edges, cora.num_features) == (2708, 10556, 1433)
  assert cora.num_classes == 7
  assert (cora.train_index.size, cora.val_index.size, cora.test_index.size) == (140, 500, 1000)
  np.testing.assert_array_equal(np.bincount(cora.labels), [351, 217, 418, 818, 426, 298, 180])
  np.testing.assert_array_equal(cora.train_index, np.arange(140))  # GCN: first 140 nodes.
  np.testing.assert_array_equal(cora.val_index, np.arange(140, 640))
  assert int(cora.graph.node_features.sum()) == 49216  # Binary bag of words, nnz 49216.


def test_citeseer_statistics():
  citeseer = data.load("citeseer")
  graph = citeseer.graph
  assert (graph.num_nodes, graph.num_edges, citeseer.num_features) == (3327, 9104, 3703)
  assert citeseer.num_classes == 6
  assert (citeseer.train_index.size, citeseer.val_index.size,
          citeseer.test_index.size) == (120, 500, 1000)
  unlabeled = np.flatnonzero(citeseer.labels == -1)
  assert unlabeled.size == 15
  assert not np.any(graph.node_features[unlabeled])  # Zero feature rows.
  used = np.concatenate([citeseer.train_index, citeseer.val_index, citeseer.test_index])
  assert np.intersect1d(used, unlabeled).size == 0
  assert np.sum((graph.in_degree() == 0)) == 48  # Isolated nodes, per the README.
  assert not np.any(graph.edge_source == graph.edge_target)  # Self-loops were dropped.


@pytest.mark.parametrize("name", ["cora", "citeseer"])
def test_planetoid_splits_are_disjoint_and_edges_symmetric(name):
  dataset = data.load(name)
  used = np.concatenate([dataset.train_index, dataset.val_index, dataset.test_index])
  assert np.unique(used).size == used.size
  graph = dataset.graph
  forward = set(zip(graph.edge_source.tolist(), graph.edge_target.tolist()))
  assert forward == {(t, s) for s, t in forward}
  assert len(forward) == graph.num_edges  # No duplicate edges.


@pytest.mark.parametrize("name", sorted(TU_TABLE))
def test_tu_statistics(name):
  dataset = data.load(name)
  assert dataset.task == "graph"
  num_edges = sum(g.num_edges for g in dataset.graphs)
  assert (dataset.num_graphs, dataset.num_classes, dataset.max_nodes, num_edges,
          dataset.num_features) == TU_TABLE[name]
  assert dataset.val_index is None
  assert set(np.unique(dataset.labels).tolist()) == set(range(dataset.num_classes))
  for graph in dataset.graphs:  # Every node has exactly one one-hot feature.
    np.testing.assert_array_equal(graph.node_features.sum(axis=1), 1.0)


@pytest.mark.parametrize("name", sorted(TU_TABLE))
def test_tu_folds_partition_the_graphs(name):
  dataset = data.load(name)
  everything = np.arange(dataset.num_graphs)
  assert dataset.num_folds == 10
  for fold in range(10):
    train, test = dataset.split(fold)
    assert train.size + test.size == dataset.num_graphs
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), everything)
  # The DGCNN/GIN split files give every fold floor(G / 10) disjoint test graphs, so the
  # G mod 10 left over (MUTAG 8, PTC 4, PROTEINS 3) are never tested, only trained on.
  tests = np.concatenate([dataset.split(k)[1] for k in range(10)])
  assert tests.size == np.unique(tests).size == 10 * (dataset.num_graphs // 10)


def test_imdb_features_are_degrees():
  dataset = data.load("IMDB-BINARY")
  assert dataset is data.load("imdbbinary") is data.load("imdb_binary")
  arrays = np.load(registry.dataset_path("imdb_binary"), allow_pickle=False)
  degree_of_column = arrays["node_feature_values"].astype(np.int64)
  for graph in dataset.graphs[:50]:
    column = graph.node_features.argmax(axis=1)
    np.testing.assert_array_equal(degree_of_column[column], graph.in_degree())


def test_digits_points():
  dataset = data.load("Digits_Points")
  assert (dataset.num_graphs, dataset.num_classes, dataset.num_features) == (1797, 10, 3)
  assert dataset.num_folds == 1
  train, test = dataset.split(0)
  assert (train.size, dataset.val_index.size, test.size) == (1257, 180, 360)
  parts = np.concatenate([train, dataset.val_index, test])
  np.testing.assert_array_equal(np.sort(parts), np.arange(1797))
  for part in (train, dataset.val_index, test):  # Stratified: class shares within 1 image.
    expected = np.bincount(dataset.labels) * part.size / 1797
    assert np.all(np.abs(np.bincount(dataset.labels[part], minlength=10) - expected) <= 1)
  assert all(g.num_edges == 0 for g in dataset.graphs)
  from sklearn.datasets import load_digits  # pylint: disable=g-import-not-at-top
  digits = load_digits()
  np.testing.assert_array_equal(dataset.labels, digits.target)
  for i in (0, 1, 500, 1796):
    features = dataset.graphs[i].node_features
    assert features.min() >= 0 and features.max() <= 1
    image = np.zeros((8, 8))
    cols, rows = np.rint(features[:, 0] * 7).astype(int), np.rint(features[:, 1] * 7).astype(int)
    image[rows, cols] = features[:, 2] * 16
    np.testing.assert_allclose(image, digits.images[i], atol=1e-5)


# Cross-checks against the raw files --------------------------------------------------------


@needs_source
@pytest.mark.parametrize("name", sorted(TU_TABLE))
def test_tu_matches_raw_text(name):
  """Counts graphs, nodes, listed neighbours, labels and tags straight from the raw text."""
  stem = TU_STEMS[name]
  rows = [line.split() for line in
          (SOURCE / "tu" / stem / f"{stem}.txt").read_text().splitlines() if line.strip()]
  dataset = data.load(name)
  assert int(rows[0][0]) == dataset.num_graphs
  position, raw_labels, tags = 1, [], []
  for graph in dataset.graphs:
    n, label = int(rows[position][0]), int(rows[position][1])
    node_rows = rows[position + 1:position + 1 + n]
    assert n == graph.num_nodes
    assert sum(int(r[1]) for r in node_rows) == graph.num_edges  # No duplicates dropped.
    listed = {(i, int(j)) for i, r in enumerate(node_rows) for j in r[2:2 + int(r[1])]}
    assert listed == set(zip(graph.edge_source.tolist(), graph.edge_target.tolist()))
    raw_labels.append(label)
    tags.extend(int(r[0]) for r in node_rows)
    position += 1 + n
  assert position == len(rows)
  raw_values = sorted(set(raw_labels))
  np.testing.assert_array_equal(dataset.labels, [raw_values.index(v) for v in raw_labels])
  if name != "imdb_binary":
    features = np.concatenate([g.node_features for g in dataset.graphs])
    vocabulary = np.array(sorted(set(tags)))
    np.testing.assert_array_equal(vocabulary[features.argmax(axis=1)], tags)
  for k in range(10):
    folder = SOURCE / "tu" / stem / "10fold_idx"
    train, test = dataset.split(k)
    np.testing.assert_array_equal(train, np.loadtxt(folder / f"train_idx-{k + 1}.txt", int))
    np.testing.assert_array_equal(test, np.loadtxt(folder / f"test_idx-{k + 1}.txt", int))


@needs_source
@pytest.mark.parametrize("name", ["cora", "citeseer"])
def test_planetoid_matches_raw_npz(name):
  raw = np.load(SOURCE / "planetoid" / f"{name}.npz", allow_pickle=False)
  dataset = data.load(name)
  dense = np.zeros(tuple(raw["x_shape"]), np.float32)
  rows = np.repeat(np.arange(raw["x_shape"][0]), np.diff(raw["x_indptr"]))
  dense[rows, raw["x_indices"]] = raw["x_data"]
  np.testing.assert_array_equal(dataset.graph.node_features, dense)
  np.testing.assert_array_equal(dataset.labels, raw["y"])
  np.testing.assert_array_equal(
      np.stack([dataset.graph.edge_source, dataset.graph.edge_target]), raw["edge_index"])
  for split in ("train", "val", "test"):
    np.testing.assert_array_equal(getattr(dataset, f"{split}_index"),
                                  np.flatnonzero(raw[f"{split}_mask"]))


@needs_source
def test_package_files_equal_a_fresh_conversion(tmp_path):
  subprocess.run([sys.executable, str(REPO / "tools" / "convert_datasets.py"), "--source",
                  str(SOURCE), "--out", str(tmp_path)], check=True, cwd=REPO, timeout=1800)
  for name in data.available_datasets():
    fresh = np.load(tmp_path / f"{name}.npz", allow_pickle=False)
    shipped = np.load(registry.dataset_path(name), allow_pickle=False)
    assert sorted(fresh.files) == sorted(shipped.files), name
    for key in fresh.files:
      assert fresh[key].dtype == shipped[key].dtype, (name, key)
      np.testing.assert_array_equal(fresh[key], shipped[key], err_msg=f"{name}/{key}")
  assert not list(tmp_path.glob(".*.tmp"))  # Temporary files were renamed away.


def test_package_files_are_deterministic_zips():
  for name in data.available_datasets():
    with zipfile.ZipFile(registry.dataset_path(name)) as archive:
      infos = archive.infolist()
      assert [i.filename for i in infos] == sorted(i.filename for i in infos), name
      assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}, name
      assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in infos), name
    with np.load(registry.dataset_path(name), allow_pickle=False) as arrays:
      assert all(arrays[key].dtype != object for key in arrays.files)


# Loading --------------------------------------------------------------------------------------


def test_unknown_dataset_lists_the_names():
  with pytest.raises(data.UnknownDatasetError) as caught:
    data.load("pubmed")
  assert isinstance(caught.value, ValueError)
  for name in data.available_datasets():
    assert name in str(caught.value)


def test_available_datasets():
  assert data.available_datasets() == ["cora", "citeseer", "mutag", "proteins", "nci1", "ptc",
                                       "enzymes", "imdb_binary", "digits_points"]
  for name in data.available_datasets():
    assert registry.dataset_path(name).is_file(), name


def test_load_is_cached_and_read_only():
  assert data.load("MUTAG") is data.load(" mutag ")
  graph = data.load("mutag").graphs[0]
  with pytest.raises(ValueError):
    graph.node_features[0, 0] = 5.0
  with pytest.raises(ValueError):
    data.load("cora").labels[0] = 3


@pytest.fixture
def empty_cache():
  loading._load_canonical.cache_clear()  # pylint: disable=protected-access
  yield
  loading._load_canonical.cache_clear()  # pylint: disable=protected-access


@pytest.mark.parametrize("content", [None, b"not a zip file"])
def test_missing_or_corrupt_file_says_to_run_the_tool(tmp_path, monkeypatch, empty_cache,
                                                       content):
  del empty_cache
  if content is not None:
    (tmp_path / "mutag.npz").write_bytes(content)
  monkeypatch.setattr(registry, "FILES_DIR", tmp_path)
  with pytest.raises(data.DatasetFileError, match="tools/convert_datasets.py"):
    data.load("mutag")


def test_loading_does_not_import_tensorflow():
  code = ("import sys; from edgegnn import data; data.load('cora'); data.load('mutag'); "
          "print(sorted(m for m in sys.modules if m.split('.')[0] in "
          "('tensorflow', 'tensorflow_gnn', 'keras', 'tf_keras', 'pickle5')))")
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=REPO)
  assert result.stdout.strip() == "[]"


def test_bad_fold_is_a_clear_error():
  dataset = data.load("mutag")
  for fold in (10, -1, "1"):
    with pytest.raises(ValueError, match="fold"):
      dataset.split(fold)


# Graph ----------------------------------------------------------------------------------------


def test_graph_coerces_and_counts():
  graph = _tiny_graph()
  assert graph.node_features.dtype == np.float32 and graph.edge_source.dtype == np.int32
  assert (graph.num_nodes, graph.num_edges, graph.num_features) == (3, 4, 2)
  np.testing.assert_array_equal(graph.in_degree(), [1, 2, 1])
  assert graph.in_degree().dtype == np.int32


@pytest.mark.parametrize("kwargs, problem", [
    ({"edge_target": [1, 0, 2, 3]}, "outside"),
    ({"edge_source": [0, -1, 1, 2]}, "outside"),
    ({"edge_target": [1, 0, 2]}, "differ in length"),
    ({"edge_source": [0.0, 1.0, 1.0, 2.0]}, "integers"),
    ({"node_features": [0.0, 1.0, 2.0]}, "2-D"),
])
def test_graph_validation(kwargs, problem):
  fields = {"node_features": [[0, 0], [1, 10], [2, 20]], "edge_source": [0, 1, 1, 2],
            "edge_target": [1, 0, 2, 1]}
  fields.update(kwargs)
  with pytest.raises(ValueError, match=problem):
    data.Graph(**fields)


def test_dense_adjacency_and_padding():
  graph = data.Graph([[1.0], [2.0], [3.0]], edge_source=[0, 2], edge_target=[1, 1])
  adjacency = graph.dense_adjacency(capacity=4)
  expected = np.zeros((4, 4), np.float32)
  expected[1, 0] = expected[1, 2] = 1.0  # A[target, source].
  np.testing.assert_array_equal(adjacency, expected)
  assert adjacency.dtype == np.float32
  assert graph.dense_adjacency().shape == (3, 3)
  np.testing.assert_array_equal(graph.padded_features(5)[:, 0], [1, 2, 3, 0, 0])
  np.testing.assert_array_equal(graph.node_mask(5), [1, 1, 1, 0, 0])
  # A @ X sums each node's incoming neighbour features.
  np.testing.assert_array_equal(adjacency @ graph.padded_features(4), [[0], [4], [0], [0]])


@pytest.mark.parametrize("method", ["dense_adjacency", "padded_features", "node_mask"])
def test_capacity_error(method):
  graph = data.load("mutag").graphs[0]  # 23 nodes.
  with pytest.raises(data.CapacityError) as caught:
    getattr(graph, method)(capacity=graph.num_nodes - 1)
  message = str(caught.value)
  assert f"num_nodes={graph.num_nodes}" in message
  assert f"capacity={graph.num_nodes - 1}" in message
  assert "at least" in message
  assert getattr(graph, method)(capacity=graph.num_nodes).shape[0] == graph.num_nodes


def test_merge_graphs_offsets_edges():
  first = _tiny_graph()
  second = data.Graph([[5, 5], [6, 6]], edge_source=[1], edge_target=[0])
  merged, node_graph_index = data.merge_graphs([first, second, first])
  assert (merged.num_nodes, merged.num_edges) == (8, 9)
  np.testing.assert_array_equal(merged.edge_source, [0, 1, 1, 2, 4, 5, 6, 6, 7])
  np.testing.assert_array_equal(merged.edge_target, [1, 0, 2, 1, 3, 6, 5, 7, 6])
  np.testing.assert_array_equal(node_graph_index, [0, 0, 0, 1, 1, 2, 2, 2])
  assert node_graph_index.dtype == np.int32
  np.testing.assert_array_equal(merged.node_features[3:5], second.node_features)
  with pytest.raises(ValueError):
    data.merge_graphs([])


def test_to_graph_tensor_round_trip():
  graph = data.load("mutag").graphs[3]
  tensor = graph.to_graph_tensor()
  nodes, edges = tensor.node_sets["nodes"], tensor.edge_sets["edges"]
  assert nodes.sizes.numpy().tolist() == [graph.num_nodes]
  assert edges.sizes.numpy().tolist() == [graph.num_edges]
  np.testing.assert_array_equal(nodes["hidden_state"].numpy(), graph.node_features)
  assert edges.adjacency.source_name == "nodes" and edges.adjacency.target_name == "nodes"
  np.testing.assert_array_equal(edges.adjacency.source.numpy(), graph.edge_source)
  np.testing.assert_array_equal(edges.adjacency.target.numpy(), graph.edge_target)
