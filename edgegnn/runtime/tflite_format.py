"""Text and JSON views of a parsed `.tflite` model (`edgegnn inspect`)."""
from __future__ import annotations

import dataclasses
from typing import Any

from .tflite_model import (IOTensor, Quantization, TfliteModelInfo,
                           float_compute_ops)


def _quant_json(q: Quantization | None) -> dict[str, Any] | None:
  if q is None:
    return None
  if not q.per_channel:
    return {"scale": q.scale[0], "zero_point": q.zero_point[0]}
  return {"scale": list(q.scale), "zero_point": list(q.zero_point),
          "quantized_dimension": q.quantized_dimension}


def _io_json(item: IOTensor) -> dict[str, Any]:
  t = item.tensor
  return {"name": item.name, "tensor": t.name, "tensor_index": t.index,
          "position": item.position, "shape": list(t.shape),
          "shape_signature": list(t.shape_signature), "dtype": t.dtype,
          "quantization": _quant_json(t.quantization)}


def to_json(info: TfliteModelInfo) -> dict[str, Any]:
  """A JSON-serializable summary of the model (everything but the raw bytes)."""
  return {
      "path": info.path,
      "file_bytes": info.file_bytes,
      "version": info.version,
      "description": info.description,
      "op_histogram": dict(info.op_histogram),
      "custom_ops": info.custom_ops,
      "weight_bytes": dict(info.weight_bytes),
      "total_weight_bytes": info.total_weight_bytes,
      "total_tensor_bytes": info.total_tensor_bytes,
      "activation_bytes": info.activation_bytes,
      "inputs": [_io_json(x) for x in info.inputs],
      "outputs": [_io_json(x) for x in info.outputs],
      "signature_key": info.signature_key,
      "signatures": [{"key": s.key, "subgraph_index": s.subgraph_index,
                      "inputs": dict(s.inputs), "outputs": dict(s.outputs)}
                     for s in info.signatures],
      "runtimes": dataclasses.asdict(info.runtimes) | {
          "tflm_blockers": list(info.runtimes.tflm_blockers),
          "runnable_by": list(info.runtimes.runnable_by)},
      "float_compute_ops": [{"subgraph": op.subgraph, "index": op.index,
                             "name": op.name} for op in float_compute_ops(info)],
      "metadata": dict(info.metadata),
      "subgraphs": [{
          "index": sg.index, "name": sg.name,
          "inputs": list(sg.inputs), "outputs": list(sg.outputs),
          "operators": [{"name": op.name, "inputs": list(op.inputs),
                         "outputs": list(op.outputs)} for op in sg.operators],
          "tensors": [{"index": t.index, "name": t.name, "shape": list(t.shape),
                       "dtype": t.dtype, "nbytes": t.nbytes,
                       "constant": t.is_constant,
                       "quantization": _quant_json(t.quantization)}
                      for t in sg.tensors],
      } for sg in info.subgraphs],
  }


def _human(n: int) -> str:
  if n < 1024:
    return f"{n} B"
  if n < 1024 * 1024:
    return f"{n / 1024:.1f} KiB"
  return f"{n / (1024 * 1024):.2f} MiB"


def _io_line(item: IOTensor) -> str:
  t = item.tensor
  shape = "x".join(str(d) for d in t.shape_signature) or "scalar"
  line = f"  {item.name:<20} {t.dtype:<8} [{shape}]"
  if t.quantization is not None:
    if t.quantization.per_channel:
      line += f"  per-channel ({len(t.quantization.scale)} scales)"
    else:
      line += f"  scale={t.scale:.6g} zero_point={t.zero_point}"
  return line + f"  (tensor {t.index} {t.name!r})"


def format_text(info: TfliteModelInfo) -> str:
  """A readable report of the model, as printed by `edgegnn inspect`."""
  lines = [f"model: {info.path or '<bytes>'}",
           f"  size {_human(info.file_bytes)} ({info.file_bytes} bytes), "
           f"schema v{info.version}, {len(info.subgraphs)} subgraph(s)"]
  if info.description:
    lines.append(f"  description: {info.description}")
  lines.append("inputs:")
  lines.extend(_io_line(x) for x in info.inputs)
  lines.append("outputs:")
  lines.extend(_io_line(x) for x in info.outputs)
  if info.signatures:
    lines.append("signatures: " + ", ".join(
        f"{s.key}({', '.join(s.inputs)}) -> ({', '.join(s.outputs)})"
        for s in info.signatures))
  else:
    lines.append("signatures: none (names derived from tensor names)")
  total_ops = sum(info.op_histogram.values())
  lines.append(f"ops ({total_ops}):")
  for name, count in info.op_histogram.items():
    lines.append(f"  {name:<28} {count}")
  lines.append(f"weights: {_human(info.total_weight_bytes)}" + (
      " (" + ", ".join(f"{k} {_human(v)}" for k, v in info.weight_bytes.items()) + ")"
      if info.weight_bytes else ""))
  lines.append(f"tensors: {_human(info.total_tensor_bytes)} total, "
               f"{_human(info.activation_bytes)} activations")
  floats = float_compute_ops(info)
  lines.append("float compute ops: " + (
      "none (fully integer)" if not floats else
      ", ".join(f"{op.name}#{op.index}" for op in floats[:12]) +
      (f", ... ({len(floats)} in all)" if len(floats) > 12 else "")))
  rt = info.runtimes
  lines.append("runtimes:")
  lines.append(f"  litert (builtin ops only): {'yes' if rt.builtins else 'no'}")
  lines.append(f"  lce (Larq Compute Engine): "
               f"{'required' if rt.needs_lce else 'yes' if rt.builtins else 'no'}")
  lines.append(f"  tflm (microcontroller):    "
               f"{'yes' if rt.tflm_compatible else 'no: ' + '; '.join(rt.tflm_blockers)}")
  return "\n".join(lines)
