"""Binary GNNs with Larq, converted to LCE bitwise ops (LceBconv2d).

Layers: `BinaryLinear` (1x1 QuantConv2D over an NHWC view, learned scale), `BinEdgeConv`,
`XorEdgeConv`, binary GCN / SAGE (`binary_gcn_conv`, `binary_sage_conv`). Models:
`BinarySpec`, `build_binary_model`. Staged distillation: `BinarizeConfig`, `binarize`.
"""
from edgegnn.binary import knn, quantizers
from edgegnn.binary.edge_conv import BinEdgeConv, XorEdgeConv
from edgegnn.binary.linear import BinaryLinear
from edgegnn.binary.models import ARCHITECTURES, BinarySpec, binary_layers, build_binary_model
from edgegnn.binary.node_conv import binary_gcn_conv, binary_sage_conv

__all__ = ["knn", "quantizers", "BinEdgeConv", "XorEdgeConv", "BinaryLinear", "ARCHITECTURES",
           "BinarySpec", "binary_layers", "build_binary_model", "binary_gcn_conv",
           "binary_sage_conv"]
