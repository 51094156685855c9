"""Layer-wise full-graph inference (`edgegnn.scale.layerwise`) against one call of the model
on the whole graph, and the teacher logits written once."""
import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import numpy as np
import pytest
import tensorflow as tf

from edgegnn.data.loading import load
from edgegnn.models import ModelSpec, build_model, feeds
from edgegnn.quantization import QuantizationConfig
from edgegnn.scale import layerwise_accuracy, layerwise_logits, teacher_logits


@pytest.fixture(scope="module")
def cora():
  return load("cora")


def _model(dataset, arch, layout="sparse", features="dense", quantization=None):
  tf.keras.utils.set_random_seed(0)
  spec = ModelSpec(architecture=arch, hidden_units=8, input_normalization="row")
  return build_model(spec, num_features=dataset.num_features, num_classes=dataset.num_classes,
                     layout=layout, features=features, quantization=quantization,
                     max_neighbors=int(dataset.graph.in_degree().max()))


def _whole_graph(model, graph, layout):
  feed = feeds.graph_feed(graph, layout, max_neighbors=int(graph.in_degree().max()))
  return model(feeds.select(feed, feeds.model_input_names(model)), training=False)["logits"]


@pytest.mark.parametrize("arch,layout,features,quantized", [
    ("gcn", "sparse", "dense", False),
    ("sage", "neighbors", "dense", True),      # Degree-Quant INT8, ranges set by one step
    ("gat", "sparse", "binary", False),
    ("mlp", "sparse", "binary", False),
])
def test_layerwise_equals_one_whole_graph_call(cora, arch, layout, features, quantized):
  model = _model(cora, arch, layout, features, QuantizationConfig() if quantized else None)
  if quantized:
    feed = feeds.graph_feed(cora.graph, layout, max_neighbors=int(cora.graph.in_degree().max()))
    model(feeds.select(feed, feeds.model_input_names(model)), training=True)
  expected = _whole_graph(model, cora.graph, layout).numpy()
  got = layerwise_logits(model, cora.graph, chunk=600)     # 5 chunks
  assert got.shape == expected.shape
  assert expected.std() > 1e-3                              # not a constant output
  np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
  accuracy, loss = layerwise_accuracy(model, cora, "test", logits=got)
  test = cora.test_index
  assert accuracy == pytest.approx(np.mean(expected[test].argmax(1) == cora.labels[test]))
  assert np.isfinite(loss)


def test_teacher_logits_written_once(cora, tmp_path):
  teacher = _model(cora, "gcn")
  path = tmp_path / "teacher_logits.npz"
  first = teacher_logits(teacher, cora.graph, 1000, str(path))
  np.testing.assert_allclose(first, _whole_graph(teacher, cora.graph, "sparse").numpy(),
                             rtol=1e-4, atol=1e-5)
  other = _model(cora, "sage")        # a different model: the stored logits come back
  np.testing.assert_array_equal(teacher_logits(other, cora.graph, 1000, str(path)), first)
  np.savez(path, logits=first[:10])
  with pytest.raises(ValueError, match="delete the file"):
    teacher_logits(teacher, cora.graph, 1000, str(path))


def test_graph_models_are_refused(cora):
  model = build_model(ModelSpec(architecture="gin"), num_features=4, num_classes=2,
                      task="graph", batched=True)
  with pytest.raises(ValueError, match="layer-wise inference"):
    layerwise_logits(model, cora.graph)
