"""Subgraph sampling of graphs too big for one machine, with TF-GNN's Apache Beam sampler.

The graph is written as TF-GNN "unigraph" tables (a GraphSchema plus TFRecord files of
tf.Examples, one per node and one per edge); TF-GNN's Beam sampler
(`tensorflow_gnn.experimental.sampler.beam`) then samples, for every seed node, a rooted
tree of neighbourhoods with the given fanouts (uniform sampling of outgoing edges, hop by
hop) and writes one tf.Example per seed, each a serialized GraphTensor. The same pipeline
runs on the DirectRunner here and on Dataflow/Flink/Spark for graphs that need a cluster
(pass `runner` and Beam pipeline options).

    from edgegnn.data import beam_sampling, load_source
    cora = load_source("cora")        # or your own graph: load_source("g.npz"), a mapping
    config = beam_sampling.BeamSamplingConfig(fanouts=(5, 3), seeds=(0, 1, 2))
    beam_sampling.sample_graph(cora.graph, "samples/", config, labels=cora.labels)
    subgraphs = beam_sampling.read_samples("samples/")       # list of SampledSubgraph
    feed, seed_rows, labels = beam_sampling.batch(subgraphs)  # a node model's inputs

Needs apache-beam with its tfrecord extra (`pip install edgegnn[scale]`).
"""
from __future__ import annotations

import dataclasses
import glob
import os
import pathlib
import time
from typing import Any, ClassVar, Mapping, Optional, Sequence

import numpy as np

from edgegnn import _keras_env  # noqa: F401  (must precede TensorFlow)
from edgegnn.config_fields import MappingConfig
from edgegnn.data.graph import Graph, merge_graphs

NODE_SET = "nodes"
EDGE_SET = "edges"
SAMPLES = "samples.tfrecord"
ROWS_PER_CHUNK = 4096   # feature rows expanded at once when writing a sparse-feature graph
RUNNERS = ("DirectRunner", "DataflowRunner", "FlinkRunner", "SparkRunner")


@dataclasses.dataclass(frozen=True)
class BeamSamplingConfig(MappingConfig):
  """How subgraphs are sampled.

  Attributes:
    fanouts: edges sampled per node at each hop, from the seed outwards ((5, 3): up to 5
      neighbours of the seed, then up to 3 of each of those).
    seeds: node indices to sample around; empty samples around every node.
    runner: the Beam runner (DirectRunner on one machine; the others need their
      services and `pipeline_args`, e.g. ["--project=...", "--region=..."]).
    pipeline_args: extra Beam pipeline options, as command-line flags.
  """
  SECTION: ClassVar[str] = "sampling"
  fanouts: tuple[int, ...] = (5, 3)
  seeds: tuple[int, ...] = ()
  runner: str = "DirectRunner"
  pipeline_args: tuple[str, ...] = ()

  def __post_init__(self):
    if not self.fanouts or any(int(f) < 1 for f in self.fanouts):
      raise ValueError(f"sampling.fanouts must list one fanout >= 1 per hop, e.g. [5, 3]; "
                       f"got {self.fanouts!r}.")
    if self.runner not in RUNNERS:
      raise ValueError(f"sampling.runner must be one of {', '.join(RUNNERS)}, "
                       f"got {self.runner!r}.")
    if any(int(s) < 0 for s in self.seeds):
      raise ValueError(f"sampling.seeds must be node indices >= 0, got {self.seeds!r}.")
    object.__setattr__(self, "fanouts", tuple(int(f) for f in self.fanouts))
    object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
    object.__setattr__(self, "pipeline_args", tuple(str(a) for a in self.pipeline_args))

  def max_nodes(self) -> int:
    """The most nodes one sampled subgraph can hold: 1 + f1 + f1*f2 + ..."""
    total, level = 1, 1
    for fanout in self.fanouts:
      level *= fanout
      total += level
    return total

  def max_edges(self) -> int:
    """The most edges one sampled subgraph can hold: f1 + f1*f2 + ..."""
    return self.max_nodes() - 1


