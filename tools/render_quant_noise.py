"""Quant-Noise vs QAT vs Degree-Quant at INT4: the JSON and the table in docs/degree_quant.md.

    edgegnn run experiments/quant_noise/cora_gcn_int4.yaml
    python tools/render_quant_noise.py runs/quant_noise_cora_gcn

Reads RUN/report.json (one model per method, 5 seeds each), writes
docs/results/quant_noise_cora_gcn.json (every seed's validation and test accuracy, mean and
std per method, the commands) and the table between the `<!-- quant-noise:begin -->` and
`<!-- quant-noise:end -->` markers of docs/degree_quant.md (appended at the end the first
time). `--check` exits 1 if the doc's table differs from the JSON's.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "degree_quant.md"
RESULT = ROOT / "docs" / "results" / "quant_noise_cora_gcn.json"
LABELS = {"qat_int4": "QAT", "quant_noise_int4": "Quant-Noise (p = 0.5)", "dq_int4": "Degree-Quant"}


def collect(run_dir: pathlib.Path) -> dict:
  report = json.loads((run_dir / "report.json").read_text())
  methods = {}
  for model in report["models"]:
    runs = model["runs"]
    test = [r["test_accuracy"] for r in runs]
    val = [r["val_accuracy"] for r in runs]
    methods[model["name"]] = {
        "method": model.get("method"), "seeds": [r["seed"] for r in runs],
        "test_accuracy": test, "val_accuracy": val,
        "test_mean": float(np.mean(test)), "test_std": float(np.std(test)),
        "val_mean": float(np.mean(val))}
  return {"commands": ["edgegnn run experiments/quant_noise/cora_gcn_int4.yaml",
                       f"python tools/render_quant_noise.py {run_dir}"],
          "dataset": report["dataset"], "methods": methods}


def table(result: dict) -> str:
  rows = ["| W4A4, GCN on Cora | val | test (mean ± std, 5 seeds) |", "|---|---|---|"]
  for name, m in result["methods"].items():
    rows.append(f"| {LABELS.get(name, name)} | {100 * m['val_mean']:.1f} | "
                f"{100 * m['test_mean']:.1f} ± {100 * m['test_std']:.1f} |")
  rows += ["", "Commands: " + "; ".join(f"`{c}`" for c in result["commands"])
           + " (figures in `docs/results/quant_noise_cora_gcn.json`)."]
  return "\n".join(rows)


def render(text: str, block: str) -> str:
  begin, end = "<!-- quant-noise:begin -->", "<!-- quant-noise:end -->"
  if begin not in text:
    text = text.rstrip("\n") + (
        "\n\n## Quant-Noise\n\nQuant-Noise (Fan et al., 2020; `quantization: {quant_noise: p}` "
        "in a `qat` stage) quantizes a random fraction p of each kernel's input rows in a "
        "training step and leaves the others float; at inference every weight is "
        f"quantized. Activations are quantized as in QAT.\n\n{begin}\n{end}\n")
  pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(end), re.S)
  return pattern.sub(lambda _: f"{begin}\n{block}\n{end}", text)


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("run_dir", type=pathlib.Path, nargs="?")
  parser.add_argument("--check", action="store_true")
  args = parser.parse_args(argv)
  if args.check:
    result = json.loads(RESULT.read_text())
    return 0 if render(DOC.read_text(), table(result)) == DOC.read_text() else 1
  result = collect(args.run_dir)
  RESULT.write_text(json.dumps(result, indent=1) + "\n")
  DOC.write_text(render(DOC.read_text(), table(result)))
  print(table(result))
  return 0


if __name__ == "__main__":
  sys.exit(main())
