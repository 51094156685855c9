"""Dataset sources (edgegnn.data.sources): npz, csv and OGB-layout files written here give
the arrays of the same graph built in Python; every validation error names the file and
the array, column or row, and `edgegnn run`, `train` and `convert` on a broken source leave
no output behind. Loading imports no TensorFlow (checked in a child process); the CLI
checks train one small model first."""
import gzip
import json
import pathlib

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from edgegnn import data
from edgegnn.data import sources
from edgegnn.data.source_build import SourceError, edge_report, symmetrize

N, F, C = 30, 5, 3


def small_graph():
  """A 30-node ring (both directions) with 5 features, 3 classes and a fixed split."""
  rng = np.random.default_rng(0)
  labels = np.arange(N) % C
  features = (rng.normal(size=(N, F)) + labels[:, None]).astype(np.float32)
  ring = np.arange(N)
  source = np.concatenate([ring, (ring + 1) % N])
  target = np.concatenate([(ring + 1) % N, ring])
  splits = {"train": np.arange(0, 12), "val": np.arange(12, 21), "test": np.arange(21, 30)}
  return features, source, target, labels, splits


def write_npz(path, **override):
  features, source, target, labels, splits = small_graph()
  arrays = dict(node_features=features, edge_source=source, edge_target=target, labels=labels,
                train_index=splits["train"], val_index=splits["val"], test_index=splits["test"])
  arrays.update(override)
  np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
  return path


def write_csv(directory, ids=None, node_rows=None, edge_rows=None, split=True):
  """nodes.csv (id, label, f0..f4, split) and edges.csv (src, dst); ids default n0..n29."""
  features, source, target, labels, splits = small_graph()
  ids = ids if ids is not None else [f"n{i}" for i in range(N)]
  where = {i: s for s, rows in splits.items() for i in rows}
  header = "id,label," + ",".join(f"f{j}" for j in range(F)) + (",split" if split else "")
  rows = node_rows or [
      f"{ids[i]},{labels[i]}," + ",".join(repr(float(v)) for v in features[i])
      + (f",{where[i]}" if split else "") for i in range(N)]
  (directory / "nodes.csv").write_text("\n".join([header] + rows) + "\n")
  edges = edge_rows or [f"{ids[s]},{ids[t]}" for s, t in zip(source, target)]
  (directory / "edges.csv").write_text("\n".join(["src,dst"] + edges) + "\n")
  return {"format": "csv", "nodes": "nodes.csv", "edges": "edges.csv", "id": "id",
          "label": "label", "features": "f*", "source": "src", "target": "dst",
          **({"split_column": "split"} if split else {})}


def _gz(path, lines):
  path.parent.mkdir(parents=True, exist_ok=True)
  with gzip.open(path, "wt") as handle:
    handle.write("".join(f"{line}\n" for line in lines))


def write_ogb(root):
  features, source, target, labels, splits = small_graph()
  _gz(root / "raw" / "edge.csv.gz", [f"{s},{t}" for s, t in zip(source, target)])
  _gz(root / "raw" / "node-feat.csv.gz",
      [",".join(repr(float(v)) for v in row) for row in features])
  _gz(root / "raw" / "node-label.csv.gz", [str(v) for v in labels])
  for ours, theirs in (("train", "train"), ("val", "valid"), ("test", "test")):
    _gz(root / "split" / "random" / f"{theirs}.csv.gz", [str(v) for v in splits[ours]])
  return {"format": "ogb", "root": str(root)}


def assert_same_as_python(dataset):
  features, source, target, labels, splits = small_graph()
  expected = data.Graph(features, source, target)
  assert dataset.task == "node" and dataset.num_classes == C
  np.testing.assert_array_equal(dataset.graph.node_features, expected.node_features)
  np.testing.assert_array_equal(dataset.graph.edge_source, expected.edge_source)
  np.testing.assert_array_equal(dataset.graph.edge_target, expected.edge_target)
  np.testing.assert_array_equal(dataset.labels, labels)
  for name in ("train", "val", "test"):
    np.testing.assert_array_equal(getattr(dataset, f"{name}_index"), splits[name])


def test_npz_dense_gives_the_python_graph(tmp_path):
  write_npz(tmp_path / "g.npz")
  dataset = data.load_source("g.npz", base_dir=tmp_path)
  assert dataset.name == "g"
  assert_same_as_python(dataset)
  # The stored form is the mapping with absolute paths: it reloads from anywhere.
  stored = sources.resolve("g.npz", tmp_path)
  assert stored == {"format": "npz", "path": str(tmp_path / "g.npz"), "name": "g"}
  assert data.load_source(json.loads(json.dumps(stored))) is dataset