@dataclasses.dataclass(frozen=True, eq=False)
class SampledSubgraph:
  """One seed's sampled neighbourhood.

  Attributes:
    graph: the subgraph; node 0 is the seed, edges point from the sampled neighbour
      towards the node it was sampled from (messages flow towards the seed).
    node_ids: int64 [n], the node index in the full graph of every subgraph node.
    sampled_source: int64 [e], full-graph source of each sampled edge (as sampled: from
      the node nearer the seed).
    sampled_target: int64 [e], full-graph target of each sampled edge.
    labels: int64 [n], node labels (-1 if the graph was written without labels).
  """
  graph: Graph
  node_ids: np.ndarray
  sampled_source: np.ndarray
  sampled_target: np.ndarray
  labels: np.ndarray

  @property
  def seed(self) -> int:
    return int(self.node_ids[0])


def _require_beam():
  try:
    import apache_beam  # noqa: F401  pylint: disable=g-import-not-at-top,unused-import
    from apache_beam.io import tfrecordio  # pylint: disable=g-import-not-at-top
    tfrecordio._default_crc32c_fn(b"")  # pylint: disable=protected-access
  except (ImportError, RuntimeError) as e:
    raise ImportError("Beam sampling needs apache-beam with its tfrecord extra: "
                      "pip install 'edgegnn[scale]' (apache-beam[tfrecord]==2.77.0). "
                      f"({e})") from e


def _example(features: Mapping[str, Any]):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  example = tf.train.Example()
  for name, value in features.items():
    feature = example.features.feature[name]
    if isinstance(value, bytes):
      feature.bytes_list.value.append(value)
    elif isinstance(value, np.ndarray) and value.dtype.kind == "f":
      feature.float_list.value.extend(value.tolist())
    else:
      feature.int64_list.value.append(int(value))
  return example.SerializeToString()


def graph_schema(num_features: int, with_labels: bool = True):
  """The tfgnn.GraphSchema of a written graph: one node set, one edge set.

  Node features: `hidden_state` float32 [F], `node_id` int64 (the full-graph index) and,
  with labels, `label` int64.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tensorflow_gnn as tfgnn  # pylint: disable=g-import-not-at-top
  schema = tfgnn.GraphSchema()
  nodes = schema.node_sets[NODE_SET]
  nodes.metadata.filename = "nodes.tfrecord"
  nodes.features["hidden_state"].dtype = tf.float32.as_datatype_enum
  nodes.features["hidden_state"].shape.dim.add().size = num_features
  nodes.features["node_id"].dtype = tf.int64.as_datatype_enum
  if with_labels:
    nodes.features["label"].dtype = tf.int64.as_datatype_enum
  edges = schema.edge_sets[EDGE_SET]
  edges.source = NODE_SET
  edges.target = NODE_SET
  edges.metadata.filename = "edges.tfrecord"
  return schema


def write_unigraph(graph: Graph, directory: str,
                   labels: Optional[np.ndarray] = None) -> pathlib.Path:
  """Writes `graph` as unigraph tables (schema.pbtxt, nodes.tfrecord, edges.tfrecord).

  A graph that does not fit one machine is written in this format by whatever produced it
  (sharded files, or BigQuery tables named in the schema); this writer is for graphs that
  do fit, such as the tests' Cora. Returns the schema path.
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tensorflow_gnn as tfgnn  # pylint: disable=g-import-not-at-top
  if labels is not None and len(labels) != graph.num_nodes:
    raise ValueError(f"labels has {len(labels)} entries for a graph of {graph.num_nodes} "
                     "nodes; pass one label per node (or labels=None).")
  directory = pathlib.Path(directory)
  directory.mkdir(parents=True, exist_ok=True)
  with tf.io.TFRecordWriter(str(directory / "nodes.tfrecord")) as writer:
    for start in range(0, graph.num_nodes, ROWS_PER_CHUNK):
      for i, features in enumerate(_feature_rows(graph, start), start):
        row = {"#id": str(i).encode(), "hidden_state": features, "node_id": i}
        if labels is not None:
          row["label"] = int(labels[i])
        writer.write(_example(row))
  with tf.io.TFRecordWriter(str(directory / "edges.tfrecord")) as writer:
    for source, target in zip(graph.edge_source, graph.edge_target):
      writer.write(_example({"#source": str(source).encode(), "#target": str(target).encode()}))
  path = directory / "schema.pbtxt"
  tfgnn.write_schema(graph_schema(graph.num_features, labels is not None), str(path))
  return path


