"""Degree-Quant and QAT: quantizers vs numpy, straight-through gradients, the protective
mask's statistics, evaluation without mask, save -> reload, and full-int8 conversion."""
import numpy as np
import pytest

from edgegnn import data, layers as gl
from edgegnn import quantization as qz
from edgegnn.quantization import calibration
from edgegnn.deploy import convert as convert_lib, tflite_file, verify as verify_lib
from edgegnn.models import ModelSpec, build_model, feeds
from edgegnn.training import TrainConfig, make_task, predict, train
import tensorflow as tf


def _numpy_fake_quant(x, lo, hi, bits):
  """Reference of FQ with TF's zero-point nudging: range shifted so 0 is on the grid."""
  levels = 2 ** bits - 1
  scale = (hi - lo) / levels
  zero = np.clip(np.floor(-lo / scale + 0.5), 0, levels)
  lo_n, hi_n = -zero * scale, (levels - zero) * scale
  steps = np.floor((np.clip(x, lo_n, hi_n) - lo_n) / scale + 0.5)  # ties round up, as TF
  return steps * scale + lo_n, (lo_n, hi_n)


@pytest.mark.parametrize("bits", [4, 8])
def test_fake_quant_forward_and_straight_through_gradient(bits):
  x = tf.Variable(np.linspace(-2.0, 3.0, 41).astype(np.float32))
  with tf.GradientTape() as tape:
    y = qz.fake_quant(x, tf.constant(-1.0), tf.constant(2.0), bits)
  expected, (lo, hi) = _numpy_fake_quant(x.numpy(), -1.0, 2.0, bits)
  np.testing.assert_allclose(y.numpy(), expected, atol=1e-5)
  grad = tape.gradient(y, x).numpy()
  inside = (x.numpy() >= lo - 1e-6) & (x.numpy() <= hi + 1e-6)
  np.testing.assert_array_equal(grad, inside.astype(np.float32))  # zero outside the range


def test_percentile_ranges_clip_outliers_and_minmax_does_not():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(2000, 8)).astype(np.float32)
  x[0, 0] = 100.0
  percentile = qz.ActivationQuantizer(8, "percentile", percentile=0.1)
  minmax = qz.ActivationQuantizer(8, "minmax")
  percentile(tf.constant(x), training=True)
  minmax(tf.constant(x), training=True)
  assert float(minmax.hi) == pytest.approx(100.0)
  assert float(percentile.hi) == pytest.approx(np.percentile(x, 99.9), rel=0.05)
  assert float(percentile.lo) == pytest.approx(np.percentile(x, 0.1), rel=0.05)


def test_range_momentum_tracks_across_batches():
  quantizer = qz.ActivationQuantizer(8, "minmax", momentum=0.5)
  quantizer(tf.constant([[0.0, 4.0]]), training=True)     # first batch sets [0, 4]
  quantizer(tf.constant([[-2.0, 2.0]]), training=True)    # then 0.5 * old + 0.5 * new
  assert (float(quantizer.lo), float(quantizer.hi)) == pytest.approx((-1.0, 3.0))
  quantizer(tf.constant([[-50.0, 50.0]]), training=False)  # evaluation never updates
  assert (float(quantizer.lo), float(quantizer.hi)) == pytest.approx((-1.0, 3.0))


def test_protected_rows_skip_quantization_in_training_only():
  quantizer = qz.ActivationQuantizer(2, "minmax")
  x = tf.constant([[0.2, 0.7], [0.4, 0.9]])   # 2-bit grid on [0, 0.9]: 0, .3, .6, .9
  protect = tf.constant([1.0, 0.0])
  trained = quantizer(x, protect=protect, training=True).numpy()
  np.testing.assert_allclose(trained[0], x.numpy()[0])               # full precision
  assert not np.allclose(trained[1], x.numpy()[1])                   # 2-bit grid
  evaluated = quantizer(x, protect=protect, training=False).numpy()
  assert not np.allclose(evaluated[0], x.numpy()[0])                 # no mask at evaluation


def test_quant_dense_quantizes_weights_symmetrically_with_ste():
  layer = qz.QuantDense(3, weight_bits=4, use_bias=False)
  x = tf.Variable(np.eye(5, dtype=np.float32))
  with tf.GradientTape(persistent=True) as tape:
    y = layer(x)
  w = layer.kernel.numpy()
  bound = np.abs(w).max()
  scale = 2 * bound / 14  # narrow range: 15 levels in [-bound, bound]
  w_q = np.floor(w / scale + 0.5) * scale
  np.testing.assert_allclose(y.numpy(), w_q, atol=1e-5)      # x = I: y is W_q itself
  # d(sum y)/dx = row sums of W_q; d(sum y)/dW = x^T 1 = 1 (STE, all inside the range).
  np.testing.assert_allclose(tape.gradient(y, x).numpy(), np.tile(w_q.sum(1), (5, 1)),
                             atol=1e-5)
  np.testing.assert_allclose(tape.gradient(y, layer.kernel).numpy(), np.ones_like(w))