def test_npz_csr_features_give_the_dense_matrix(tmp_path):
  binary = (np.arange(N * F).reshape(N, F) % 3 == 0).astype(np.float32)
  rows, cols = np.nonzero(binary)
  indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=N))])
  write_npz(tmp_path / "g.npz", node_features=None, feature_indptr=indptr,
            feature_indices=cols, feature_width=np.array(F))
  dataset = data.load_source({"format": "npz", "path": "g.npz"}, tmp_path)
  np.testing.assert_array_equal(dataset.graph.dense_features(), binary)


def test_csv_with_string_ids_gives_the_python_graph(tmp_path):
  spec = write_csv(tmp_path)
  dataset = data.load_source(spec, tmp_path)
  assert dataset.name == "nodes"
  assert_same_as_python(dataset)


def test_csv_with_integer_ids_and_a_feature_list(tmp_path):
  spec = write_csv(tmp_path, ids=[100 + 7 * i for i in range(N)])
  spec["features"] = [f"f{j}" for j in range(F)]
  assert_same_as_python(data.load_source(spec, tmp_path))


def test_ogb_layout_gives_the_python_graph(tmp_path):
  spec = write_ogb(tmp_path / "ogbn_tiny")
  dataset = data.load_source(spec)
  assert dataset.name == "ogbn_tiny"
  assert_same_as_python(dataset)


def test_yaml_source_file_resolves_paths_from_its_directory(tmp_path):
  (tmp_path / "d").mkdir()
  write_npz(tmp_path / "d" / "g.npz")
  (tmp_path / "d" / "source.yaml").write_text("format: npz\npath: g.npz\nname: mine\n")
  dataset = data.load_source("d/source.yaml", tmp_path)
  assert dataset.name == "mine"
  assert_same_as_python(dataset)


def test_generated_split_is_stratified_and_seeded(tmp_path):
  write_npz(tmp_path / "g.npz", train_index=None, val_index=None, test_index=None)
  spec = {"format": "npz", "path": "g.npz", "split": {"train": 0.6, "val": 0.2, "seed": 3}}
  a = data.load_source(spec, tmp_path)
  b = data.load_source(dict(spec, name="again"), tmp_path)
  labels = a.labels
  for split, per_class in (("train", 6), ("val", 2), ("test", 2)):
    index = getattr(a, f"{split}_index")
    np.testing.assert_array_equal(index, getattr(b, f"{split}_index"))
    assert np.bincount(labels[index], minlength=C).tolist() == [per_class] * C
  union = np.concatenate([a.train_index, a.val_index, a.test_index])
  assert sorted(union.tolist()) == list(range(N))


def test_symmetrize_adds_missing_reverses_and_reports_duplicates_and_loops(tmp_path):
  source = np.array([0, 1, 1, 2, 3])   # 1->2 twice, 3->3 a self-loop, 0->1 has no reverse
  target = np.array([1, 2, 2, 1, 3])
  write_npz(tmp_path / "g.npz", edge_source=source, edge_target=target)
  dataset, summary = sources.load_source_summary(
      {"format": "npz", "path": "g.npz", "symmetrize": True}, tmp_path)
  edges = set(zip(dataset.graph.edge_source.tolist(), dataset.graph.edge_target.tolist()))
  assert edges == {(0, 1), (1, 0), (1, 2), (2, 1), (3, 3)}
  assert dataset.graph.num_edges == 6
  assert "g.npz" in summary
  assert edge_report(source, target, 4) == {"duplicate_edges": 1, "self_loops": 1}
  assert symmetrize(source, target, 4)[2] == 1   # reverse edges added


def test_graph_task_npz_with_folds(tmp_path):
  features = np.arange(24, dtype=np.float32).reshape(12, 2)
  graph_index = np.repeat(np.arange(6), 2)           # 6 graphs of 2 nodes, one edge each
  source, target = np.arange(0, 12, 2), np.arange(1, 12, 2)
  np.savez(tmp_path / "g.npz", node_features=features, edge_source=source, edge_target=target,
           graph_index=graph_index, graph_labels=np.array([0, 1, 0, 1, 0, 1]))
  dataset = data.load_source({"format": "npz", "path": "g.npz", "folds": 3}, tmp_path)
  assert dataset.task == "graph" and dataset.num_graphs == 6 and dataset.num_folds == 3
  np.testing.assert_array_equal(dataset.graphs[4].node_features, features[8:10])
  np.testing.assert_array_equal(dataset.graphs[4].edge_source, [0])
  tests = np.sort(np.concatenate([test for _, test in dataset.folds]))
  np.testing.assert_array_equal(tests, np.arange(6))


