"""Renders the measured tables of docs/fast_artifacts.md from their JSON.

    python tools/render_fast_artifacts.py            # rewrites the tables in place
    python tools/render_fast_artifacts.py --check    # exit 1 if the doc is out of date

Sources: docs/results/fast_artifacts_{cora,citeseer,quickstart}.json (tools/bench_against_stock.py)
and docs/results/fast_path_ablation.json (tools/fast_path_ablation.py). The tables sit
between `<!-- NAME:begin -->` and `<!-- NAME:end -->` markers.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "fast_artifacts.md"
RESULTS = ROOT / "docs" / "results"


def _ratio(value: float) -> str:
  return f"{value:.3f}"


def against_stock(path: pathlib.Path) -> str:
  run = json.loads(path.read_text())
  bench = any("bench_vs_side_by_side" in r for r in run["results"].values())
  rows = ["| artifact | features | bytes | x stock bytes | p50 ms | x stock p50 | test acc. | "
          "agreement |" + (" `edgegnn bench` p50 / this p50 |" if bench else ""),
          "|---|---|---|---|---|---|---|---|" + ("---|" if bench else "")]
  for name, r in sorted(run["results"].items(), key=lambda kv: kv[1]["p50_ms"]):
    acc, agreement = r.get("test_accuracy"), r.get("agreement")
    acc = "–" if acc is None else f"{100 * acc:.1f} %"
    agreement = "–" if agreement is None else f"{agreement:.3f}"
    features = r.get("features") or "(stock: dense, fed Â)"
    rows.append(
        f"| {name} | {features} | {r['bytes']:,} | {_ratio(r['x_baseline_bytes'])} | "
        f"{r['p50_ms']:.3f} | {_ratio(r['x_baseline_p50'])} | {acc} | {agreement} |"
        + (f" {r['bench_vs_side_by_side']:.2f} |" if "bench_vs_side_by_side" in r
           else (" – |" if bench else "")))
  load = ", ".join(f"{x:.1f}" for x in run.get("load_average", []))
  rows += ["", f"Command: `{run['command']}` ({run['rounds']} interleaved rounds of "
           f"{run['invokes_per_round']} invokes, {run['threads']} thread, load average "
           f"{load} while it ran)."]
  return "\n".join(rows)


def ablation(path: pathlib.Path) -> str:
  run = json.loads(path.read_text())
  rows = ["| case | p50 ms | x dense first layer (fc16) |", "|---|---|---|"]
  for name, r in run["results"].items():
    rows.append(f"| {name} | {r['p50_ms']:.3f} | {_ratio(r['x_baseline_p50'])} |")
  load = ", ".join(f"{x:.1f}" for x in run.get("load_average", []))
  rows += ["", f"Command: `{run['command']}` (load average {load} while it ran)."]
  return "\n".join(rows)


def blocks() -> dict[str, str]:
  return {"cora": against_stock(RESULTS / "fast_artifacts_cora.json"),
          "citeseer": against_stock(RESULTS / "fast_artifacts_citeseer.json"),
          "quickstart": against_stock(RESULTS / "fast_artifacts_quickstart.json"),
          "ablation": ablation(RESULTS / "fast_path_ablation.json")}


def render(text: str) -> str:
  for name, block in blocks().items():
    pattern = re.compile(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
      raise ValueError(f"{DOC}: no <!-- {name}:begin/end --> markers.")
    text = pattern.sub(lambda m: m.group(1) + block + "\n" + m.group(2), text)
  return text


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--check", action="store_true")
  args = parser.parse_args(argv)
  text = DOC.read_text()
  rendered = render(text)
  if args.check:
    if rendered != text:
      print(f"{DOC} is out of date: run python tools/render_fast_artifacts.py", file=sys.stderr)
      return 1
    return 0
  DOC.write_text(rendered)
  return 0


if __name__ == "__main__":
  sys.exit(main())
