"""LPGNAS on a citation graph: search, retrain the genotype with Degree-Quant, export, and
compare with the DQ INT8 GCN trained, exported and timed in the same run.

    .venv/bin/python tools/lpgnas_search.py --dataset cora --out docs/results/lpgnas_cora.json
    .venv/bin/python tools/lpgnas_search.py --render docs/results/lpgnas_*.json

Steps: one search round (`edgegnn.search.search`, seed 0, timed); the argmax genotype
retrained from scratch with Degree-Quant at its per-layer precisions for every seed; the
two-layer DQ INT8 GCN (hidden 16) for the same seeds; the seed-0 models of both exported
in the neighbors layout (the genotype as tflite-int8, or tflite-int8-float16 when it mixes
float16 layers), checked against their Keras models on the test nodes, and timed side by
side (`edgegnn.deploy.side_by_side`, 1 thread, inputs set once). Test accuracy is read
after training only; the genotype is chosen on validation inside the search.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from edgegnn import data  # noqa: E402
from edgegnn.atomic import atomic_write_text  # noqa: E402
from edgegnn.deploy import side_by_side  # noqa: E402
from edgegnn.deploy.convert import convert  # noqa: E402
from edgegnn.deploy.layer_bits import layer_bit_widths  # noqa: E402
from edgegnn.models import ModelSpec, build_model, feeds, transfer_weights  # noqa: E402
from edgegnn.quantization import QuantizationConfig  # noqa: E402
from edgegnn.runtime import open_runtime  # noqa: E402
from edgegnn.search import space as space_lib  # noqa: E402
from edgegnn.search.genotype_model import build_genotype_model, export_format  # noqa: E402
from edgegnn.search.search import SearchConfig, search  # noqa: E402
from edgegnn.training import TrainConfig, train  # noqa: E402

DQ = QuantizationConfig(method="dq", weight_bits=8, activation_bits=8)
GCN = ModelSpec("gcn", hidden_units=16, dropout=0.5, weight_decay=5e-4,
                input_normalization="row")


def _builders(dataset, genotype):
  """name -> build(layout, max_neighbors) of the two models compared."""
  common = dict(num_features=dataset.num_features, num_classes=dataset.num_classes,
                quantization=DQ)
  return {
      "lpgnas": lambda layout, k=None: build_genotype_model(
          genotype, layout=layout, max_neighbors=k, **common),
      "dq_int8_gcn": lambda layout, k=None: build_model(GCN, layout=layout,
                                                          max_neighbors=k, **common)}


def _export(name, trained, build, dataset, fmt, out_dir):
  k = int(dataset.graph.in_degree().max())
  model = transfer_weights(trained, build("neighbors", k))
  feed = feeds.select(feeds.graph_feed(dataset.graph, "neighbors", max_neighbors=k),
                      feeds.model_input_names(model))
  result = convert(model, fmt, out_dir / f"{name}.tflite", target="mobile",
                   representative_feeds=[feed] if fmt == "tflite-int8" else None)
  keras = model(feed)["logits"].numpy()[dataset.test_index].argmax(-1)
  tflite = open_runtime(result.path).run(feed)["logits"][dataset.test_index].argmax(-1)
  labels = dataset.labels[dataset.test_index]
  record = {"format": fmt, "bytes": result.bytes,
            "agreement": round(float(np.mean(keras == tflite)), 4),
            "artifact_test_accuracy": round(float(np.mean(tflite == labels)), 4),
            "layers": [{"op": l["op"], "weight_shape": l["weight_shape"],
                        "precision": l["precision"]} for l in layer_bit_widths(result.path)]}
  return record, result.path, feed


def _predicted_ms(path, feed):
  """The host cost model's prediction, when `edgegnn.deploy.cost` is importable."""
  try:
    from edgegnn.deploy.cost import estimate  # pylint: disable=g-import-not-at-top
  except ImportError:
    return None
  try:   # the real inputs: random ones of the same shapes index out of bounds
    return round(float(estimate(path, "host", inputs=feed).predicted_ms), 3)
  except Exception as e:  # pylint: disable=broad-except
    return f"not predicted: {type(e).__name__}: {str(e)[:200]}"


