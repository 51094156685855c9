"""Graph datasets shipped with edgegnn, loaded with numpy only (no TensorFlow, no pickle).

    from edgegnn import data
    cora = data.load("cora")            # NodeClassificationDataset
    mutag = data.load("MUTAG")          # GraphClassificationDataset, 10 folds
    train, test = mutag.split(0)

Your own graph (npz, csv, the OGB layout, TF-GNN GraphSchema + TFRecord): `load_source`
(edgegnn.data.sources, docs/data.md).

The files in `edgegnn/data/files/` are made by `tools/convert_datasets.py`.
"""
from edgegnn.data.datasets import GraphClassificationDataset
from edgegnn.data.datasets import NodeClassificationDataset
from edgegnn.data.graph import CapacityError
from edgegnn.data.graph import Graph
from edgegnn.data.graph import merge_graphs
from edgegnn.data.loading import Dataset
from edgegnn.data.loading import DatasetFileError
from edgegnn.data.loading import load
from edgegnn.data.registry import available_datasets
from edgegnn.data.registry import UnknownDatasetError
from edgegnn.data.sources import SourceError
from edgegnn.data.sources import load_source
from edgegnn.data.sparse import SparseFeatures

__all__ = [
    "CapacityError",
    "Dataset",
    "DatasetFileError",
    "Graph",
    "GraphClassificationDataset",
    "NodeClassificationDataset",
    "SourceError",
    "SparseFeatures",
    "UnknownDatasetError",
    "available_datasets",
    "load",
    "load_source",
    "merge_graphs",
]
