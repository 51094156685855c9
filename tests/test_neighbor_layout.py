"""The neighbour-list layout: same outputs as the sparse layout, full-int8 TFLite.

Golden check on a hand-built multigraph (every layer, sparse vs neighbors), every zoo
architecture converted in this layout (float32 agreement >= 0.995, int8 >= 0.97 on Cora's
test nodes; MUTAG graph classifiers over all 188 graphs, neighbors and dense layouts), and
the deploy-core target: the Cora GCN teacher's PTQ int8 artifact within 1.5 points of
float.
"""
import functools

import numpy as np
import pytest

from edgegnn import data, layers as gl
from edgegnn.deploy import convert as convert_lib
from edgegnn.deploy import tflite_file
from edgegnn.deploy import verify as verify_lib
from edgegnn.models import ModelSpec, build_model, feeds, transfer_weights
from edgegnn.training import TrainConfig, make_task, predict, train
import tensorflow as tf

# 5 nodes; node 2 receives a parallel edge from 0 and an edge from 1; node 4 none.
GRAPH = data.Graph(node_features=np.arange(15, dtype=np.float32).reshape(5, 3) / 10.0,
                   edge_source=np.array([0, 0, 1, 2, 3, 3, 0], np.int32),
                   edge_target=np.array([2, 2, 2, 3, 0, 1, 1], np.int32))

LAYERS = {
    "gcn": lambda: gl.GCNConv(4, activation="relu"),
    "sage": lambda: gl.SAGEConv(4),
    "gin": lambda: gl.GINConv(4, mlp=gl.gin_conv.default_mlp(4, False, "mlp")),
    "gat": lambda: gl.GATConv(4, num_heads=2),
    **{f"mp-{kind}": (lambda kind=kind: gl.MessagePassing(4, attention=kind, num_heads=2))
       for kind in gl.attention.ATTENTIONS},
}


# A star: node 0 receives 37 in-edges (one parallel), from every other node: with the
# row width of 16 it needs two overflow rows.
_LEAVES = np.concatenate([np.arange(1, 37), [5]])
STAR = data.Graph(node_features=np.sin(np.arange(37 * 3, dtype=np.float32)).reshape(37, 3),
                  edge_source=np.concatenate([_LEAVES, [0, 0, 2]]).astype(np.int32),
                  edge_target=np.concatenate([np.zeros(37), [1, 2, 3]]).astype(np.int32))


@pytest.mark.parametrize("graph,max_neighbors", [(GRAPH, 4), (STAR, 37), (STAR, 50)],
                         ids=["one-row", "overflow-rows", "spare-overflow-columns"])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_matches_sparse_layout(name, graph, max_neighbors):
  layer = LAYERS[name]()
  x = tf.constant(graph.node_features)
  sparse = layer((x, graph.to_graph_tensor())).numpy()
  got = layer((x, graph.neighbor_lists(max_neighbors=max_neighbors))).numpy()
  np.testing.assert_allclose(got, sparse, atol=1e-5)


def test_neighbor_lists_are_exact_and_never_truncated():
  lists = GRAPH.neighbor_lists(max_neighbors=3, capacity=6)
  neighbors, mask, degree = lists["neighbors"], lists["neighbor_mask"], lists["in_degree"]
  assert set(lists) == {"neighbors", "neighbor_mask", "in_degree"}   # no overflow rows
  assert degree.tolist() == [1, 2, 3, 1, 0, 0]
  assert sorted(neighbors[2][mask[2] > 0].tolist()) == [0, 0, 1]
  assert sorted(neighbors[1][mask[1] > 0].tolist()) == [0, 3]
  assert mask.sum() == GRAPH.num_edges
  with pytest.raises(data.CapacityError, match="max_neighbors=2.*at least 3"):
    GRAPH.neighbor_lists(max_neighbors=2)