def run(dataset_name: str, seeds, config: SearchConfig, train_config: TrainConfig,
        out_dir: pathlib.Path) -> dict:
  dataset = data.load(dataset_name)
  load_before = os.getloadavg()
  found = search(dataset, config, seed=0)
  genotype = found.genotype
  print(f"[{dataset_name}] searched in {found.seconds:.0f} s: {genotype.describe()}",
        flush=True)
  builders = _builders(dataset, genotype)
  runs = {name: [] for name in builders}
  trained = {}
  for name, build in builders.items():
    spec = ModelSpec("mp", weight_decay=5e-4) if name == "lpgnas" else GCN
    for seed in seeds:
      result = train(spec, dataset, train_config, seed=seed, progress=False,
                     model=build("sparse"))
      runs[name].append({k: result.metrics[k] for k in
                         ("seed", "val_accuracy", "test_accuracy", "best_epoch", "seconds")})
      trained.setdefault(name, result.model)
      print(f"[{dataset_name}] {name} seed {seed}: test {result.metrics['test_accuracy']:.3f}",
            flush=True)
  formats = {"lpgnas": export_format(genotype), "dq_int8_gcn": "tflite-int8"}
  artifacts, contenders = {}, []
  for name, build in builders.items():
    record, path, feed = _export(name, trained[name], build, dataset, formats[name], out_dir)
    record["predicted_host_ms"] = _predicted_ms(path, feed)
    artifacts[name] = record
    contenders.append(side_by_side.contender(name, path, feed))
    print(f"[{dataset_name}] {name} artifact: {record['format']}, {record['bytes']} B, "
          f"agreement {record['agreement']}", flush=True)
  timed = side_by_side.interleaved_latency(contenders, baseline="dq_int8_gcn")
  for name, record in artifacts.items():
    record["latency_ms_p50"] = round(timed[name]["p50_ms"], 3)
    record["x_dq_int8_gcn_p50"] = round(timed[name]["x_baseline_p50"], 3)
    record["x_dq_int8_gcn_bytes"] = round(timed[name]["x_baseline_bytes"], 3)
  summary = {name: {"test_mean": round(100 * float(np.mean([r["test_accuracy"] for r in rs])), 2),
                    "test_std": round(100 * float(np.std([r["test_accuracy"] for r in rs])), 2),
                    "val_mean": round(100 * float(np.mean([r["val_accuracy"] for r in rs])), 2)}
             for name, rs in runs.items()}
  lp, ref = summary["lpgnas"], summary["dq_int8_gcn"]
  met = lp["test_mean"] >= ref["test_mean"] and (
      artifacts["lpgnas"]["x_dq_int8_gcn_bytes"] <= 0.5
      or artifacts["lpgnas"]["x_dq_int8_gcn_p50"] <= 0.5)
  return {"dataset": dataset_name, "seeds": list(seeds),
          "command": " ".join([".venv/bin/python tools/lpgnas_search.py", *sys.argv[1:]]),
          "search": {"config": {k: v for k, v in config.to_dict().items() if k != "space"},
                     "space": space_lib.describe_space(config.space), **found.to_dict()},
          "genotype_weight_bytes": space_lib.genotype_bytes(genotype, dataset.num_features),
          "train": train_config.to_dict(), "runs": runs, "summary": summary,
          "artifacts": artifacts,
          "target": {"accuracy_at_least_dq_int8_gcn": lp["test_mean"] >= ref["test_mean"],
                     "half_bytes_or_latency": artifacts["lpgnas"]["x_dq_int8_gcn_bytes"] <= 0.5
                     or artifacts["lpgnas"]["x_dq_int8_gcn_p50"] <= 0.5, "met": met},
          "load_average_before": load_before, "load_average_after": os.getloadavg(),
          "note": "measured on a 2-core machine shared with other jobs"}


