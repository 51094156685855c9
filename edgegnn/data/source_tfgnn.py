"""The `tfgnn` source format: TF-GNN's GraphSchema + TFRecord files of GraphTensors.

    {format: tfgnn, schema: graph_schema.pbtxt, path: "data-*.tfrecord",
     node_set: papers, edge_set: cites, features: hidden_state, label: label}

Each record is one `tf.train.Example` written by `tfgnn.write_example` and parsed with
`tfgnn.parse_single_example` against the schema (`tfgnn.read_schema`), one graph component
per record:

- node task: one record holding the whole graph; `label` is a feature of the node set.
- graph task: one record per graph; `label` is a context feature (one integer per graph).

A heterogeneous schema is accepted when `node_set` and `edge_set` name one node set and an
edge set from it to itself; without them it is refused with the list of sets. A node task's
split comes from the node set's `train_mask`, `val_mask` and `test_mask` features (non-zero =
in the split; PyG's convention) when the schema has all three, else from `split:`; a graph
task's from `split:` or `folds:`. This is the one format that imports TensorFlow.
"""
from __future__ import annotations

import glob
import pathlib
from typing import Any, Mapping

import numpy as np

from edgegnn.data.source_build import RawGraph, SourceError


def _pick(kind: str, names: list[str], chosen: Any, where: str, key: str) -> str:
  if chosen is not None:
    if chosen not in names:
      raise SourceError(f"{where}: the schema has no {kind} {chosen!r}; its {kind}s are "
                        f"{names}. Set `{key}` to one of them.")
    return chosen
  if len(names) != 1:
    raise SourceError(f"{where}: the schema has {len(names)} {kind}s {names}; name the one to "
                      f"use with `{key}`.")
  return names[0]


def files_of(spec: Mapping[str, Any]) -> list[pathlib.Path]:
  """The record files `spec["path"]` (a glob) matches, sorted."""
  return [pathlib.Path(p) for p in sorted(glob.glob(spec["path"]))]


def read_tfgnn(spec: Mapping[str, Any]) -> RawGraph:
  """The arrays of a GraphSchema + TFRecord source (see the module doc)."""
  schema_path = pathlib.Path(spec["schema"])
  if not schema_path.is_file():
    raise SourceError(f"{schema_path}: the graph schema does not exist; write it with "
                      "tfgnn.write_schema.")
  files = files_of(spec)
  if not files:
    raise SourceError(f"{spec['path']}: no TFRecord file matches; check `path` (a file or a "
                      "glob such as data-*.tfrecord).")
  import edgegnn._keras_env  # pylint: disable=g-import-not-at-top,unused-import
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tensorflow_gnn as tfgnn  # pylint: disable=g-import-not-at-top
  where = str(schema_path)
  try:
    schema = tfgnn.read_schema(str(schema_path))
    graph_spec = tfgnn.create_graph_spec_from_schema_pb(schema)
  except Exception as e:  # pylint: disable=broad-except  (protobuf / TF-GNN parse errors)
    raise SourceError(f"{where}: not a readable GraphSchema: {' '.join(str(e).split())}") \
        from None
  node_set = _pick("node set", sorted(schema.node_sets), spec.get("node_set"), where,
                   "node_set")
  loops = sorted(name for name, e in schema.edge_sets.items()
                 if e.source == node_set and e.target == node_set)
  edge_set = _pick(f"edge set from {node_set} to {node_set}", loops, spec.get("edge_set"),
                   where, "edge_set")
  feature, label = spec.get("features", "hidden_state"), spec.get("label", "label")
  node_features = sorted(schema.node_sets[node_set].features)
  if feature not in node_features:
    raise SourceError(f"{where}: node set {node_set!r} has no feature {feature!r}; its "
                      f"features are {node_features}. Set `features`.")
  context = sorted(schema.context.features)
  if label not in node_features and label not in context:
    raise SourceError(f"{where}: no feature {label!r} on node set {node_set!r} (features "
                      f"{node_features}) or the context (features {context}). Set `label`.")
  node_task = label in node_features
  masks = [f"{s}_mask" for s in ("train", "val", "test")]
  with_masks = node_task and all(m in node_features for m in masks)
  parts = {"x": [], "src": [], "dst": [], "y": [], "graph": []}
  splits = {}
  offset = 0
  records = tf.data.TFRecordDataset([str(f) for f in files])
  for number, record in enumerate(records):
    try:
      graph = tfgnn.parse_single_example(graph_spec, record)
    except Exception as e:  # pylint: disable=broad-except
      raise SourceError(f"{spec['path']}: record {number} does not parse against {where}: "
                        f"{' '.join(str(e).split())[:300]}") from None
    if int(graph.num_components) != 1:
      raise SourceError(f"{spec['path']}: record {number} holds {int(graph.num_components)} "
                        "graph components; write one graph per record.")
    nodes = graph.node_sets[node_set]
    x = np.asarray(nodes[feature])
    if x.ndim == 1:
      x = x[:, None]
    adjacency = graph.edge_sets[edge_set].adjacency
    parts["x"].append(x.reshape(x.shape[0], -1))
    parts["src"].append(np.asarray(adjacency.source) + offset)
    parts["dst"].append(np.asarray(adjacency.target) + offset)
    parts["y"].append(np.asarray(nodes[label] if node_task else graph.context[label]).reshape(-1))
    parts["graph"].append(np.full(x.shape[0], number, np.int64))
    if with_masks:
      splits = {m[:-len("_mask")]: np.flatnonzero(np.asarray(nodes[m]).reshape(-1))
                for m in masks}
    offset += x.shape[0]
  if node_task and len(parts["x"]) != 1:
    raise SourceError(f"{spec['path']}: {len(parts['x'])} records, but {label!r} is a node "
                      "feature (a node task): write the whole graph as one record, or put one "
                      "label per graph in the context for a graph task.")
  widths = sorted({x.shape[1] for x in parts["x"]})
  if len(widths) != 1:
    raise SourceError(f"{spec['path']}: records differ in feature width {widths}.")
  joined = {k: np.concatenate(v) for k, v in parts.items()}
  return RawGraph(where=f"{where} + {spec['path']}", features=joined["x"], sparse=None,
                  edge_source=joined["src"], edge_target=joined["dst"],
                  labels=joined["y"] if node_task else None, splits=splits,
                  graph_index=None if node_task else joined["graph"],
                  graph_labels=None if node_task else joined["y"],
                  edge_names=(f"{edge_set} source", f"{edge_set} target"))
