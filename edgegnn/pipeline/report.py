"""The report a person reads: OUT/report.json -> report.md, report.html and PNG plots.

`report.json` stays the machine-readable source; everything here is derived from it
(and, for artifacts written before `layer_bits` was recorded, from the artifact files):

- the models table: method, bits, params, test accuracy mean ± std over runs;
- the artifacts table: format, bytes, runtime, accuracy, agreement, latency p50/p90,
  TFLM arena, the per-node p50 of artifacts that serve one node per call, latency and size
  as ratios to the FP32 baseline (the float32 artifact of an `fp32` model) and to the stock
  TFLite path (`compare_with_stock`, whose anchors get rows of their own), plus one column
  group per device the bundle ran on (`edgegnn deploy pi`);
- plots (`report_plots`): accuracy vs artifact bytes and accuracy vs p50 latency, each
  with the Pareto front marked (no other artifact is both smaller/faster and at least as
  accurate), the FP32 baseline point, the FP32 Keras accuracy and the stock anchors as
  reference lines; and the per-layer weight/activation bit-widths of every artifact.

`report.html` is self-contained: inline CSS, plots embedded as base64 PNG, no external
reference. Regenerate with `edgegnn report OUT`.
"""
from __future__ import annotations

import base64
import dataclasses
import html
import pathlib
from typing import Any, Optional, Sequence

from edgegnn.atomic import atomic_write_text
from edgegnn.pipeline import report_plots

PLOTS = {"size": "accuracy_vs_size.png", "latency": "accuracy_vs_latency.png",
         "bits": "layer_bits.png"}


@dataclasses.dataclass(frozen=True)
class ReportFiles:
  """Paths written by `write_report`."""
  markdown: pathlib.Path
  html: pathlib.Path
  plots: dict[str, pathlib.Path]


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
  """Indices of the points no other point dominates (lower cost, higher accuracy).

  A point (cost, accuracy) is dominated by another whose cost is <= and accuracy >=,
  with at least one strictly better. Ties (equal in both) all stay on the front.

  Args:
    points: (cost, accuracy) pairs, e.g. (bytes, test accuracy).

  Returns:
    The indices on the front, sorted by cost then by descending accuracy.
  """
  front = []
  for i, (cost, acc) in enumerate(points):
    dominated = any(c <= cost and a >= acc and (c < cost or a > acc)
                    for j, (c, a) in enumerate(points) if j != i)
    if not dominated:
      front.append(i)
  return sorted(front, key=lambda i: (points[i][0], -points[i][1]))


def _percent(value: Optional[float], std: Optional[float] = None) -> str:
  if value is None:
    return "–"
  return f"{100 * value:.2f}" + (f" ± {100 * std:.2f}" if std is not None else "")


def _number(value: Any, digits: int = 2) -> str:
  if value is None:
    return "–"
  if isinstance(value, int):
    return str(value)
  return f"{value:.{digits}f}"


def model_rows(report: dict) -> tuple[list[str], list[list[str]]]:
  """The models table: header and one row per model, as text cells."""
  header = ["model", "architecture", "method", "bits", "params", "test accuracy (%)", "runs"]
  rows = []
  for m in report.get("models", []):
    bits = (f"w{m['weight_bits']}/a{m['activation_bits']}" if "weight_bits" in m
            else str(m.get("bits", "–")))
    rows.append([m["name"], m.get("architecture", "–"), m.get("method", "–"), bits,
                 str(m.get("params", "–")),
                 _percent(m.get("test_accuracy"), m.get("test_accuracy_std")),
                 str(len(m.get("runs", [])))])
  return header, rows


def _devices(report: dict) -> list[dict]:
  return report.get("devices", [])


def baseline_artifact(report: dict) -> Optional[dict]:
  """The FP32 baseline: the first tflite-float32 artifact of a model trained in fp32."""
  fp32 = {m["name"] for m in report.get("models", []) if m.get("method") == "fp32"}
  return next((a for a in report.get("artifacts", [])
               if a.get("format") == "tflite-float32" and a.get("model") in fp32), None)


def _p50(entry: dict, side_by_side: bool) -> Optional[float]:
  if side_by_side:
    return entry.get("side_by_side_p50_ms")
  return (entry.get("latency_ms") or {}).get("p50")


