"""The stage kinds of a pipeline file, one module each (registered in
`edgegnn.pipeline.registry`):

| kind | module | what it does |
|---|---|---|
| train, degree_quant, qat | train | a zoo model trained (float, Degree-Quant, plain QAT) |
| ptq | ptq | post-training quantization of a trained model |
| distill | distill | a student from a teacher: kd, lsp, glnn, cpf, gnn-sd, gfkd |
| binarize | binarize | a binary (Larq) model by staged distillation, shipped as lce |
| federated | federated | federated averaging across clients (Flower) |
| export | export | artifacts converted, verified and benchmarked |
| search | `edgegnn.search.stage` | LPGNAS search, the genotype retrained and shipped |

`base` holds what they share. Importing this package imports none of them: a kind's
module is imported when a pipeline names it (`registry.get`).
"""


def __getattr__(name):
  """The config class of a built-in kind by its class name (e.g. `stages.TrainStage`)."""
  from edgegnn.pipeline import registry  # pylint: disable=g-import-not-at-top
  for kind in registry.BUILT_IN:
    config = registry.get(kind).config
    if config.__name__ == name:
      return config
  raise AttributeError(f"module 'edgegnn.pipeline.stages' has no attribute {name!r}")
