"""GNN self-distillation (GNN-SD, Chen et al., IJCAI 2021): NDR and ADR.

Neighborhood Discrepancy Rate of node v at layer l, with h^l the layer's node embeddings
and the mean of v's in-neighbours' embeddings a_v^l = 1/|N(v)| sum_{u in N(v)} h_u^l:

    s_v^l = 1 - cos(h_v^l, a_v^l) = 1 - <h_v, a_v> / (||h_v|| ||a_v|| + eps)

(0 for nodes without in-neighbours). With `self_loops=True` the mean also counts v itself,
a_v^l = 1/(|N(v)| + 1) (h_v^l + sum_{u in N(v)} h_u^l), as a GCN's aggregation does (then
every node has a neighbourhood). s^l in R^N is the layer's discrepancy vector; it
shrinks as embeddings over-smooth with depth.

Adaptive Discrepancy Retaining: each deeper layer is pulled toward the shallower one's
discrepancy, which acts as a teacher through a stop-gradient, and only where the shallow
layer is more discrepant (the adaptive weight):

    L_ADR = sum_{l=1}^{L-1} 1[||s^l||_2 > ||s^{l+1}||_2] * 1/N ||SG(s^l) - s^{l+1}||_2^2

That is the paper's layer gate (`gate="layer"`): once a layer is open, every node is pulled
toward its shallower value, so a node that is *more* discrepant deeper down is pulled down
too. The node gate (`gate="node"`) only ever retains discrepancy, node by node:

    L_ADR = sum_{l=1}^{L-1} 1/N sum_v 1[s_v^l > s_v^{l+1}] * (SG(s_v^l) - s_v^{l+1})^2

Training minimises L = CE + beta * L_ADR; no separate teacher is trained.
"""
from __future__ import annotations

from typing import Sequence

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.distill.config import SD_GATES


def neighborhood_discrepancy(embeddings: tf.Tensor, edge_source, edge_target, num_nodes,
                             eps: float = 1e-8, self_loops: bool = False) -> tf.Tensor:
  """s^l: [N] NDR of every node (see module doc)."""
  edge_source = tf.convert_to_tensor(edge_source, tf.int32)
  edge_target = tf.convert_to_tensor(edge_target, tf.int32)
  if self_loops:
    nodes = tf.range(num_nodes, dtype=tf.int32)
    edge_source = tf.concat([edge_source, nodes], 0)
    edge_target = tf.concat([edge_target, nodes], 0)
  summed = tf.math.unsorted_segment_sum(tf.gather(embeddings, edge_source), edge_target,
                                        num_nodes)
  degree = tf.math.unsorted_segment_sum(tf.ones_like(edge_target, embeddings.dtype),
                                        edge_target, num_nodes)
  mean = summed / tf.maximum(degree, 1.0)[:, None]
  dot = tf.reduce_sum(embeddings * mean, -1)
  norms = tf.norm(embeddings, axis=-1) * tf.norm(mean, axis=-1)
  cosine = dot / (norms + eps)
  return tf.where(degree > 0, 1.0 - cosine, tf.zeros_like(cosine))


GATES = SD_GATES


def adr_loss(discrepancies: Sequence[tf.Tensor], gate: str = "layer") -> tf.Tensor:
  """L_ADR over consecutive layers' NDR vectors [s^1, ..., s^L] (see module doc).

  Args:
    discrepancies: the NDR vectors, shallow to deep.
    gate: "layer" (the paper's: a whole layer is pulled where the shallower one's norm is
      larger) or "node" (each node only where its shallower NDR is larger).
  """
  if gate not in GATES:
    raise ValueError(f"adr_loss gate must be one of {', '.join(GATES)}, got {gate!r}.")
  if len(discrepancies) < 2:
    raise ValueError("adr_loss needs the NDR vectors of at least two layers; "
                     f"got {len(discrepancies)}. Use a model with >= 3 layers.")
  total = tf.constant(0.0)
  for shallow, deep in zip(discrepancies[:-1], discrepancies[1:]):
    if gate == "layer":
      weight = tf.cast(tf.norm(shallow) > tf.norm(deep), deep.dtype)
    else:
      weight = tf.cast(shallow > deep, deep.dtype)
    total += tf.reduce_mean(tf.stop_gradient(weight)
                            * tf.square(tf.stop_gradient(shallow) - deep))
  return total