def _ratio(numerator, denominator) -> Optional[float]:
  if numerator is None or not denominator:
    return None
  return numerator / denominator


def stock_rows(report: dict) -> list[dict]:
  """The stock anchors of `compare_with_stock` as artifact-like entries (no accuracy: the
  stock path is a plain GCN timed on the same graph, not verified on the test split)."""
  section = report.get("stock_comparison") or {}
  base = (section.get("anchors") or {}).get(section.get("baseline", "stock-float32"), {})
  rows = []
  for name, anchor in (section.get("anchors") or {}).items():
    rows.append({"name": f"{name} (stock TFLite path)", "format": name.replace("stock-", "tflite-"),
                 "bytes": anchor["bytes"], "runtime": "litert",
                 "latency_ms": {"p50": anchor["p50_ms"], "p90": anchor.get("p90_ms")},
                 "side_by_side_p50_ms": anchor["p50_ms"],
                 "x_stock_p50": _ratio(anchor["p50_ms"], base.get("p50_ms")),
                 "x_stock_bytes": _ratio(anchor["bytes"], base.get("bytes")), "stock": True})
  return rows


def artifact_rows(report: dict) -> tuple[list[str], list[list[str]]]:
  """The artifacts table: header and one row per artifact (and stock anchor); device
  columns appended."""
  header = ["artifact", "format", "bytes", "runtime", "accuracy (%)", "agreement",
            "p50 (ms)", "p90 (ms)", "arena (bytes)"]
  artifacts = report.get("artifacts", [])
  per_node = any(a.get("per_node_latency_ms") for a in artifacts)
  if per_node:
    header += ["per-node p50 (ms)"]
  baseline = baseline_artifact(report)
  # Ratios to the stock TFLite path, measured side by side (compare_with_stock).
  stock = "stock_comparison" in report
  side_by_side = bool(baseline) and baseline.get("side_by_side_p50_ms") is not None
  if baseline:
    header += ["x fp32 p50", "x fp32 bytes"]
  if stock:
    header += ["x stock p50", "x stock bytes"]
  devices = _devices(report)
  for device in devices:
    label = device.get("label") or device.get("host", "device")
    header += [f"{label} agreement", f"{label} p50 (ms)", f"{label} p90 (ms)"]
  rows = []
  entries = (stock_rows(report) if stock else []) + artifacts
  for a in entries:
    latency = a.get("latency_ms") or {}
    name = a["name"] + (" (FP32 baseline)" if a is baseline else "")
    row = [name, a.get("format", "–"), str(a.get("bytes", "–")), a.get("runtime", "–"),
           _percent(a.get("test_accuracy")), _number(a.get("agreement"), 4),
           _number(latency.get("p50")), _number(latency.get("p90")),
           _number(a.get("arena_bytes"))]
    if per_node:
      row += [_number((a.get("per_node_latency_ms") or {}).get("p50"), 4)]
    if baseline:
      row += [_number(_ratio(_p50(a, side_by_side), _p50(baseline, side_by_side)), 3),
              _number(_ratio(a.get("bytes"), baseline.get("bytes")), 3)]
    if stock:
      row += [_number(a.get("x_stock_p50"), 3), _number(a.get("x_stock_bytes"), 3)]
    for device in devices:
      result = device.get("artifacts", {}).get(a["name"])
      if result is None or "error" in result or "skipped" in result:
        row += ["–" if result is None else ("error" if "error" in result else "skipped"),
                "–", "–"]
      else:
        latency = result.get("latency_ms") or {"p50": result.get("benchmark_avg_ms")}
        row += [_number(result.get("agreement"), 4), _number(latency.get("p50")),
                _number(latency.get("p90"))]
    rows.append(row)
  return header, rows


def artifact_layer_bits(report: dict, out: Optional[pathlib.Path]) -> dict[str, list[dict]]:
  """Artifact name -> per-layer bit-widths: `layer_bits` from report.json, else read from
  the artifact file under `out` (skipped if the file is gone)."""
  bits = {}
  for a in report.get("artifacts", []):
    if a.get("layer_bits") is not None:
      bits[a["name"]] = a["layer_bits"]
    elif out is not None and (out / a.get("path", "")).is_file():
      from edgegnn.deploy.layer_bits import layer_bit_widths  # pylint: disable=g-import-not-at-top
      bits[a["name"]] = layer_bit_widths(out / a["path"])
  return bits


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
  return "\n".join(lines)