def test_bundled_names_still_load():
  assert data.load_source("CORA") is data.load("cora")
  with pytest.raises(data.UnknownDatasetError, match="pubmed.*Available: cora.*npz"):
    data.load_source("pubmed")


# --- every validation error: names the file and the problem; nothing is written ---------

def _npz(**override):
  return lambda d: ({"format": "npz", "path": str(write_npz(d / "g.npz", **override))}, "g.npz")


def _csv_rows(node_rows=None, edge_rows=None, spec=None, file="nodes.csv"):
  def make(d):
    features, source, target, labels, _ = small_graph()
    rows = [f"n{i},{labels[i]}," + ",".join(repr(float(v)) for v in features[i])
            for i in range(N)]
    if node_rows:
      node_rows(rows)
    edges = [f"n{s},n{t}" for s, t in zip(source, target)]
    if edge_rows:
      edge_rows(edges)
    result = write_csv(d, node_rows=rows, edge_rows=edges, split=False)
    result["split"] = {"train": 0.5, "val": 0.2}
    result.update(spec or {})
    return result, file
  return make


def _ogb_without_labels(directory):
  spec = write_ogb(directory / "ogbn_x")
  (directory / "ogbn_x" / "raw" / "node-label.csv.gz").unlink()
  return spec, "node-label.csv.gz"


def _set(rows, i, text):
  rows[i] = text