def _feature_rows(graph: Graph, start: int) -> np.ndarray:
  """float32 dense feature rows [start, start + ROWS_PER_CHUNK) of `graph`: a graph with
  sparse features only (`Graph.sparse_features`) is expanded one chunk at a time."""
  stop = min(start + ROWS_PER_CHUNK, graph.num_nodes)
  if graph.node_features is not None:
    return np.asarray(graph.node_features[start:stop], np.float32)
  return graph.sparse_features.take(np.arange(start, stop)).to_dense()


def sampling_spec(schema, fanouts: Sequence[int]):
  """The TF-GNN SamplingSpec: seed on `nodes`, then one `edges` hop per fanout."""
  import tensorflow_gnn as tfgnn  # pylint: disable=g-import-not-at-top
  step = tfgnn.sampler.SamplingSpecBuilder(schema).seed(NODE_SET)
  for fanout in fanouts:
    step = step.sample(int(fanout), EDGE_SET)
  return step.build()


def _seed_record(node_id: bytes):
  # The seed format of tensorflow_gnn.experimental.sampler.beam.unigraph_utils.
  return (b"S" + node_id, [[np.array([node_id], dtype=np.object_),
                            np.array([1], dtype=np.int64)]])


def sample(unigraph_dir: str, out_dir: str, config: BeamSamplingConfig) -> dict[str, Any]:
  """Runs TF-GNN's Beam sampler on the unigraph in `unigraph_dir`; returns run figures.

  Writes `out_dir/samples.tfrecord` (one serialized GraphTensor tf.Example per seed),
  `out_dir/schema.pbtxt` (its GraphSchema, for `tfgnn.parse_example`) and the sampler's
  TF artifacts in `out_dir/artifacts`.
  """
  _require_beam()
  import apache_beam as beam  # pylint: disable=g-import-not-at-top
  from apache_beam.options.pipeline_options import PipelineOptions  # pylint: disable=g-import-not-at-top
  import tensorflow_gnn as tfgnn  # pylint: disable=g-import-not-at-top
  from tensorflow_gnn.experimental import sampler  # pylint: disable=g-import-not-at-top
  # accessors and edge_samplers register the Beam stages the executor needs.
  from tensorflow_gnn.experimental.sampler.beam import accessors  # noqa: F401  pylint: disable=g-import-not-at-top,unused-import
  from tensorflow_gnn.experimental.sampler.beam import edge_samplers  # noqa: F401  pylint: disable=g-import-not-at-top,unused-import
  from tensorflow_gnn.experimental.sampler.beam import executor_lib  # pylint: disable=g-import-not-at-top
  from tensorflow_gnn.experimental.sampler.beam import sampler as beam_sampler  # pylint: disable=g-import-not-at-top
  from tensorflow_gnn.experimental.sampler.beam import unigraph_utils  # pylint: disable=g-import-not-at-top

  unigraph_dir = pathlib.Path(unigraph_dir).resolve()
  schema = tfgnn.read_schema(str(unigraph_dir / "schema.pbtxt"))
  spec = sampling_spec(schema, config.fanouts)
  model, layer_to_edge_set = beam_sampler.get_sampling_model(schema, spec)
  program, artifacts = sampler.create_program(model)
  out = pathlib.Path(out_dir).resolve()
  artifacts_path = out / "artifacts"
  if artifacts_path.exists():
    raise FileExistsError(f"{artifacts_path} exists (an earlier run); sample into an empty "
                          "out_dir or delete it.")
  out.mkdir(parents=True, exist_ok=True)
  beam_sampler.save_artifacts(artifacts, str(artifacts_path))
  for stale in glob.glob(str(out / (SAMPLES + "*"))):
    os.remove(stale)

  start = time.perf_counter()
  runner = beam_sampler._create_beam_runner(config.runner)  # pylint: disable=protected-access
  with beam.Pipeline(runner=runner, options=PipelineOptions(list(config.pipeline_args))) as root:
    feeds = root | "ReadGraph" >> unigraph_utils.ReadAndConvertUnigraph(schema, str(unigraph_dir))
    feeds.update({layer: feeds[edge_set] for layer, edge_set in layer_to_edge_set.items()})
    if config.seeds:
      seeds = root | "Seeds" >> beam.Create([_seed_record(str(s).encode()) for s in config.seeds])
    else:
      seeds = unigraph_utils.seeds_from_graph_dict(feeds, spec)
    examples = executor_lib.execute(program, {"Input": seeds}, feeds=feeds,
                                    artifacts_path=str(artifacts_path))
    _ = (examples
         | "Serialize" >> beam.Map(lambda item: item[1].SerializeToString())
         | "Write" >> beam.io.WriteToTFRecord(str(out / SAMPLES), shard_name_template=""))
  seconds = time.perf_counter() - start
  tfgnn.write_schema(schema_without_metadata(schema), str(out / "schema.pbtxt"))
  return {"seconds": round(seconds, 2), "runner": config.runner,
          "samples": str(out / SAMPLES), "fanouts": list(config.fanouts)}