def _html_table(header: list[str], rows: list[list[str]]) -> str:
  head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
  body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                 for row in rows)
  return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _accuracy_plot(path: pathlib.Path, report: dict, cost_of, xlabel: str,
                   references: list) -> list[str]:
  """Accuracy vs a cost; returns the names on the Pareto front."""
  baseline = baseline_artifact(report)
  usable = [a for a in report.get("artifacts", [])
            if cost_of(a) is not None and a.get("test_accuracy") is not None]
  costs = [(float(cost_of(a)), float(a["test_accuracy"])) for a in usable]
  front = pareto_front(costs)
  points = [report_plots.Point(a["name"], x, y, on_front=i in front, baseline=a is baseline)
            for i, (a, (x, y)) in enumerate(zip(usable, costs))]
  report_plots.accuracy_plot(path, points, references, xlabel, log_x=True)
  return [usable[i]["name"] for i in front]


def _references(report: dict, side_by_side: bool) -> dict[str, list]:
  """Reference lines per plot: the FP32 Keras models' accuracy, the stock anchors' cost."""
  keras = [report_plots.Reference(f"FP32 Keras {m['name']} ({100 * m['test_accuracy']:.1f} %)",
                                  accuracy=m["test_accuracy"])
           for m in report.get("models", [])
           if m.get("method") == "fp32" and m.get("test_accuracy") is not None]
  anchors = (report.get("stock_comparison") or {}).get("anchors") or {}
  size = [report_plots.Reference(f"{name} (stock TFLite path, {a['bytes']} B)", cost=a["bytes"])
          for name, a in anchors.items()]
  latency = ([report_plots.Reference(f"{name} (stock TFLite path, {a['p50_ms']:.2f} ms)",
                                     cost=a["p50_ms"]) for name, a in anchors.items()]
             if side_by_side else [])
  return {"size": keras + size, "latency": keras + latency}


def _bits_rows(bits: dict[str, list[dict]]) -> tuple[list[str], list[list[str]]]:
  header = ["artifact", "layer", "op", "weight shape", "weight bits", "activation bits"]
  rows = [[name, str(i + 1), layer["op"], "x".join(map(str, layer.get("weight_shape", []))),
           str(layer.get("weight_bits")), str(layer.get("activation_bits"))]
          for name, layers in bits.items() for i, layer in enumerate(layers)]
  return header, rows


def _device_notes(report: dict) -> list[str]:
  notes = []
  for d in _devices(report):
    label = d.get("label") or d.get("host", "device")
    notes.append(f"device {label}: {d.get('machine', '?')}, {d.get('system', '?')}, python "
                 f"{d.get('python', '?')}, ai-edge-litert {d.get('litert', '?')}, "
                 f"{d.get('threads', 1)} thread(s), {d.get('runs', '?')} timed runs")
  return notes


def _stock_notes(report: dict) -> list[str]:
  """One line on the stock anchors the `x stock` columns divide by."""
  section = report.get("stock_comparison")
  if not section:
    return []
  anchors = ", ".join(f"{name} p50 {a['p50_ms']:.2f} ms, {a['bytes']} bytes"
                      for name, a in section["anchors"].items())
  return [f"stock TFLite path (plain GCN, {section['hidden_units']} units, stock converter; "
          f"timed beside every artifact, {section['rounds']} interleaved rounds): {anchors}"]


def _ratio_notes(report: dict) -> list[str]:
  """What the `x fp32` and per-node columns mean for this report."""
  notes = []
  baseline = baseline_artifact(report)
  if baseline:
    timing = ("p50 timed side by side in the stock comparison's rounds"
              if baseline.get("side_by_side_p50_ms") is not None else "p50 of each artifact's "
              "own benchmark")
    notes.append(f"FP32 baseline: {baseline['name']} (the float32 artifact of the fp32 model "
                 f"{baseline['model']}); `x fp32` divides by its {timing} and its bytes")
  if any(a.get("per_node_latency_ms") for a in report.get("artifacts", [])):
    notes.append("per-node p50: the time to answer one node's query on the artifact (a "
                 "student fed that node's own features); the p50 column is one call over "
                 "the whole graph")
  return notes