def test_protection_probability_follows_degree_cdf():
  degree = tf.constant([1.0, 1.0, 2.0, 5.0])
  p = qz.protection_probability(degree, 0.1, 0.2).numpy()
  np.testing.assert_allclose(p, [0.15, 0.15, 0.175, 0.2])


def test_mask_frequency_per_degree_bucket_matches_p_i(cora):
  """Mean masked fraction per in-degree bucket = p_i within 4 binomial std errors."""
  graph = cora.graph.to_graph_tensor()
  mask_layer = qz.ProtectiveMask(0.0, 0.1, seed=1)
  draws = 200
  masks = np.stack([mask_layer(graph, training=True).numpy() for _ in range(draws)])
  degree = cora.graph.in_degree()
  p = qz.protection_probability(tf.constant(degree, tf.float32), 0.0, 0.1).numpy()
  for low, high in [(1, 1), (2, 2), (3, 4), (5, 9), (10, 200)]:
    bucket = (degree >= low) & (degree <= high)
    observed = masks[:, bucket].mean()
    expected = p[bucket].mean()
    stderr = np.sqrt(expected * (1 - expected) / (draws * bucket.sum()))
    assert abs(observed - expected) <= 4 * stderr + 1e-9, (low, high, observed, expected)
  assert masks[:, degree >= 10].mean() > 2 * masks[:, degree == 1].mean()
  assert not mask_layer(graph, training=False).numpy().any()  # evaluation: nothing masked


def test_dq_model_is_deterministic_at_evaluation_and_reloads_with_exact_types(cora, tmp_path):
  spec = ModelSpec("gcn", input_normalization="row")
  config = qz.QuantizationConfig("dq", weight_bits=4, activation_bits=4)
  model = build_model(spec, num_features=cora.num_features, num_classes=7, quantization=config)
  feed = feeds.select(feeds.graph_feed(cora.graph), feeds.model_input_names(model))
  model(feed, training=True)                 # sets ranges
  a = model(feed, training=False)["logits"].numpy()
  b = model(feed, training=False)["logits"].numpy()
  np.testing.assert_array_equal(a, b)
  conv = model.get_layer("conv0")
  assert isinstance(conv.transform, qz.QuantDense)
  assert isinstance(conv.quantization, qz.LayerQuantization)
  assert isinstance(model.get_layer("protective_mask"), qz.ProtectiveMask)
  reloaded = gl.GCNConv.from_config(conv.get_config())
  assert type(reloaded.transform) is qz.QuantDense and reloaded.transform.weight_bits == 4
  assert type(reloaded.quantization) is qz.LayerQuantization
  assert reloaded.quantization.get_config()["range_tracking"] == "percentile"


def test_config_rejects_bad_options():
  with pytest.raises(ValueError, match="unknown 'int8'.*ptq, qat, dq"):
    qz.QuantizationConfig("int8")
  with pytest.raises(ValueError, match="weight_bits must be an integer in \\[2, 8\\]"):
    qz.QuantizationConfig("dq", weight_bits=16)
  assert qz.QuantizationConfig("dq", activation_bits=4).p_min == 0.1
  with pytest.raises(ValueError, match="Did you mean 'p_max'"):
    qz.QuantizationConfig.from_dict({"pmax": 0.2})


@pytest.mark.slow
def test_dq_int8_gcn_trains_and_exports_full_integer_within_half_a_point(cora, tmp_path):
  """Issue 4: the DQ INT8 GCN exports to a full-integer .tflite (mobile) whose accuracy is
  within 0.5 pt of the Keras QAT model.

  An accuracy target (100 epochs): slow. In the default run a DQ model exports to full
  int8 in test_degree_quant_stage_to_tflite_micro_smoke (dense) and in
  tests/test_federated.py (a DQ GCN in the neighbors layout)."""
  spec = ModelSpec("gcn", input_normalization="row", weight_decay=5e-4)
  config = qz.QuantizationConfig("dq")
  model = build_model(spec, num_features=cora.num_features, num_classes=7, quantization=config)
  trained = train(spec, cora, TrainConfig(epochs=100, patience=50), seed=0, progress=False,
                  model=model).model
  reference = predict(trained, make_task(cora))[cora.test_index]
  keras_accuracy = float(np.mean(reference.argmax(-1) == cora.labels[cora.test_index]))
  assert keras_accuracy >= 0.79
  _, k = feeds.layout_sizes(cora, "neighbors")
  export = build_model(spec, num_features=cora.num_features, num_classes=7,
                       quantization=config, layout="neighbors", max_neighbors=k)
  export.set_weights(trained.get_weights())
  names = feeds.model_input_names(export)
  feed = feeds.select(feeds.graph_feed(cora.graph, "neighbors", max_neighbors=k), names)
  result = convert_lib.convert(export, "tflite-int8", tmp_path / "dq.tflite", target="mobile",
                               representative_feeds=[feed])
  assert not tflite_file.float_compute_ops(tflite_file.read_model(result.path))
  checked = verify_lib.verify(result.path, dataset=cora, test_index=cora.test_index,
                              reference_logits=reference, input_names=names,
                              layout="neighbors", max_neighbors=k, floor=0.97)
  assert abs(checked.test_accuracy - keras_accuracy) <= 0.005


