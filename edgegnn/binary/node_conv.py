"""Node-level binary GCN and GraphSAGE layers (Bi-GCN style, Wang et al., CVPR 2021).

Both are the zoo layers with an injected `BinaryLinear` transform (no subclassing):

    binary GCN:   H' = act( D^-1/2 (A + I) D^-1/2 (sign(BN(H)) (*) sign(W)) . Gamma + b )
    binary SAGE:  h'_t = act( (sign(BN(h_t)) (*) sign(W_s)) . Gamma_s
                              + mean_{s in N(t)} (sign(BN'(h_s)) (*) sign(W_n)) . Gamma_n + b )

The linear maps are binary (LceBconv2d after LCE conversion); the aggregation stays
real-valued (GATHER + UNSORTED_SEGMENT_SUM on float states). First and last layers:
citation-graph features are 0/1 bag-of-words, so the first layer binarises them too
with sign(BN(x)), or with sign(x - 0.5) = 2x - 1 and no per-word BN parameters
(`input_offset=0.5`, what the citation models use: it keeps the artifact small); the last
layer is binary as well, with a
real per-class scale and bias producing the logits, as in Bi-GCN. `precision` selects the
stage of the staged distillation (see `edgegnn.binary.quantizers`).
"""
from __future__ import annotations

from typing import Optional

from edgegnn import _keras_env  # noqa: F401

from edgegnn.binary.linear import BinaryLinear
from edgegnn.layers.gcn_conv import GCNConv
from edgegnn.layers.sage_conv import SAGEConv


def _transform(units, precision, quantizer, input_offset, name) -> BinaryLinear:
  if input_offset is None:
    return BinaryLinear(units, precision=precision, input_norm=True, quantizer=quantizer,
                        name=name)
  return BinaryLinear(units, precision=precision, input_norm=False, input_offset=input_offset,
                      output_norm=True, quantizer=quantizer, name=name)


def binary_gcn_conv(units: int, precision: str = "binary", activation: str = "none",
                    quantizer: str = "ste_sign", input_offset: Optional[float] = None,
                    name: Optional[str] = None) -> GCNConv:
  """A `GCNConv` whose X -> XW is a `BinaryLinear` (sign(BN(X)) (*) sign(W)) . Gamma.

  `input_offset` None: sign(BN(X)); a number c: BN'(sign(X - c) (*) sign(W)) without an
  input BN (the output normalisation removes the offset of the many -1 "absent" codes).
  """
  return GCNConv(units, activation=activation, use_bias=True,
                 transform=_transform(units, precision, quantizer, input_offset, "transform"),
                 name=name)


def binary_sage_conv(units: int, precision: str = "binary", activation: str = "none",
                     quantizer: str = "ste_sign", input_offset: Optional[float] = None,
                     name: Optional[str] = None) -> SAGEConv:
  """A mean-aggregator `SAGEConv` whose self and neighbour maps are `BinaryLinear`s."""
  return SAGEConv(units, activation=activation, use_bias=True,
                  self_transform=_transform(units, precision, quantizer, input_offset,
                                            "self_transform"),
                  neighbor_transform=_transform(units, precision, quantizer, input_offset,
                                                "neighbor_transform"),
                  name=name)
