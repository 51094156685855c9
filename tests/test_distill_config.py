"""DistillConfig validation, method aliases, hidden states of zoo models."""
import copy
import dataclasses
import pickle

import numpy as np
import pytest

from edgegnn.data import Graph
from edgegnn.distill import METHOD_CONFIGS, DistillConfig, GLNNConfig, get, methods
from edgegnn.distill.hidden_states import with_hidden_states
from edgegnn.models import ModelSpec, build_model, feeds


@pytest.mark.parametrize("alias,name", [("soft-targets", "kd"), ("gnn-to-mlp", "glnn"),
                                        ("sd", "gnn-sd"), ("graph-free", "gfkd"),
                                        ("cpf", "cpf"), ("lsp", "lsp")])
def test_aliases_resolve_through_one_get(alias, name):
  assert get(alias).name == name
  assert DistillConfig(method=alias).method == name


def test_unknown_method_lists_valid_ones():
  with pytest.raises(ValueError, match="kd, lsp, glnn, cpf, gnn-sd, gfkd"):
    get("fitnets")


def test_from_dict_rejects_unknown_key_with_suggestion():
  with pytest.raises(ValueError, match="Did you mean 'temperature'"):
    DistillConfig.from_dict({"method": "kd", "temprature": 2.0})
  with pytest.raises(TypeError, match="must be a list"):
    DistillConfig.from_dict({"method": "lsp", "lsp_layers": "conv0"})


@pytest.mark.parametrize("values,words", [
    ({"temperature": 0.0}, "temperature"), ({"alpha": 1.2}, "alpha"),
    ({"method": "lsp", "lsp_kernel": "cosine"}, "distance, rbf"),
    ({"soft_nodes": "val"}, "soft_nodes"),
    ({"method": "gfkd", "gfkd_samples": 1}, "gfkd_samples"),
    ({"method": "cpf", "cpf_confidence": "x"}, "cpf_confidence"),
    ({"method": "lsp", "lsp_layers": []}, "lsp_layers"),
    ({"method": "lsp", "lsp_direction": "both"}, "student_teacher, teacher_student"),
    ({"method": "lsp", "lsp_temperature": 0.0}, "lsp_temperature"),
    ({"method": "gfkd", "gfkd_min_nodes": 30, "gfkd_nodes": 28}, "gfkd_min_nodes"),
    ({"method": "gfkd", "gfkd_entropy_weight": -1.0}, "gfkd_entropy_weight"),
    ({"method": "gfkd", "gfkd_bn_layers": -1}, "gfkd_bn_layers"),
    ({"method": "gfkd", "gfkd_snapshot_every": -1}, "gfkd_snapshot_every"),
    ({"method": "gfkd", "gfkd_max_degree": -1}, "gfkd_max_degree"),
    ({"method": "gfkd", "gfkd_feature_support": 1.0}, "gfkd_feature_support"),
    ({"method": "gfkd", "gfkd_feature_support": -0.1}, "gfkd_feature_support"),
    ({"method": "gnn-sd", "sd_gate": "nodes"}, "sd_gate must be one of layer, node"),
    ({"method": "kd", "epochs": 0}, "epochs"), ({"weight_decay": -1e-4}, "weight_decay")])
def test_invalid_values_name_the_key(values, words):
  with pytest.raises(ValueError, match=words):
    DistillConfig.from_dict(values)


# Each method's options, besides the common ones (method, epochs, learning_rate,
# weight_decay): an independent list of what each method reads.
OWN_OPTIONS = {
    "kd": {"patience", "temperature", "alpha", "soft_nodes"},
    "glnn": {"patience", "temperature", "alpha", "soft_nodes"},
    "lsp": {"patience", "temperature", "alpha", "soft_nodes", "lsp_weight", "lsp_kernel",
            "lsp_sigma", "lsp_temperature", "lsp_direction", "lsp_layers"},
    "cpf": {"patience", "temperature", "cpf_steps", "cpf_confidence", "cpf_hidden_units",
            "cpf_dropout", "cpf_edge_dropout"},
    "gnn-sd": {"patience", "sd_weight", "sd_layers", "sd_self_loops", "sd_gate"},
    "gfkd": {"temperature", "batch_size"} | {
        "gfkd_" + k for k in ("graphs", "nodes", "min_nodes", "steps", "learning_rate",
                              "samples", "bn_weight", "entropy_weight", "bn_layers",
                              "edge_prior", "one_hot", "snapshot_every",
                              "target_concentration", "adversarial_rounds",
                              "adversarial_weight", "adversarial_epochs", "hint_weight",
                              "hint_layers", "max_degree", "feature_support")},
}
COMMON = {"method", "epochs", "learning_rate", "weight_decay"}


