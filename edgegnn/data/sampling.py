"""Neighbour sampling of in-memory graphs: mini-batches of seed nodes with their sampled
k-hop in-neighbourhoods (GraphSAGE-style), numpy only.

Semantics (the same as TF-GNN's `tensorflow_gnn.experimental.sampler.InMemUniformEdgesSampler`
applied hop by hop on the reversed edges, tested against it in `tests/test_sampling.py`):

* The seeds of an epoch are shuffled and cut into batches of `batch_size`.
* Hop h (fan-out f_h) samples, for every node first reached at hop h - 1 (hop 0: the
  seeds), min(f_h, in-degree) of its in-edges uniformly without replacement. The sources
  not seen before join the subgraph and are the next hop's frontier.
* The subgraph holds the reached nodes (seeds first, rows 0..B-1, then in the order they
  were reached) and exactly the sampled edges, directed towards the seeds, so a k-layer
  model's seed outputs depend only on sampled neighbourhoods.
* Every node carries its FULL-graph in-degree (`SampledBatch.full_in_degree`); the batch
  feed gives it as the models' `in_degree` input, so degree-derived scales (GCN's
  D^-1/2, SAGE's 1/deg) and Degree-Quant's protective mask see the degrees of the real
  graph, not the truncated degrees inside the sample.
* A batch is a function of (sampler seed, epoch, batch position): the same seed gives the
  same batches.

Bounds for fan-outs (f_1, ..., f_k) and B seeds: at most B (1 + f_1 + f_1 f_2 + ...) nodes
and B (f_1 + f_1 f_2 + ...) edges.
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar, Iterator, Optional

import numpy as np

from edgegnn.config_fields import MappingConfig
from edgegnn.data.graph import Graph


@dataclasses.dataclass(frozen=True)
class SamplingConfig(MappingConfig):
  """The `sampling:` option of a stage that trains a node model.

  Attributes:
    fanouts: in-neighbours sampled per node at each hop, seed side first (one entry per
      message-passing layer of the model, e.g. [10, 10] for a 2-layer GCN).
    batch_size: seed nodes per mini-batch.
    inference_chunk: target nodes per chunk of the layer-wise full-graph inference used
      for evaluation and teacher soft labels (`edgegnn.scale.layerwise`).
  """
  SECTION: ClassVar[str] = "sampling"
  fanouts: tuple[int, ...] = (10, 10)
  batch_size: int = 512
  inference_chunk: int = 32768

  def __post_init__(self):
    if not self.fanouts or any(isinstance(f, bool) or not isinstance(f, int) or f < 1
                               for f in self.fanouts):
      raise ValueError(f"sampling.fanouts must list one integer >= 1 per layer, got "
                       f"{list(self.fanouts)}.")
    for name in ("batch_size", "inference_chunk"):
      if getattr(self, name) < 1:
        raise ValueError(f"sampling.{name} must be >= 1, got {getattr(self, name)}.")
    object.__setattr__(self, "fanouts", tuple(int(f) for f in self.fanouts))

  def check_model_depth(self, num_layers: int) -> None:
    """Raises ValueError unless there is one fan-out per message-passing layer."""
    if len(self.fanouts) != num_layers:
      raise ValueError(f"sampling.fanouts has {len(self.fanouts)} entries for a model of "
                       f"{num_layers} message-passing layers; give one fan-out per layer "
                       "(a seed's output depends on exactly that many hops).")


class InNeighbours:
  """The in-edges of a graph grouped by target (CSR): node t's in-neighbours are
  `sources[indptr[t]:indptr[t + 1]]`, in edge order."""

  def __init__(self, graph: Graph):
    order = np.argsort(graph.edge_target, kind="stable")
    self.sources = np.asarray(graph.edge_source[order], np.int32)
    self.degree = graph.in_degree()
    self.indptr = np.zeros(graph.num_nodes + 1, np.int64)
    np.cumsum(self.degree, out=self.indptr[1:])

  @property
  def num_nodes(self) -> int:
    return len(self.degree)

  def edge_positions(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in `sources` of every in-edge of `nodes`, index into `nodes` of its
    target), node by node."""
    lengths = self.degree[nodes].astype(np.int64)
    owner = np.repeat(np.arange(len(nodes)), lengths)
    starts = np.zeros(len(nodes), np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    positions = np.arange(lengths.sum()) - starts[owner] + self.indptr[nodes][owner]
    return positions, owner


def sample_in_edges(index: InNeighbours, nodes: np.ndarray, fanout: int,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
  """For each of `nodes`, min(fanout, in-degree) of its in-edges, uniformly without
  replacement. Returns (sources, targets) in full-graph ids, grouped by target."""
  positions, owner = index.edge_positions(np.asarray(nodes, np.int64))
  keys = rng.random(len(positions))
  order = np.lexsort((keys, owner))                 # random order within each target
  owner_sorted = owner[order]
  first = np.searchsorted(owner_sorted, owner_sorted, side="left")
  keep = order[np.arange(len(order)) - first < fanout]
  keep.sort()                                       # back to edge order within a target
  return index.sources[positions[keep]], np.asarray(nodes)[owner[keep]].astype(np.int32)


@dataclasses.dataclass(frozen=True, eq=False)
class SampledBatch:
  """One mini-batch: a subgraph around `num_seeds` seed nodes.

  Attributes:
    graph: the subgraph (local ids; seeds are rows 0..num_seeds-1), features gathered
      from the full graph (dense rows or CSR, as the full graph holds them).
    node_ids: int32 [n], the full-graph id of every subgraph node.
    num_seeds: B, the seeds (the rows that get a loss).
    full_in_degree: int32 [n], every node's in-degree in the full graph.
    hop: int32 [n], the hop at which each node was reached (0 for the seeds).
    max_in_degree: the full graph's largest in-degree (sizes the neighbors layout).
  """
  graph: Graph
  node_ids: np.ndarray
  num_seeds: int
  full_in_degree: np.ndarray
  hop: np.ndarray
  max_in_degree: int

  @property
  def seed_ids(self) -> np.ndarray:
    return self.node_ids[:self.num_seeds]

  def loss_mask(self) -> np.ndarray:
    """float32 [n]: 1 on the seeds, 0 elsewhere (the rows the loss is taken over)."""
    mask = np.zeros(self.graph.num_nodes, np.float32)
    mask[:self.num_seeds] = 1.0
    return mask

  def feed(self, layout: str = "sparse") -> dict[str, np.ndarray]:
    """The model inputs of this subgraph (`edgegnn.models.feeds.graph_feed`) with
    `in_degree` set to the full-graph in-degrees, plus `loss_mask`.

    Layout "neighbors" sizes the rows for the full graph's largest in-degree (the
    degree tables of the layers cover it); layout "sparse" serves models that take
    `in_degree` (sparse or binary features). Use `check_model_inputs` first: a model
    without an `in_degree` input would count the truncated degrees inside the sample.
    """
    from edgegnn.models.feeds import graph_feed  # pylint: disable=g-import-not-at-top
    if layout not in ("sparse", "neighbors"):
      raise ValueError(f"sampled batches come in layout sparse or neighbors, not {layout!r} "
                       "(the dense layout's adjacency has no room for full-graph degrees).")
    feed = graph_feed(self.graph, layout,
                      max_neighbors=max(self.max_in_degree, 1) if layout == "neighbors"
                      else None)
    feed["in_degree"] = self.full_in_degree.astype(np.int32)
    feed["loss_mask"] = self.loss_mask()
    return feed


def check_model_inputs(input_names) -> None:
  """Raises ValueError unless a model with these inputs can train on sampled batches:
  a message-passing model must take `in_degree` (so it uses the full-graph degrees)."""
  names = set(input_names)
  takes_graph = bool(names & {"edge_source", "neighbors", "adjacency"})
  if takes_graph and "in_degree" not in names:
    raise ValueError(
        "This model counts in-degrees from its edges, which inside a sampled subgraph are "
        "truncated to the fan-outs. Build it with layout: neighbors (full-int8 capable, "
        "dense features) or with layout: sparse and features: binary or sparse; both take "
        "the full-graph in_degree that sampled batches carry.")


class NeighbourSampler:
  """Mini-batches of seeds with their sampled in-neighbourhoods (module doc).

  Not thread-safe (it reuses one node-id scratch array of the graph's size).

  Args:
    graph: the full graph (dense or CSR features).
    fanouts: in-neighbours per node at each hop (seed side first).
    seed: the random seed of seed order and neighbour draws.

  Empty `fanouts` give batches of the seeds alone (no edges): mini-batches for models that
  read no graph, such as an MLP.
  """

  def __init__(self, graph: Graph, fanouts, seed: int = 0):
    self.graph = graph
    fanouts = tuple(fanouts)
    self.fanouts = SamplingConfig(fanouts=fanouts).fanouts if fanouts else ()
    self.seed = int(seed)
    self.index = InNeighbours(graph)
    self.max_in_degree = int(self.index.degree.max(initial=0))
    self._local = np.full(graph.num_nodes, -1, np.int32)

  def sample(self, seeds: np.ndarray, rng: np.random.Generator) -> SampledBatch:
    """The subgraph around `seeds` (distinct full-graph node ids)."""
    seeds = np.asarray(seeds, np.int32)
    if seeds.ndim != 1 or not len(seeds):
      raise ValueError(f"seeds must be a non-empty 1-D array of node ids, got shape "
                       f"{seeds.shape}.")
    if seeds.min() < 0 or seeds.max() >= self.graph.num_nodes:
      raise ValueError(f"seed ids must lie in [0, {self.graph.num_nodes}).")
    if len(np.unique(seeds)) != len(seeds):
      raise ValueError("seeds repeat a node; each seed once per batch.")
    local = self._local
    nodes, hops = [seeds], [np.zeros(len(seeds), np.int32)]
    local[seeds] = np.arange(len(seeds), dtype=np.int32)
    count, frontier = len(seeds), seeds
    sources, targets = [], []
    try:
      for hop, fanout in enumerate(self.fanouts, start=1):
        source, target = sample_in_edges(self.index, frontier, fanout, rng)
        unseen = source[local[source] < 0]
        new, first = np.unique(unseen, return_index=True)
        new = new[np.argsort(first, kind="stable")]      # in the order they were reached
        local[new] = count + np.arange(len(new), dtype=np.int32)
        count += len(new)
        nodes.append(new)
        hops.append(np.full(len(new), hop, np.int32))
        sources.append(local[source])
        targets.append(local[target])
        frontier = new
      node_ids = np.concatenate(nodes)
    finally:
      local[np.concatenate(nodes)] = -1
    empty = [np.zeros(0, np.int32)]
    return SampledBatch(graph=self._subgraph(node_ids, np.concatenate(sources + empty),
                                             np.concatenate(targets + empty)),
                        node_ids=node_ids, num_seeds=len(seeds),
                        full_in_degree=self.index.degree[node_ids], hop=np.concatenate(hops),
                        max_in_degree=self.max_in_degree)

  def _subgraph(self, node_ids, source, target) -> Graph:
    full = self.graph
    dense = None if full.node_features is None else full.node_features[node_ids]
    sparse = None if full.sparse_features is None else full.sparse_features.take(node_ids)
    return Graph(node_features=dense, sparse_features=sparse, edge_source=source,
                 edge_target=target)

  def epoch(self, seed_nodes: np.ndarray, batch_size: int, epoch: int = 0,
            shuffle: bool = True) -> Iterator[SampledBatch]:
    """The batches of one epoch over `seed_nodes` (shuffled unless `shuffle` is False;
    the last batch may be smaller). Deterministic in (sampler seed, epoch)."""
    rng = np.random.default_rng([self.seed, int(epoch)])
    seed_nodes = np.asarray(seed_nodes, np.int32)
    order = rng.permutation(len(seed_nodes)) if shuffle else np.arange(len(seed_nodes))
    for start in range(0, len(seed_nodes), batch_size):
      yield self.sample(seed_nodes[order[start:start + batch_size]], rng)

  def num_batches(self, num_seeds: int, batch_size: int) -> int:
    return -(-int(num_seeds) // int(batch_size))


def node_bound(fanouts, num_seeds: int = 1) -> int:
  """The most nodes a subgraph of `num_seeds` seeds can hold: B (1 + f1 + f1 f2 + ...)."""
  total, width = 1, 1
  for fanout in fanouts:
    width *= fanout
    total += width
  return num_seeds * total


def full_graph_protection_probability(degree: np.ndarray, p_min: float,
                                      p_max: float) -> np.ndarray:
  """Degree-Quant's p_i = p_min + (p_max - p_min) CDF(d_i) over the degrees given (numpy
  twin of `edgegnn.quantization.protection_probability`)."""
  degree = np.asarray(degree)
  cdf = np.searchsorted(np.sort(degree), degree, side="right") / max(len(degree), 1)
  return p_min + (p_max - p_min) * cdf


def optional_config(values: Optional[dict]) -> Optional[SamplingConfig]:
  """`SamplingConfig` from a stage's `sampling:` mapping, None when absent (full batch)."""
  return None if values is None else SamplingConfig.from_dict(values)
