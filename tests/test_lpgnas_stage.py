"""The `search` stage kind: a pipeline with a search stage searches, retrains the genotype
with Degree-Quant, records the genotype in report.json and ships a verified artifact."""
import pytest

import edgegnn.search.stage  # noqa: F401  (registers the search stage kind)
from edgegnn.pipeline import config as pipeline_config
from edgegnn.pipeline.runner import Runner
from edgegnn.search.genotype_model import export_format
from edgegnn.search.space import Genotype


@pytest.mark.slow
def test_search_stage_records_the_genotype_and_ships_it(tmp_path):
  pipeline = pipeline_config.parse({
      "name": "lpgnas", "dataset": "cora", "out": str(tmp_path / "run"),
      "stages": [{"search": {
          "name": "lpgnas",
          "search": {"epochs": 30, "warmup_epochs": 5,
                     "space": {"attentions": ["gcn", "gat"], "activations": ["relu", "elu"],
                               "widths": [8, 16]}},
          "train": {"epochs": 40, "patience": 40, "seeds": [0]}}}]})
  report = Runner(pipeline, out=str(tmp_path / "run"), log=lambda *_: None,
                  progress=False).run()
  model, = report["models"]
  genotype = Genotype.from_dict(model["genotype"])
  assert genotype.layers[-1].units == 7 and genotype.layers[0].units in (8, 16)
  assert model["test_accuracy"] > 0.6
  artifact, = report["artifacts"]
  assert artifact["format"] == export_format(genotype)
  assert artifact["agreement"] >= 0.97