def test_overflow_rows_hold_every_in_neighbour_once():
  assert data.graph.neighbor_row_shape(37) == (16, 2)
  assert data.graph.neighbor_row_shape(16) == (16, 0)
  assert data.graph.neighbor_row_shape(5) == (5, 0)
  lists = STAR.neighbor_lists(max_neighbors=37)
  assert lists["overflow_rows"].tolist() == [[0, 37, 38]]   # node 0: first row, 2 more
  assert lists["overflow_index"].tolist() == [0] + [1] * 36  # the others: V = 1
  assert lists["neighbors"].shape == (40, 16)                # + the empty row 39
  assert lists["neighbor_mask"][39].sum() == 0
  assert lists["row_node"][[0, 5, 37, 38]].tolist() == [0, 5, 0, 0]
  node0 = np.concatenate([lists["neighbors"][r][lists["neighbor_mask"][r] > 0]
                          for r in [0, 37, 38]])
  assert sorted(node0.tolist()) == sorted(_LEAVES.tolist())
  assert lists["neighbor_mask"].sum() == STAR.num_edges
  padded = STAR.neighbor_lists(max_neighbors=50, capacity=40)  # J = 3, R = C * (J + 1) + 1
  assert padded["neighbors"].shape == (161, 16) and padded["overflow_rows"].shape == (40, 4)
  assert padded["overflow_rows"][0].tolist() == [0, 40, 41, 160]
  assert padded["overflow_rows"][1].tolist() == [160] * 4
  assert padded["overflow_index"][[0, 1, 39]].tolist() == [0, 40, 40]
  with pytest.raises(ValueError, match="max_neighbors must be an int >= 1"):
    data.graph.neighbor_row_shape(0)
  partial = dict(lists)
  del partial["overflow_index"]
  with pytest.raises(ValueError, match=r"Overflow rows need all of .*got \['row_node', "
                                       r"'overflow_rows'\]"):
    gl.GCNConv(4)((tf.constant(STAR.node_features), partial))


def _convert_and_verify(model, ds, test_index, reference, fmt, tmp_path, max_neighbors,
                        floor, capacity=None, layout="neighbors", integer_io=None):
  names = feeds.model_input_names(model)
  graphs = [ds.graph] if ds.task == "node" else [ds.graphs[i] for i in ds.split(0)[0][:50]]
  representative = [feeds.select(feeds.graph_feed(g, layout, capacity,
                                                   max_neighbors=max_neighbors), names)
                    for g in graphs]
  result = convert_lib.convert(model, fmt, tmp_path / f"{model.name}.{fmt}.{integer_io}.tflite",
                               target="mobile", representative_feeds=representative,
                               integer_io=integer_io)
  checked = verify_lib.verify(result.path, dataset=ds, test_index=test_index,
                              reference_logits=reference, input_names=names, layout=layout,
                              capacity=capacity, max_neighbors=max_neighbors, floor=floor)
  return result, checked


def _mp(attention, slow=False):
  options = dict(hidden_units=8, num_heads=2, attention=attention, activation="relu")
  return pytest.param("mp", options, id=f"mp-{attention}",
                      marks=[pytest.mark.slow] if slow else [])


# LPGNAS attention kinds; "const" (an unnormalised sum over up to 169 in-neighbours) stays
# below 0.97 (0.847 measured, docs/int8.md) and is not listed.
# Each case trains a Cora model for 100 epochs. The default run keeps GCN and one
# attention kind of MessagePassing (cos); the neighbour-row aggregation of SAGE and GAT
# layers is checked against the sparse layout in test_layer_matches_sparse_layout, and
# SAGE's int8 conversion in this layout in test_graph_classifier_converts_to_int8.
NODE_CASES = [pytest.param("gcn", {}, id="gcn"),
              pytest.param("sage", {}, id="sage", marks=pytest.mark.slow),
              pytest.param("gat", dict(hidden_units=8, num_heads=8), id="gat",
                           marks=pytest.mark.slow),
              _mp("sym-gat", slow=True), _mp("cos"), _mp("gat", slow=True), _mp("linear", slow=True),
              _mp("gene-linear", slow=True), _mp("gcn", slow=True)]


@pytest.mark.parametrize("architecture,options", NODE_CASES)
def test_node_classifier_converts_in_neighbor_layout(architecture, options, cora, tmp_path):
  spec = ModelSpec(architecture, input_normalization="row", weight_decay=5e-4, **options)
  # Trained to convergence (100 epochs): a half-trained model (30 epochs, ~74 %) has many
  # near-ties, and its agreement moves by +-0.005 with any change of summation order.
  trained = train(spec, cora, TrainConfig(epochs=100), progress=False).model
  reference = predict(trained, make_task(cora))[cora.test_index]
  _, k = feeds.layout_sizes(cora, "neighbors")
  export = transfer_weights(trained, build_model(
      spec, num_features=cora.num_features, num_classes=cora.num_classes,
      layout="neighbors", max_neighbors=k))
  _, float32 = _convert_and_verify(export, cora, cora.test_index, reference, "tflite-float32",
                                   tmp_path, k, floor=0.995)
  result, int8 = _convert_and_verify(export, cora, cora.test_index, reference, "tflite-int8",
                                     tmp_path, k, floor=0.97)
  assert float32.agreement >= 0.995 and int8.agreement >= 0.97
  info = tflite_file.read_model(result.path)
  assert not tflite_file.float_compute_ops(info)
  assert "UNSORTED_SEGMENT_SUM" not in result.ops


