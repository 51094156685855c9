"""Federated training on Flower: FedAvg across graph-, subgraph- and node-level clients.

    from edgegnn.federated import FederatedConfig, run_federated
    result = run_federated(spec, dataset, FederatedConfig(setting="subgraph"), seed=0,
                           out_dir="runs/fl/seed0")

Modules: config (FederatedConfig), client_data (what a client holds), partition (the
three settings' partitioners), weights (the wire layout, statistics pooling), client
(LocalTraining, FlowerClient), strategy (GlobalModelStrategy around Flower's FedAvg /
FedAvgM / FedAdam), checkpoint (per-round server state), fedavg (the TFF-style
`build_weighted_fed_avg`), flower_app (simulation and multi-process engines), job (the
run description child processes read), run (`run_federated`), export (deploy-core export
of the global model), wire (recording what crosses the network).
"""
from edgegnn.federated.config import FederatedConfig

__all__ = ["FederatedConfig", "run_federated", "build_weighted_fed_avg", "export_global_model"]


def __getattr__(name):
  if name == "run_federated":
    from edgegnn.federated.run import run_federated
    return run_federated
  if name == "build_weighted_fed_avg":
    from edgegnn.federated.fedavg import build_weighted_fed_avg
    return build_weighted_fed_avg
  if name == "export_global_model":
    from edgegnn.federated.export import export_global_model
    return export_global_model
  raise AttributeError(f"module 'edgegnn.federated' has no attribute {name!r}")
