"""LPGNAS (Zhao et al., 2020): a differentiable search over message-passing architectures
and per-layer precisions, then the chosen genotype retrained with Degree-Quant.

    from edgegnn import data
    from edgegnn.search import SearchConfig, search, build_genotype_model
    result = search(data.load("cora"), SearchConfig(), seed=0)   # SearchResult
    model = build_genotype_model(result.genotype, num_features=..., num_classes=...,
                                 quantization=QuantizationConfig("dq"))

| module | what it holds |
|---|---|
| `space` | the search space, `Genotype`, the bytes each choice costs |
| `supernet` | every choice at once, mixed by softmaxes of architecture logits |
| `search` | the search round (alternating weight and architecture steps) |
| `genotype_model` | a genotype as a zoo-contract Keras model (float or Degree-Quant) |
"""
from edgegnn.search.space import Genotype, LayerChoice, SearchSpace

_LAZY = {"SearchConfig": "search", "SearchResult": "search", "search": "search",
         "build_genotype_model": "genotype_model", "Supernet": "supernet"}


def __getattr__(name):
  if name in _LAZY:
    import importlib  # pylint: disable=g-import-not-at-top
    return getattr(importlib.import_module(f"edgegnn.search.{_LAZY[name]}"), name)
  raise AttributeError(f"module 'edgegnn.search' has no attribute {name!r}")


__all__ = ["Genotype", "LayerChoice", "SearchSpace", *_LAZY]
