"""Every zoo architecture converts to float32 TFLite in both layouts and agrees with Keras.

Agreement is the fraction of test predictions (ai-edge-litert vs the Keras training model)
that are equal; the foundation issue requires >= 99.5 % per architecture.
"""
import functools

import numpy as np
import pytest

from edgegnn import data
from edgegnn.deploy import convert as convert_lib
from edgegnn.deploy import runtimes
from edgegnn.deploy import verify as verify_lib
from edgegnn.models import ModelSpec, build_model, feeds, transfer_weights
from edgegnn.training import TrainConfig, make_task, predict, train

GRAPH_CASES = [
    ("gcn", "mutag", dict(hidden_units=16, num_layers=2, readout="mean")),
    ("gat", "mutag", dict(hidden_units=4, num_heads=2, num_layers=2, readout="mean")),
    ("sage", "mutag", dict(hidden_units=16, num_layers=2, readout="mean")),
    ("gin", "mutag", dict(hidden_units=16, num_layers=2)),
    # digits points lie on a pixel grid (many equal k-NN distances): EdgeConv's exact
    # integer k-NN scores make Keras and TFLite pick the same neighbours. Training it on
    # 1,437 point clouds takes most of this file's time: slow. The default run converts
    # EdgeConv's k-NN to TFLite and compares it exactly in tests/layers/test_edge_conv.py.
    pytest.param("edgeconv", "digits_points",
                 dict(hidden_units=16, num_layers=2, k=6, readout="mean+max"),
                 marks=pytest.mark.slow, id="edgeconv"),
]


@functools.lru_cache(maxsize=None)
def _trained_graph_classifier(spec, dataset):
  """Trains once per case; the sparse and dense exports share the model (and its test
  predictions, the reference)."""
  ds = data.load(dataset)
  trained = train(spec, ds, TrainConfig(epochs=3, batch_size=64), progress=False).model
  task = make_task(ds, 0)
  test_index = task.split("test")
  return trained, test_index, predict(trained, task, test_index)


def _export_and_verify(model, meta_ds, layout, capacity, test_index, reference, tmp_path, name):
  names = feeds.model_input_names(model)
  result = convert_lib.convert(model, "tflite-float32", tmp_path / f"{name}.tflite",
                               target="mobile")
  return result, verify_lib.verify(
      result.path, dataset=meta_ds, test_index=test_index, reference_logits=reference,
      input_names=names, layout=layout, capacity=capacity, floor=0.995)


# Every architecture in the sparse layout; the dense layout by default for GCN and GIN
# (GAT and SAGE dense are slow; tests/test_neighbor_layout.py converts SAGE dense to int8).
DENSE_BY_DEFAULT = ("gcn", "gin")


def _graph_grid():
  for case in GRAPH_CASES:
    values = case.values if hasattr(case, "values") else case
    marks = list(case.marks) if hasattr(case, "marks") else []
    for layout in ("sparse", "dense"):
      slow = ([pytest.mark.slow] if layout == "dense" and values[0] not in DENSE_BY_DEFAULT
              else [])
      yield pytest.param(*values, layout, marks=marks + slow, id=f"{values[0]}-{layout}")


@pytest.mark.parametrize("architecture,dataset,options,layout", list(_graph_grid()))
def test_graph_classifier_float32_agrees(architecture, dataset, options, layout, tmp_path):
  ds = data.load(dataset)
  spec = ModelSpec(architecture, dropout=0.0, **options)
  trained, test_index, reference = _trained_graph_classifier(spec, dataset)
  capacity = ds.max_nodes if layout == "dense" else None
  export = transfer_weights(trained, build_model(
      spec, num_features=ds.num_features, num_classes=ds.num_classes, task="graph",
      layout=layout, capacity=capacity))
  result, checked = _export_and_verify(export, ds, layout, capacity, test_index, reference,
                                       tmp_path, f"{architecture}_{layout}")
  assert checked.agreement >= 0.995
  assert checked.examples == len(test_index)
  if layout == "dense":
    assert "UNSORTED_SEGMENT_SUM" not in result.ops
  elif architecture in ("gcn", "gat", "sage", "gin"):
    assert result.ops.get("UNSORTED_SEGMENT_SUM", 0) >= 1