DQ_MCU_PIPELINE = """
name: dq_mcu
dataset: mutag
stages:
  - degree_quant:
      name: gin_dq
      model: {architecture: gin, hidden_units: 32, num_layers: 4, dropout: 0.5, readout: sum}
      train: {epochs: 60, learning_rate: 0.01, batch_size: 32, seeds: [0], folds: [0]}
      quantization: {weight_bits: 8, activation_bits: 8}
  - export:
      model: gin_dq
      layout: dense
      formats: [tflite-int8]
      target: mcu
      bench_runs: 5
"""


def _run_dq_mcu_pipeline(tmp_path, text):
  import json
  from edgegnn import pipeline
  source = tmp_path / "dq.yaml"
  source.write_text(text)
  out = tmp_path / "out"
  pipeline.Runner(pipeline.load(source), out=str(out), log=lambda _: None,
                  progress=False).run()
  report = json.loads((out / "report.json").read_text())
  model, = report["models"]
  artifact, = report["artifacts"]
  assert (model["method"], model["weight_bits"], model["activation_bits"]) == ("dq", 8, 8)
  assert artifact["runtime"] == "tflm" and artifact["arena_bytes"] > 0
  assert not tflite_file.float_compute_ops(tflite_file.read_model(out / artifact["path"]))
  return model, artifact


def test_degree_quant_stage_to_tflite_micro_smoke(tmp_path):
  """The default-run check of the degree_quant stage -> mcu export path: a small DQ INT8
  GIN (16 units, 2 layers, 8 epochs) ships as full int8 for tflite-micro and its
  artifact reproduces its Keras model on the test fold. The 60-epoch run with its
  accuracy target is `test_degree_quant_stage_to_tflite_micro` (slow)."""
  text = (DQ_MCU_PIPELINE.replace("hidden_units: 32, num_layers: 4",
                                  "hidden_units: 16, num_layers: 2")
          .replace("epochs: 60", "epochs: 8"))
  assert "num_layers: 2" in text and "epochs: 8," in text
  model, artifact = _run_dq_mcu_pipeline(tmp_path, text)
  assert artifact["agreement"] >= 0.94
  assert abs(artifact["test_accuracy"] - model["test_accuracy"]) <= 1 / 18 + 1e-9


@pytest.mark.slow
def test_degree_quant_stage_to_tflite_micro(tmp_path):
  """Issue 4: a DQ INT8 GIN (MUTAG, dense layout) runs on tflite-micro as full int8."""
  model, artifact = _run_dq_mcu_pipeline(tmp_path, DQ_MCU_PIPELINE)
  assert model["test_accuracy"] >= 0.7
  # 18 test graphs: one flipped prediction is 5.6 points.
  assert artifact["agreement"] >= 0.94
  assert abs(artifact["test_accuracy"] - model["test_accuracy"]) <= 1 / 18 + 1e-9


def test_float_gin_weights_transfer_into_a_later_quantized_build():
  """PTQ of GIN: the MLP layers are named, so a quantized build made after other models
  (Keras' auto-name counters have moved on) still has a twin for every float weight."""
  spec = ModelSpec("gin", hidden_units=8, num_layers=2)
  float_model = build_model(spec, num_features=7, num_classes=2, task="graph")
  build_model(spec, num_features=7, num_classes=2, task="graph")   # moves the counters
  quantized = build_model(spec, num_features=7, num_classes=2, task="graph",
                          quantization=qz.QuantizationConfig(method="ptq"))
  calibration.transfer_float_weights(float_model, quantized)
  names = {v.name for v in quantized.weights}
  assert all(v.name in names for v in float_model.weights)
  assert any("conv0_mlp_dense0" in name for name in names)