def write_report(out: str | pathlib.Path, report: Optional[dict] = None) -> ReportFiles:
  """Writes OUT/report.md, OUT/report.html and OUT/plots/*.png from report.json.

  Args:
    out: The run directory.
    report: The report dict (default: read OUT/report.json).

  Returns:
    The written paths.
  """
  out = pathlib.Path(out)
  if report is None:
    from edgegnn.deploy.device_results import load_report  # pylint: disable=g-import-not-at-top
    report = load_report(out / "report.json")
  artifacts = report.get("artifacts", [])
  plots = {key: out / "plots" / name for key, name in PLOTS.items()}
  plots["size"].parent.mkdir(parents=True, exist_ok=True)
  # With the stock comparison, every latency is the one timed in its interleaved rounds.
  side_by_side = bool(artifacts) and all(a.get("side_by_side_p50_ms") is not None
                                         for a in artifacts)
  references = _references(report, side_by_side)
  size_front = _accuracy_plot(plots["size"], report, lambda a: a.get("bytes"),
                              "artifact size (bytes, log scale)", references["size"])
  latency_front = _accuracy_plot(
      plots["latency"], report, lambda a: _p50(a, side_by_side),
      "latency p50 (ms, host, log scale" + (", timed beside the stock path)" if side_by_side
                                           else ")"), references["latency"])
  bits = artifact_layer_bits(report, out)
  report_plots.bits_plot(plots["bits"], bits)

  title = f"edgegnn report: {report.get('pipeline', '?')} on {report.get('dataset', '?')}"
  tables = {"Models": model_rows(report), "Artifacts": artifact_rows(report),
            "Per-layer bit-widths": _bits_rows(bits)}
  fronts = {"Pareto front (size)": size_front, "Pareto front (p50 latency)": latency_front}
  notes = _ratio_notes(report) + _device_notes(report) + _stock_notes(report)

  md = [f"# {title}", "", f"edgegnn {report.get('edgegnn_version', '?')}. Source of every "
        "figure: `report.json`. Accuracy is on the test split; agreement is the fraction of "
        "test predictions equal to the Keras model's; latency is on the host unless a "
        "device column says otherwise.", ""]
  for name, (header, rows) in tables.items():
    md += [f"## {name}", "", _markdown_table(header, rows), ""]
    if name == "Artifacts":
      md += [f"- {k}: {', '.join(v) or '–'}" for k, v in fronts.items()]
      md += [f"- {n}" for n in notes] + [""]
  md += ["## Plots", ""] + [f"![{key}](plots/{path.name})" for key, path in plots.items()]
  atomic_write_text(out / "report.md", "\n".join(md) + "\n")

  style = ("body{font-family:sans-serif;margin:2em;max-width:80em}"
           "table{border-collapse:collapse;margin:1em 0}"
           "td,th{border:1px solid #bbb;padding:.25em .6em;text-align:right}"
           "td:first-child,th:first-child{text-align:left}th{background:#eee}")
  parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
           f"</title><style>{style}</style></head><body><h1>{html.escape(title)}</h1>",
           f"<p>edgegnn {html.escape(str(report.get('edgegnn_version', '?')))}. Source of "
           "every figure: <code>report.json</code>.</p>"]
  for name, (header, rows) in tables.items():
    parts.append(f"<h2>{html.escape(name)}</h2>{_html_table(header, rows)}")
    if name == "Artifacts":
      parts.append("<ul>" + "".join(
          f"<li>{html.escape(k)}: {html.escape(', '.join(v) or '–')}</li>"
          for k, v in fronts.items()) + "".join(
              f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
  parts.append("<h2>Plots</h2>")
  for key, path in plots.items():
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    parts.append(f"<p><img alt='{key}' src='data:image/png;base64,{encoded}'></p>")
  parts.append("</body></html>")
  atomic_write_text(out / "report.html", "".join(parts) + "\n")
  return ReportFiles(out / "report.md", out / "report.html", plots)
