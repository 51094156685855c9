"""What of a CPF student (`edgegnn.distill.cpf`) can be exported, checked without
TensorFlow: a pipeline's export stage checks it when the file loads, `edgegnn convert`
when it rebuilds a saved student."""
from __future__ import annotations

from typing import Optional, Sequence

# What of a CPF student can be exported: the sparse layout (`build_cpf_student` builds on
# edge lists) for the one graph it was trained on, in float compute. Measured on Cora
# against Keras on ai-edge-litert: float32, float16 and dynamic-range int8 agree on >= 0.998
# of the nodes; full int8 is refused (UNSORTED_SEGMENT_SUM has no int8 kernel).
EXPORT_LAYOUT = "sparse"
EXPORT_FORMATS = ("tflite-float32", "tflite-float16", "tflite-dynamic-int8")


def check_export(num_nodes: Optional[int] = None, *, layout: str = EXPORT_LAYOUT,
                 formats: Sequence[str] = (), capacity: Optional[int] = None,
                 num_edges: Optional[int] = None, batched: bool = False,
                 max_neighbors: Optional[int] = None, where: str = "A CPF student") -> None:
  """Raises ValueError unless a CPF student can be built / exported this way: the sparse
  layout, unbatched, for its own graph of `num_nodes` nodes (None: not known yet, e.g. when a
  pipeline file loads), in one of EXPORT_FORMATS. The one rule for the pipeline's export
  stage (`ExportStage.check_source`) and for rebuilding a saved student
  (`ModelMeta.check_export`, used by `edgegnn convert`)."""
  graph = f"the one graph of {num_nodes} nodes" if num_nodes else "the one graph"
  wrong_size = capacity is not None and num_nodes is not None and capacity != num_nodes
  if (layout != EXPORT_LAYOUT or batched or num_edges is not None or max_neighbors is not None
      or wrong_size):
    got = [f"layout {layout!r}"] + [
        f"{name} {value}" for name, value, bad in (
            ("capacity", capacity, wrong_size), ("num_edges", num_edges, num_edges is not None),
            ("max_neighbors", max_neighbors, max_neighbors is not None),
            ("batched", batched, batched)) if bad]
    raise ValueError(
        f"{where} is bound to {graph} it was trained on (its per-node gate and clamped "
        f"labels are weights) and is built in the {EXPORT_LAYOUT} layout only; got "
        f"{', '.join(got)}. Export it with layout {EXPORT_LAYOUT} (formats "
        f"{', '.join(EXPORT_FORMATS)}), or distil a zoo student (method kd, or glnn for an "
        "MLP) for the other layouts.")
  others = [f for f in formats if f not in EXPORT_FORMATS]
  if others:
    raise ValueError(
        f"{where} exports in float compute only ({', '.join(EXPORT_FORMATS)}); got {others} "
        "(full int8 needs the dense or neighbors layout, which a CPF student lacks). Use "
        "tflite-dynamic-int8 for int8 weights.")