CASES = {
    "edge id out of range": (_npz(edge_source=np.array([0, 1, 45]),
                                  edge_target=np.array([1, 2, 3])),
                             ["g.npz", "edge_source[2]", "45", "[0, 30)"]),
    "edge to an unknown csv id": (_csv_rows(edge_rows=lambda e: _set(e, 4, "n1,n99"),
                                            file="edges.csv"),
                                  ["edges.csv", "'n99'", "line 6", "nodes.csv"]),
    "unknown csv column": (_csv_rows(spec={"label": "class"}), ["nodes.csv", "'class'",
                                                                 "label"]),
    "unknown feature column": (_csv_rows(spec={"features": ["f0", "f9"]}),
                               ["nodes.csv", "f9", "features"]),
    "ragged csv row": (_csv_rows(node_rows=lambda r: _set(r, 3, "n3,0,1.0")),
                       ["nodes.csv", "line 5", "7"]),
    "nan feature": (_npz(node_features=np.where(np.arange(N * F).reshape(N, F) == 17, np.nan,
                                                1.0)), ["g.npz", "row 3, column 2", "nan"]),
    "inf feature in csv": (_csv_rows(node_rows=lambda r: _set(r, 8, "n8,2,inf,0,0,0,0")),
                           ["nodes.csv", "row 8", "inf"]),
    "labels missing": (_npz(labels=None), ["g.npz", "labels"]),
    "empty label cell": (_csv_rows(node_rows=lambda r: _set(r, 5, "n5,,0,0,0,0,0")),
                         ["nodes.csv", "'label'", "line 7"]),
    "non-integer label": (_npz(labels=np.arange(N) / 2), ["g.npz", "labels row 1", "0.5"]),
    "text label": (_csv_rows(node_rows=lambda r: _set(r, 2, "n2,cat,0,0,0,0,0")),
                   ["nodes.csv", "'cat'", "line 4"]),
    "empty split": (_npz(val_index=np.zeros(0, np.int64)), ["g.npz", "val_index"]),
    "split lists a node twice": (_npz(test_index=np.array([21, 22, 21])),
                                 ["g.npz", "test_index[2]", "test_index[0]", "21"]),
    "split node outside the graph": (_npz(train_index=np.array([0, 30])),
                                     ["g.npz", "train_index[1]", "30", "[0, 30)"]),
    "duplicate node id": (_csv_rows(node_rows=lambda r: _set(r, 9, "n4,1,0,0,0,0,0")),
                          ["nodes.csv", "'n4'", "lines 6 and 11"]),
    "unknown source key": (lambda d: ({"format": "npz", "path": "g.npz", "paht": "x"},
                                      "paht"), ["paht", "npz"]),
    "graph task without graph ids": (_npz(graph_labels=np.array([0, 1])),
                                     ["g.npz", "graph_index"]),
    "ogb file missing": (_ogb_without_labels, ["node-label.csv.gz"]),
    "missing file": (lambda d: ({"format": "npz", "path": "nope.npz"}, "nope.npz"),
                     ["nope.npz"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_validation_error_names_file_and_problem(tmp_path, case):
  make, words = CASES[case]
  spec, _ = make(tmp_path)
  with pytest.raises(SourceError) as error:
    data.load_source(spec, tmp_path)
  for word in words:
    assert word in str(error.value), (word, str(error.value))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
  """A model trained by `edgegnn train` on the good small graph (for `convert --dataset`)."""
  from edgegnn.cli import main  # pylint: disable=g-import-not-at-top
  directory = tmp_path_factory.mktemp("model")
  write_npz(directory / "g.npz")
  result = CliRunner().invoke(main, ["train", "--dataset", str(directory / "g.npz"),
                                     "--epochs", "1", "--hidden-units", "4", "--out",
                                     str(directory / "model")])
  assert result.exit_code == 0, result.output
  return directory / "model"


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_command_on_a_broken_source_fails_at_load_and_writes_nothing(tmp_path, case,
                                                                          model_dir):
  """run, train and convert on the broken source: exit 1, the file/array/row named, no
  output directory, model or artifact."""
  from edgegnn.cli import main  # pylint: disable=g-import-not-at-top
  make, words = CASES[case]
  (tmp_path / "in").mkdir()
  spec, _ = make(tmp_path / "in")
  before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
  pipeline = {"name": "mine", "dataset": spec, "out": str(tmp_path / "out"),
              "stages": [{"train": {"name": "gcn", "model": {"architecture": "gcn"},
                                    "train": {"epochs": 2, "seeds": [0]}}}]}
  (tmp_path / "in" / "p.yaml").write_text(yaml.safe_dump(pipeline))
  (tmp_path / "in" / "source.yaml").write_text(yaml.safe_dump(spec))
  source = str(tmp_path / "in" / "source.yaml")
  for command in (["run", str(tmp_path / "in" / "p.yaml")],
                  ["train", "--dataset", source, "--out", str(tmp_path / "model")],
                  ["convert", str(model_dir), "--dataset", source, "-o",
                   str(tmp_path / "m.tflite")]):
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    for word in words:
      assert word in result.output, (command[0], word, result.output)
  after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
  assert after == sorted(before + [pathlib.Path("in/p.yaml"), pathlib.Path("in/source.yaml")])


def _write_sparse(directory, lines, header="node,word,count"):
  (directory / "words.csv").write_text("\n".join([header] + lines) + "\n")


def test_csv_sparse_features_file_gives_the_csr_matrix(tmp_path):
  spec = write_csv(tmp_path)
  del spec["features"]
  matrix = np.zeros((N, 7), np.float32)
  lines = []
  for i in range(N):
    for j in sorted({(3 * i) % 7, (i * i) % 7}):   # words listed by node, any order
      matrix[i, j] = 1.0 + j
      lines.append(f"n{i},{j},{1.0 + j}")
  _write_sparse(tmp_path, lines[::-1])
  spec["sparse_features"] = {"path": "words.csv", "id": "node", "index": "word",
                             "value": "count", "width": 7}
  dataset = data.load_source(spec, tmp_path)
  np.testing.assert_array_equal(dataset.graph.dense_features(), matrix)
  del spec["sparse_features"]["value"]
  binary = data.load_source(spec, tmp_path).graph.dense_features()
  np.testing.assert_array_equal(binary, (matrix > 0).astype(np.float32))


@pytest.mark.parametrize("lines, words", [
    (["n1,0,1.0", "n77,2,1.0"], ["words.csv", "'n77'", "line 3"]),
    (["n2,1,1.0", "n1,0,1.0", "n1,0,2.0"], ["words.csv", "'n1'", "word 0", "lines 3 and 4"]),
    (["n1,-2,1.0"], ["words.csv", "-2", "line 2"]),
    (["n1,3,nan"], ["words.csv", "'count'", "line 2"]),
    (["n1,3,inf"], ["words.csv", "'count'", "inf"]),
])
def test_csv_sparse_features_file_errors(tmp_path, lines, words):
  spec = write_csv(tmp_path)
  del spec["features"]
  _write_sparse(tmp_path, lines)
  spec["sparse_features"] = {"path": "words.csv", "id": "node", "index": "word",
                             "value": "count"}
  with pytest.raises(SourceError) as error:
    data.load_source(spec, tmp_path)
  for word in words:
    assert word in str(error.value), (word, str(error.value))


def test_npz_csv_and_ogb_sources_load_without_tensorflow(tmp_path):
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  write_npz(tmp_path / "g.npz")
  csv_spec = write_csv(tmp_path)
  ogb_spec = write_ogb(tmp_path / "ogbn_tiny")
  specs = json.dumps([str(tmp_path / "g.npz"), csv_spec, ogb_spec])
  code = (f"import sys, json\nfrom edgegnn import data\n"
          f"for spec in json.loads({specs!r}):\n"
          f"  data.load_source(spec, {str(tmp_path)!r})\n"
          "print(sorted(m for m in sys.modules if m.split('.')[0] in "
          "('tensorflow', 'keras', 'tensorflow_gnn')))\n")
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
  assert result.stdout.strip() == "[]"
