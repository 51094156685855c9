"""Binary GNNs with Larq, converted to LCE bitwise ops (LceBconv2d).

Layers: `BinaryLinear` (1x1 QuantConv2D over an NHWC view, learned scale), `BinEdgeConv`,
`XorEdgeConv`, binary GCN / SAGE (`binary_gcn_conv`, `binary_sage_conv`). Models:
`BinarySpec`, `build_binary_model`. Staged distillation: `BinarizeConfig`, `binarize`.

`edgegnn.binary.config` (`BinarySpec`, `BinarizeConfig`) imports without TensorFlow and
larq (a pipeline file is checked with it); the layers and models load them on first use.
"""
from edgegnn._lazy import module_getattr

# Public name -> the module that defines it (imported on first access; "" for a submodule).
_MODULES = {
    "knn": "", "quantizers": "",
    "BinEdgeConv": "edge_conv", "XorEdgeConv": "edge_conv",
    "BinaryLinear": "linear",
    "ARCHITECTURES": "config", "BinarySpec": "config", "BinarizeConfig": "config",
    "binary_layers": "models", "build_binary_model": "models",
    "binary_gcn_conv": "node_conv", "binary_sage_conv": "node_conv",
    "binarize": "staged",
}


__getattr__ = module_getattr("edgegnn.binary", _MODULES)

__all__ = list(_MODULES)