# GCN, SAGE and GAT convert in float32 in both layouts above (graph task) and the node
# GCN in tests/test_pipeline.py; their Cora cases here are slow. MP and MLP stay.
@pytest.mark.parametrize("architecture,options", [
    pytest.param("gcn", {}, marks=pytest.mark.slow),
    pytest.param("sage", {}, marks=pytest.mark.slow),
    pytest.param("gat", dict(hidden_units=8, num_heads=8), marks=pytest.mark.slow),
    ("mp", dict(hidden_units=8, num_heads=2, attention="cos", activation="elu")),
    ("mlp", dict(hidden_units=32))])
def test_node_classifier_float32_agrees_on_cora(architecture, options, cora, tmp_path):
  spec = ModelSpec(architecture, input_normalization="row", **options)
  trained = train(spec, cora, TrainConfig(epochs=15), progress=False).model
  task = make_task(cora)
  test_index = cora.test_index
  reference = predict(trained, task)[test_index]
  _, checked = _export_and_verify(trained, cora, "sparse", None, test_index, reference,
                                  tmp_path, architecture)
  assert checked.agreement >= 0.995


def test_dense_capacity_is_enforced_not_truncated(mutag):
  spec = ModelSpec("gcn")
  small = build_model(spec, num_features=mutag.num_features, num_classes=2, task="graph",
                      layout="dense", capacity=10)
  big = max(mutag.graphs, key=lambda g: g.num_nodes)
  with pytest.raises(data.CapacityError, match="capacity=10"):
    feeds.graph_feed(big, "dense", 10)
  assert small.input["adjacency"].shape == (10, 10)


def test_layouts_share_weights_exactly(mutag):
  spec = ModelSpec("gin", hidden_units=8)
  sparse = build_model(spec, num_features=mutag.num_features, num_classes=2, task="graph",
                       batched=True)
  dense = transfer_weights(sparse, build_model(spec, num_features=mutag.num_features,
                                               num_classes=2, task="graph", layout="dense",
                                               capacity=mutag.max_nodes))
  graph = mutag.graphs[0]
  a = sparse(feeds.batch_feed([graph]))["logits"].numpy()
  b = dense(feeds.select(feeds.graph_feed(graph, "dense", mutag.max_nodes),
                         feeds.model_input_names(dense)))["logits"].numpy()
  np.testing.assert_allclose(a, b, atol=1e-5)
  with pytest.raises(ValueError, match="not builds of the same spec"):
    transfer_weights(sparse, build_model(ModelSpec("gin", hidden_units=9),
                                         num_features=mutag.num_features, num_classes=2,
                                         task="graph", batched=True))


def test_artifacts_name_only_their_inputs_and_outputs(mutag, tmp_path):
  """Internal tensor names are stripped (bytes no runtime reads); the SignatureDef and
  input/output names stay, and the stripped file computes exactly what the unstripped
  one does."""
  from tensorflow.lite.tools import flatbuffer_utils  # pylint: disable=g-import-not-at-top
  spec = ModelSpec("gcn", hidden_units=16, num_layers=2, readout="mean")
  model = build_model(spec, num_features=mutag.num_features, num_classes=2, task="graph")
  result = convert_lib.convert(model, "tflite-float32", tmp_path / "gcn.tflite")
  flat = flatbuffer_utils.read_model(result.path)
  graph = flat.subgraphs[0]
  io = set(graph.inputs) | set(graph.outputs)
  assert all(not t.name for i, t in enumerate(graph.tensors) if i not in io)
  assert all(graph.tensors[i].name for i in io)
  signature = flat.signatureDefs[0]
  assert signature.signatureKey.decode() == convert_lib.SIGNATURE_KEY
  assert sorted(t.name.decode() for t in signature.inputs) == sorted(
      feeds.model_input_names(model))
  assert [t.name.decode() for t in signature.outputs] == ["logits"]

  unstripped = convert_lib.convert(model, "tflite-float32", tmp_path / "unstripped.tflite",
                                   keep_tensor_names=True)
  named = flatbuffer_utils.read_model(unstripped.path).subgraphs[0].tensors
  assert all(t.name for t in named)
  assert result.bytes < unstripped.bytes
  unstripped = unstripped.path
  feed = feeds.select(feeds.graph_feed(mutag.graphs[0]), feeds.model_input_names(model))
  outputs = [runtimes.open_runtime(str(p), runtime="litert").run(feed)["logits"]
             for p in (result.path, unstripped)]
  np.testing.assert_array_equal(outputs[0], outputs[1])
