"""Every zoo architecture in float16 and dynamic-range int8 agrees with Keras (>= 0.99).

The deploy-core issue asks each architecture to convert to float32, float16, dynamic-int8
and int8 in the layouts that make sense. float32 (both layouts) is in
tests/test_models_tflite.py, full int8 (neighbors and dense layouts) in
tests/test_neighbor_layout.py; this file covers the two weight-only formats, in the sparse
layout that float artifacts use. The models are 64 units wide: the converter's
dynamic-range quantization leaves weight matrices with fewer than 1024 entries in float,
so a narrower model would not exercise int8 weights at all (the test checks it does).
"""
import pytest

from edgegnn import data
from edgegnn.deploy import convert as convert_lib
from edgegnn.deploy import tflite_file
from edgegnn.deploy import verify as verify_lib
from edgegnn.models import ModelSpec, build_model, feeds, transfer_weights
from edgegnn.training import TrainConfig, make_task, predict, train

CASES = [
    ("gcn", "mutag", dict(num_layers=2, readout="mean")),
    ("gat", "mutag", dict(hidden_units=32, num_heads=2, num_layers=2, readout="mean")),
    ("sage", "mutag", dict(num_layers=2, readout="mean")),
    ("gin", "mutag", dict(num_layers=2)),
    # EdgeConv trains on 1,437 point clouds (most of this file's time): slow. Its float32
    # export is in the default run (tests/test_models_tflite.py), these two formats for a
    # trained EdgeConv in `test_trained_edgeconv_weight_only_formats_agree` (slow).
    pytest.param("edgeconv", "digits_points", dict(num_layers=2, k=6, readout="mean+max"),
                 marks=pytest.mark.slow, id="edgeconv"),
    ("mp", "mutag", dict(hidden_units=32, num_heads=2, num_layers=2, attention="gat",
                         readout="mean")),
    ("mlp", "mutag", dict(num_layers=2, readout="mean")),
]


@pytest.fixture(scope="module")
def trained_models():
  cache = {}

  def get(architecture, dataset, options):
    key = (architecture, dataset)
    if key not in cache:
      ds = data.load(dataset)
      spec = ModelSpec(architecture, dropout=0.0, **{"hidden_units": 64, **options})
      trained = train(spec, ds, TrainConfig(epochs=3, batch_size=64), progress=False).model
      task = make_task(ds, 0)
      test_index = task.split("test")
      export = transfer_weights(trained, build_model(   # one graph per call
          spec, num_features=ds.num_features, num_classes=ds.num_classes, task="graph"))
      cache[key] = ds, export, test_index, predict(trained, task, test_index)
    return cache[key]
  return get


# The default run converts each architecture to one of the two formats, each format for
# three architectures (dynamic-range int8 for the attention models and the MLP); the
# other half of the grid is slow.
FAST = {("gcn", "tflite-float16"), ("sage", "tflite-float16"), ("gin", "tflite-float16"),
        ("gat", "tflite-dynamic-int8"), ("mp", "tflite-dynamic-int8"),
        ("mlp", "tflite-dynamic-int8")}


def _grid():
  for case in CASES:
    values = case.values if hasattr(case, "values") else case
    marks = list(case.marks) if hasattr(case, "marks") else []
    for fmt in ("tflite-float16", "tflite-dynamic-int8"):
      slow = [] if (values[0], fmt) in FAST else [pytest.mark.slow]
      yield pytest.param(*values, fmt, marks=marks + slow, id=f"{values[0]}-{fmt}")


@pytest.mark.parametrize("architecture,dataset,options,fmt", list(_grid()))
def test_weight_only_formats_agree(architecture, dataset, options, fmt, trained_models,
                                   tmp_path):
  ds, model, test_index, reference = trained_models(architecture, dataset, options)
  # EdgeConv's second k-NN runs on learned features. float16 weights leave them exact
  # enough (agreement 1.000); dynamic-range int8 also quantizes each FULLY_CONNECTED
  # input at run time, and near-equal distances then order differently: 0.989 (356 of 360
  # digits) for this 3-epoch model at 22 % accuracy, 0.997 for a trained one (95 %,
  # `test_trained_edgeconv_weight_only_formats_agree`, slow). Floor 0.985 for that case.
  floor = 0.985 if (architecture, fmt) == ("edgeconv", "tflite-dynamic-int8") else 0.99
  names = feeds.model_input_names(model)
  result = convert_lib.convert(model, fmt, tmp_path / f"{architecture}.{fmt}.tflite",
                               target="mobile")
  checked = verify_lib.verify(result.path, dataset=ds, test_index=test_index,
                              reference_logits=reference, input_names=names,
                              layout="sparse", floor=floor)
  assert checked.agreement >= floor
  info = tflite_file.read_model(result.path)
  compressed = "float16" if fmt == "tflite-float16" else "int8"
  assert info.weight_bytes.get(compressed, 0) >= 4096   # at least one 64x64 matrix


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["tflite-float16", "tflite-dynamic-int8"])
def test_trained_edgeconv_weight_only_formats_agree(fmt, tmp_path):
  """A trained EdgeConv (40 epochs: about 95 % test accuracy on digits) agrees >= 0.99 in
  both weight-only formats (measured 1.000 and 0.997)."""
  ds = data.load("digits_points")
  spec = ModelSpec("edgeconv", dropout=0.0, hidden_units=64, num_layers=2, k=6,
                   readout="mean+max")
  trained = train(spec, ds, TrainConfig(epochs=40, batch_size=64), progress=False).model
  task = make_task(ds, 0)
  test_index = task.split("test")
  reference = predict(trained, task, test_index)
  assert (reference.argmax(-1) == ds.labels[test_index]).mean() >= 0.9
  model = transfer_weights(trained, build_model(
      spec, num_features=ds.num_features, num_classes=ds.num_classes, task="graph"))
  result = convert_lib.convert(model, fmt, tmp_path / f"edgeconv.{fmt}.tflite",
                               target="mobile")
  checked = verify_lib.verify(result.path, dataset=ds, test_index=test_index,
                              reference_logits=reference,
                              input_names=feeds.model_input_names(model), layout="sparse",
                              floor=0.99)
  assert checked.agreement >= 0.99