# (architecture, model options, epochs): GIN after 20 epochs still predicts one class for
# every graph (agreement 1.0 for free); after 60 it predicts both.
GRAPH_CASES = [("gcn", dict(readout="mean"), 20), ("sage", dict(readout="mean"), 20),
               ("gin", dict(hidden_units=16, num_layers=2), 60)]


@functools.lru_cache(maxsize=None)
def _trained_graph_classifier(spec, epochs):
  """Trained once per case: the neighbors and dense exports share the model."""
  return train(spec, data.load("mutag"), TrainConfig(epochs=epochs, batch_size=32),
               progress=False).model


@pytest.mark.parametrize("layout", ["neighbors", "dense"])
@pytest.mark.parametrize("architecture,options,epochs", GRAPH_CASES,
                         ids=[c[0] for c in GRAPH_CASES])
def test_graph_classifier_converts_to_int8(architecture, options, epochs, layout, mutag,
                                           tmp_path):
  """int8 agreement >= 0.97 over all 188 MUTAG graphs.

  The artifact is fixed once converted (calibrated on 50 training graphs); what is
  measured is whether it reproduces its own Keras model's predictions, not accuracy, so
  scoring every graph (training graphs included) is legitimate, and 188 graphs resolve
  0.97 where one test fold of ~19 graphs (one disagreement = 0.053) cannot.
  """
  spec = ModelSpec(architecture, dropout=0.0, **options)
  trained = _trained_graph_classifier(spec, epochs)
  capacity, k = feeds.layout_sizes(mutag, layout)
  assert capacity == mutag.max_nodes
  export = transfer_weights(trained, build_model(
      spec, num_features=mutag.num_features, num_classes=2, task="graph", layout=layout,
      max_neighbors=k, capacity=capacity))
  every_graph = np.arange(len(mutag.graphs))
  names = feeds.model_input_names(export)
  reference = np.concatenate([
      export(feeds.select(feeds.graph_feed(g, layout, capacity, max_neighbors=k), names),
             training=False)["logits"].numpy() for g in mutag.graphs])
  assert np.bincount(reference.argmax(-1), minlength=2).min() >= 5   # not a constant model
  _, float32 = _convert_and_verify(export, mutag, every_graph, reference, "tflite-float32",
                                   tmp_path, k, floor=0.995, capacity=capacity, layout=layout)
  result, int8 = _convert_and_verify(export, mutag, every_graph, reference, "tflite-int8",
                                     tmp_path, k, floor=0.97, capacity=capacity, layout=layout)
  assert float32.examples == int8.examples == 188
  assert float32.agreement >= 0.995 and int8.agreement >= 0.97
  assert not tflite_file.float_compute_ops(tflite_file.read_model(result.path))


@pytest.mark.slow
def test_cora_gcn_ptq_int8_within_1_5_points_of_float(cora, tmp_path):
  """Deploy-core target: PTQ full-int8 of the Cora GCN teacher loses <= 1.5 points.

  An accuracy target (200 epochs): slow. The default run converts a Cora GCN to full int8
  in this layout in test_node_classifier_converts_in_neighbor_layout[gcn], and int8
  inputs/outputs in tests/test_sidecar.py and tests/test_cli_inspect_bench.py (mcu)."""
  spec = ModelSpec("gcn", input_normalization="row", weight_decay=5e-4)
  trained = train(spec, cora, TrainConfig(epochs=200, patience=100), seed=0,
                  progress=False).model
  reference = predict(trained, make_task(cora))[cora.test_index]
  keras_accuracy = float(np.mean(reference.argmax(-1) == cora.labels[cora.test_index]))
  _, k = feeds.layout_sizes(cora, "neighbors")
  export = transfer_weights(trained, build_model(
      spec, num_features=cora.num_features, num_classes=7, layout="neighbors", max_neighbors=k))
  result, int8 = _convert_and_verify(export, cora, cora.test_index, reference, "tflite-int8",
                                     tmp_path, k, floor=0.97)
  assert keras_accuracy >= 0.80
  assert int8.test_accuracy >= keras_accuracy - 0.015
  assert result.ops.get("QUANTIZE") and "UNSORTED_SEGMENT_SUM" not in result.ops
  # int8 inputs/outputs (the faster form, docs/int8.md): Cora's 0/1 features are exact at
  # the calibrated input scale, so the predictions are the float-input artifact's.
  io_result, io_int8 = _convert_and_verify(export, cora, cora.test_index, reference,
                                           "tflite-int8", tmp_path, k, floor=0.97,
                                           integer_io=True)
  info = tflite_file.read_model(io_result.path)
  assert info.input("node_features").dtype == "int8"
  assert info.output("logits").dtype == "int8"
  assert "QUANTIZE" not in io_result.ops and "DEQUANTIZE" not in io_result.ops
  assert io_int8.test_accuracy == pytest.approx(int8.test_accuracy, abs=0.002)
