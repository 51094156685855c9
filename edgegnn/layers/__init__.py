"""Keras layers for GNNs on TF-GNN graphs, runnable in sparse and dense layouts."""
from edgegnn.layers import activations
from edgegnn.layers import attention
from edgegnn.layers.attention import EdgeAttention
from edgegnn.layers.edge_conv import EdgeConv
from edgegnn.layers.gat_conv import GATConv
from edgegnn.layers.gcn_conv import GCNConv
from edgegnn.layers.gin_conv import GINConv
from edgegnn.layers.graph_inputs import GraphTensorFromPieces, KnnCandidates, Membership, RowNormalize
from edgegnn.layers.message_passing import MessagePassing
from edgegnn.layers.readout import GraphReadout
from edgegnn.layers.sage_conv import SAGEConv
from edgegnn.layers.sparse_features import FeatureTransform
from edgegnn.layers.structure import DenseStructure, SparseStructure, structure_of

__all__ = [
    "activations", "attention", "EdgeAttention", "EdgeConv", "GATConv", "GCNConv", "GINConv",
    "GraphTensorFromPieces", "KnnCandidates", "Membership", "RowNormalize", "MessagePassing",
    "GraphReadout", "SAGEConv", "FeatureTransform", "DenseStructure", "SparseStructure", "structure_of",
]