@pytest.mark.parametrize("method", sorted(OWN_OPTIONS))
def test_each_method_config_holds_only_its_own_options(method):
  cls = METHOD_CONFIGS[method]
  assert {f.name for f in dataclasses.fields(cls)} == COMMON | OWN_OPTIONS[method]
  assert type(DistillConfig(method=method)) is cls
  assert type(DistillConfig.from_dict({"method": method})) is cls


@pytest.mark.parametrize("method,option", [("kd", "gfkd_graphs"), ("glnn", "lsp_weight"),
                                           ("gnn-sd", "temperature"), ("gfkd", "patience"),
                                           ("cpf", "alpha"), ("lsp", "sd_weight")])
def test_an_option_of_another_method_is_an_error_naming_both(method, option):
  owners = sorted(m for m, own in OWN_OPTIONS.items() if option in own)
  value = {"gfkd_graphs": 512, "lsp_weight": 1.0, "temperature": 2.0, "patience": 5,
           "alpha": 0.5, "sd_weight": 0.1}[option]
  for build in (lambda: DistillConfig.from_dict({"method": method, option: value},
                                                "distill(s)"),
                lambda: DistillConfig(method=method, **{option: value})):
    with pytest.raises(ValueError) as error:
      build()
    message = str(error.value)
    assert f"method {method}" in message and option in message
    assert all(owner in message for owner in owners)
    # ... and lists the method's own options, every one of them.
    listed = message.rpartition(f"Options of method {method}: ")[2].rstrip(".").split(", ")
    assert set(listed) == COMMON | OWN_OPTIONS[method]


def test_dataclass_copies_keep_the_method_class():
  config = DistillConfig(method="glnn", alpha=0.0)
  assert dataclasses.replace(config, alpha=0.5) == GLNNConfig(alpha=0.5)
  assert copy.deepcopy(config) == config and pickle.loads(pickle.dumps(config)) == config
  with pytest.raises(ValueError, match="does not match GLNNConfig"):
    dataclasses.replace(config, method="gfkd")
  with pytest.raises(ValueError, match="distill.method: Unknown distillation method"):
    DistillConfig.from_dict({"method": "fitnets"})


def test_lsp_pairs_and_round_trip():
  config = DistillConfig.from_dict({"method": "lsp", "lsp_layers": ["conv0", "conv1:conv0"]})
  assert config.lsp_pairs() == [("conv0", "conv0"), ("conv1", "conv0")]
  assert DistillConfig.from_dict(config.to_dict()) == config
  assert set(methods.METHODS) == {"kd", "lsp", "glnn", "cpf", "gnn-sd", "gfkd"}


def test_hidden_states_share_weights_and_match_layer_outputs():
  rng = np.random.default_rng(0)
  graph = Graph(rng.normal(size=(6, 5)), [0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 0])
  model = build_model(ModelSpec("gcn", hidden_units=4, num_layers=3, dropout=0.0),
                      num_features=5, num_classes=3)
  probe = with_hidden_states(model, ["conv0", "conv1"])
  feed = feeds.select(feeds.graph_feed(graph), feeds.model_input_names(model))
  out = probe(feed)
  assert set(out) == {"logits", "conv0", "conv1"}
  assert out["conv0"].shape == (6, 4)
  np.testing.assert_array_equal(out["logits"].numpy(), model(feed)["logits"].numpy())
  assert probe.trainable_variables == model.trainable_variables or all(
      a is b for a, b in zip(probe.trainable_variables, model.trainable_variables))
  # conv0 of a 3-layer GCN: relu(A_hat X W0 + b0) computed by hand
  a = np.zeros((6, 6)); a[graph.edge_target, graph.edge_source] = 1; a += np.eye(6)
  d = 1 / np.sqrt(a.sum(1))
  w = model.get_layer("conv0").get_weights()   # bias, kernel (order by creation)
  kernel = [x for x in w if x.ndim == 2][0]; bias = [x for x in w if x.ndim == 1][0]
  want = np.maximum(d[:, None] * a * d[None, :] @ graph.node_features @ kernel + bias, 0)
  np.testing.assert_allclose(out["conv0"].numpy(), want, rtol=1e-5, atol=1e-5)


def test_hidden_states_reject_unknown_layer():
  model = build_model(ModelSpec("mlp"), num_features=5, num_classes=3)
  with pytest.raises(ValueError, match="dense0"):
    with_hidden_states(model, ["conv0"])