def schema_without_metadata(schema):
  """The schema of the sampled GraphTensors: `schema` without file metadata."""
  import tensorflow_gnn as tfgnn  # pylint: disable=g-import-not-at-top
  result = tfgnn.GraphSchema()
  result.CopyFrom(schema)
  for _, _, piece in tfgnn.iter_sets(result):
    piece.ClearField("metadata")
  return result


def sample_graph(graph: Graph, out_dir: str, config: BeamSamplingConfig,
                 labels: Optional[np.ndarray] = None) -> dict[str, Any]:
  """Writes `graph` as a unigraph in `out_dir/graph` and samples it into `out_dir`."""
  bad = [s for s in config.seeds if s >= graph.num_nodes]
  if bad:
    raise ValueError(f"sampling.seeds holds node {bad[0]}, outside [0, {graph.num_nodes}) "
                     f"for a graph of {graph.num_nodes} nodes.")
  write_unigraph(graph, os.path.join(out_dir, "graph"), labels)
  return sample(os.path.join(out_dir, "graph"), out_dir, config)


def _values(example, name: str) -> np.ndarray:
  feature = example.features.feature[name]
  kind = feature.WhichOneof("kind")
  if kind == "float_list":
    return np.asarray(feature.float_list.value, np.float32)
  if kind == "int64_list":
    return np.asarray(feature.int64_list.value, np.int64)
  return np.zeros((0,), np.int64)