BEGIN, END = "<!-- lpgnas:begin -->", "<!-- lpgnas:end -->"


def render(paths) -> str:
  """The results table of docs/lpgnas.md from the tool's JSON files."""
  rows = ["| dataset | size weight | genotype (attention/activation/width/precision per layer) "
          "| search s | LPGNAS test % (val %) | DQ INT8 GCN test % (val %) | LPGNAS artifact "
          "| bytes (x DQ) | p50 ms (x DQ) | agreement | target |",
          "|---|---|---|---|---|---|---|---|---|---|---|"]
  for path in paths:
    r = json.loads(pathlib.Path(path).read_text())
    lp, ref = r["summary"]["lpgnas"], r["summary"]["dq_int8_gcn"]
    a = r["artifacts"]["lpgnas"]
    rows.append(
        f"| {r['dataset']} | {r['search']['config']['size_weight']:g} | "
        f"{r['search']['describe'].replace(' | ', '; ')} | {r['search']['seconds']:.0f} | "
        f"{lp['test_mean']:.1f} ± {lp['test_std']:.1f} ({lp['val_mean']:.1f}) | "
        f"{ref['test_mean']:.1f} ± {ref['test_std']:.1f} ({ref['val_mean']:.1f}) | "
        f"{a['format']} | {a['bytes']} ({a['x_dq_int8_gcn_bytes']:.2f}x) | "
        f"{a['latency_ms_p50']:.2f} ({a['x_dq_int8_gcn_p50']:.2f}x) | {a['agreement']:.3f} | "
        f"{'met' if r['target']['met'] else 'NOT met'} |")
  commands = "\n".join(f"    {json.loads(pathlib.Path(p).read_text())['command']}"
                        for p in paths)
  return "\n".join(rows) + "\n\nCommands (one run each; 5 seeds of both models):\n\n" + commands


def _render_into(doc: pathlib.Path, paths) -> None:
  text = doc.read_text()
  if BEGIN not in text or END not in text:
    raise SystemExit(f"{doc} has no {BEGIN} ... {END} block to fill.")
  head, rest = text.split(BEGIN, 1)
  _, tail = rest.split(END, 1)
  atomic_write_text(doc, f"{head}{BEGIN}\n{render(paths)}\n{END}{tail}")


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--dataset", default="cora")
  parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
  parser.add_argument("--search-epochs", type=int, default=200)
  parser.add_argument("--size-weight", type=float, default=0.5)
  parser.add_argument("--arch-learning-rate", type=float, default=0.05)
  parser.add_argument("--epochs", type=int, default=200)
  parser.add_argument("--out", type=pathlib.Path, help="the JSON file to write")
  parser.add_argument("--render", nargs="+", metavar="JSON",
                      help="fill docs/lpgnas.md's table from these JSON files and exit")
  args = parser.parse_args(argv)
  if args.render:
    _render_into(pathlib.Path(__file__).resolve().parents[1] / "docs" / "lpgnas.md",
                 args.render)
    return 0
  if args.out is None:
    parser.error("--out is required (or --render)")
  config = SearchConfig(epochs=args.search_epochs, size_weight=args.size_weight,
                        arch_learning_rate=args.arch_learning_rate)
  train_config = TrainConfig(epochs=args.epochs, patience=100)
  work = args.out.parent / f".{args.out.stem}_artifacts"
  work.mkdir(parents=True, exist_ok=True)
  start = time.perf_counter()
  try:
    result = run(args.dataset, args.seeds, config, train_config, work)
  finally:
    for path in work.glob("*"):
      path.unlink()
    work.rmdir()
  result["total_seconds"] = round(time.perf_counter() - start, 1)
  atomic_write_text(args.out, json.dumps(result, indent=1) + "\n")
  print(json.dumps({"summary": result["summary"], "target": result["target"]}, indent=1))
  return 0


if __name__ == "__main__":
  sys.exit(main())