def read_samples(out_dir: str) -> list[SampledSubgraph]:
  """The subgraphs `sample` wrote to `out_dir`, seed first in each (numpy, no Beam)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  path = pathlib.Path(out_dir) / SAMPLES
  if not path.exists():
    raise FileNotFoundError(f"{path} not found; run beam_sampling.sample(...) into "
                            f"{out_dir} first.")
  subgraphs = []
  for record in tf.data.TFRecordDataset(str(path)).as_numpy_iterator():
    example = tf.train.Example.FromString(record)
    prefix_n, prefix_e = f"nodes/{NODE_SET}.", f"edges/{EDGE_SET}."
    num_nodes = int(_values(example, prefix_n + "#size")[0])
    node_ids = _values(example, prefix_n + "node_id")
    features = _values(example, prefix_n + "hidden_state").reshape(num_nodes, -1)
    labels = _values(example, prefix_n + "label")
    if len(labels) != num_nodes:
      labels = np.full(num_nodes, -1, np.int64)
    source = _values(example, prefix_e + "#source")
    target = _values(example, prefix_e + "#target")
    graph = Graph(features, target.astype(np.int32), source.astype(np.int32))
    subgraphs.append(SampledSubgraph(graph, node_ids, node_ids[source], node_ids[target],
                                     labels))
  subgraphs.sort(key=lambda s: s.seed)
  return subgraphs


def batch(subgraphs: Sequence[SampledSubgraph]) -> tuple[dict, np.ndarray, np.ndarray]:
  """(feed, seed_rows, seed_labels) for a node model: the subgraphs merged into one
  disjoint graph (`edgegnn.models.feeds.graph_feed`), the row of each seed in it and the
  seeds' labels. Train with `tf.gather(model(feed)["logits"], seed_rows)`."""
  from edgegnn.models import feeds  # pylint: disable=g-import-not-at-top
  merged, _ = merge_graphs([s.graph for s in subgraphs])
  sizes = np.asarray([s.graph.num_nodes for s in subgraphs])
  seed_rows = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int32)
  seed_labels = np.asarray([s.labels[0] for s in subgraphs], np.int32)
  return feeds.graph_feed(merged), seed_rows, seed_labels


def main(argv: Optional[Sequence[str]] = None) -> None:
  """`python -m edgegnn.data.beam_sampling --dataset cora --fanouts 5,3 --seeds 0,1 --out D`
  (`--dataset`: a bundled name, a .npz file or a .yaml/.json source file, docs/data.md)."""
  import argparse  # pylint: disable=g-import-not-at-top
  import json  # pylint: disable=g-import-not-at-top
  parser = argparse.ArgumentParser(prog="python -m edgegnn.data.beam_sampling",
                                   description="Sample subgraphs with TF-GNN's Beam sampler.")
  parser.add_argument("--dataset", default="cora",
                      help="a node-classification dataset: a bundled name, a .npz file or a "
                           ".yaml/.json dataset source file (docs/data.md)")
  parser.add_argument("--fanouts", default="5,3", help="comma-separated fanout per hop")
  parser.add_argument("--seeds", default="", help="comma-separated seed nodes (default: all)")
  parser.add_argument("--runner", default="DirectRunner", choices=RUNNERS)
  parser.add_argument("--out", required=True, help="output directory (must not exist)")
  args, pipeline_args = parser.parse_known_args(argv)
  from edgegnn.data import sources  # pylint: disable=g-import-not-at-top
  try:
    dataset = sources.load_source(args.dataset)
  except ValueError as e:
    parser.error(" ".join(str(e).split()))
  if dataset.task != "node":
    parser.error(f"--dataset {args.dataset}: {dataset.name} is a graph-classification dataset; "
                 "the sampler cuts neighbourhoods out of one graph (a node task).")
  config = BeamSamplingConfig(
      fanouts=tuple(int(f) for f in args.fanouts.split(",") if f),
      seeds=tuple(int(s) for s in args.seeds.split(",") if s), runner=args.runner,
      pipeline_args=tuple(pipeline_args))
  start = time.perf_counter()
  run = sample_graph(dataset.graph, args.out, config, labels=dataset.labels)
  subgraphs = read_samples(args.out)
  nodes = [s.graph.num_nodes for s in subgraphs]
  edges = [s.graph.num_edges for s in subgraphs]
  print(json.dumps({**run, "total_seconds": round(time.perf_counter() - start, 2),
                    "subgraphs": len(subgraphs), "max_nodes_bound": config.max_nodes(),
                    "nodes_min_mean_max": [min(nodes), round(float(np.mean(nodes)), 2), max(nodes)],
                    "edges_min_mean_max": [min(edges), round(float(np.mean(edges)), 2), max(edges)]}))


if __name__ == "__main__":
  main()
