"""A device bundle: everything a Raspberry Pi needs to run a run's artifacts and check them.

    bundle/
      manifest.json            task, dataset (and its source), examples, the artifacts and
                               their feed sets
      run_bundle.py            the device-side runner (`edgegnn.runtime.bundle_runner`)
      edgegnn_runtime/         the modules of `edgegnn.runtime` the runner imports (the
                               interpreters, input checks, quantization, timing), copied
                               as they are: the device runs the host's code with numpy +
                               ai-edge-litert only
      artifacts/NAME.tflite    the artifacts, each with its sidecar NAME.tflite.json
      inputs/SET/00000/IN.npy  sample inputs (real values) per example, one SET per
                               (layout, capacity, max_neighbors); node task: the whole
                               graph; graph task: each test graph
      expected/NAME.npy        the host's logits of NAME on the test examples
      labels.npy               test labels (test_index.npy too for a node task)

Built from a run directory (report.json + artifacts). The sample inputs are the run's own
graph: the dataset source report.json records (your npz, CSV, OGB or TF-GNN files, read
again on the host), else the one an artifact's sidecar records, else the bundled dataset
of that name. The host's expected logits come from the same runtime `edgegnn run`
verified the artifact with, so a device result compares the device's runtime with the
host's on identical inputs.
"""
from __future__ import annotations

import ast
import dataclasses
import json
import os
import pathlib
import shutil
import tempfile
from typing import Optional, Sequence

import numpy as np

from edgegnn.atomic import atomic_write_text
from edgegnn.deploy.device_results import load_report
from edgegnn.runtime import bundle_runner, sidecar as sidecar_lib
from edgegnn.safe_paths import check_name, inside

RUNNER_NAME = "run_bundle.py"
_SCHEMA = "edgegnn.bundle/1"


def runtime_files() -> list[pathlib.Path]:
  """The files of `edgegnn.runtime` a bundle ships: the package's `__init__.py` and every
  module the runner imports, directly or through another (relative imports at any depth of
  a module, read from the source), sorted; the runner itself is `run_bundle.py`."""
  folder = pathlib.Path(bundle_runner.__file__).resolve().parent
  todo, seen = ["bundle_runner"], set()
  while todo:
    name = todo.pop()
    if name in seen:
      continue
    seen.add(name)
    for node in ast.walk(ast.parse((folder / f"{name}.py").read_text(encoding="utf-8"))):
      if isinstance(node, ast.ImportFrom) and node.level == 1:
        todo.extend([node.module.split(".")[0]] if node.module
                    else [alias.name for alias in node.names])
  return sorted(folder / f"{name}.py" for name in (seen - {"bundle_runner"}) | {"__init__"})


def dataset_source(report: dict, run_dir: pathlib.Path, chosen: Sequence[dict]):
  """What reloads the run's dataset: report.json's `dataset_source` (your own graph), else
  the `dataset_source` of the first chosen artifact's sidecar, else report.json's dataset
  name (a bundled dataset)."""
  if report.get("dataset_source"):
    return report["dataset_source"]
  for a in chosen:
    path = sidecar_lib.sidecar_path(run_dir / a["path"])
    if path.is_file():
      try:
        source = json.loads(path.read_text(encoding="utf-8")).get("dataset_source")
      except ValueError:
        source = None
      if source:
        return source
  return report["dataset"]


@dataclasses.dataclass(frozen=True)
class Bundle:
  """A written bundle.

  Attributes:
    path: The bundle directory.
    artifacts: Names of the artifacts it holds.
    examples: Number of test examples (graphs, or 1 for a node task).
    bytes: Total size of its files.
  """
  path: pathlib.Path
  artifacts: tuple[str, ...]
  examples: int
  bytes: int


def _feed_set(artifact: dict) -> str:
  return (f"{artifact.get('layout', 'sparse')}_c{artifact.get('capacity')}"
          f"_k{artifact.get('max_neighbors')}")


def build_bundle(run_dir: str | pathlib.Path, bundle_dir: str | pathlib.Path, *,
                 artifacts: Optional[Sequence[str]] = None,
                 max_examples: Optional[int] = None) -> Bundle:
  """Writes a device bundle for the artifacts of a finished run.

  Args:
    run_dir: The run directory (holds report.json and artifacts/).
    bundle_dir: Where to write the bundle: a new or empty directory, or an earlier bundle
      (which is replaced once the new one is complete).
    artifacts: Artifact names to include (default: all of report.json's).
    max_examples: Use only the first N test graphs (graph tasks; default: all).

  Returns:
    The `Bundle`.

  Raises:
    FileNotFoundError: No report.json, or an artifact file is missing.
    ValueError: An unknown artifact name, max_examples < 1, or a destination that is the
      run, a file or a non-empty directory other than a bundle.
  """
  from edgegnn import data  # pylint: disable=g-import-not-at-top
  run_dir, bundle_dir = pathlib.Path(run_dir), pathlib.Path(bundle_dir)
  report_path = run_dir / "report.json"
  if max_examples is not None and max_examples < 1:
    raise ValueError(f"max_examples must be >= 1, got {max_examples}.")
  report = load_report(report_path)
  chosen = report.get("artifacts", [])
  if artifacts:
    known = [a["name"] for a in chosen]
    unknown = sorted(set(artifacts) - set(known))
    if unknown:
      raise ValueError(f"unknown artifact(s) {unknown}; {report_path} has {known}.")
    chosen = [a for a in chosen if a["name"] in set(artifacts)]
  if not chosen:
    raise ValueError(f"{report_path}: no artifacts to bundle (add an export stage).")
  for a in chosen:
    if "path" not in a:
      raise ValueError(f"{report_path}: artifact {a['name']} has no path; re-run the pipeline.")
    inside(run_dir, a["path"])  # report.json names files of the run only
    check_name(a["name"], f"{report_path}: artifact name")  # names expected/NAME.npy
    if not (run_dir / a["path"]).is_file():
      raise FileNotFoundError(f"{run_dir / a['path']}: artifact {a['name']} is missing; "
                              "re-run the pipeline.")
  _check_destination(run_dir, bundle_dir)
  source = dataset_source(report, run_dir, chosen)
  dataset = data.load_source(source)
  # Written beside its destination, then renamed onto it: a failure (a corrupt artifact,
  # a full disk) leaves the previous bundle, or nothing, never half a bundle.
  bundle_dir.parent.mkdir(parents=True, exist_ok=True)
  staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{bundle_dir.name}.", dir=bundle_dir.parent))
  try:
    bundle = _write_bundle(run_dir, staging, report, chosen, dataset, source, max_examples)
  except BaseException:
    shutil.rmtree(staging, ignore_errors=True)
    raise
  os.chmod(staging, 0o755)
  if bundle_dir.exists():
    old = pathlib.Path(tempfile.mkdtemp(prefix=f".{bundle_dir.name}.old.", dir=bundle_dir.parent))
    os.replace(bundle_dir, old / "bundle")
    os.replace(staging, bundle_dir)
    shutil.rmtree(old)
  else:
    os.replace(staging, bundle_dir)
  return dataclasses.replace(bundle, path=bundle_dir)


def is_bundle(directory: pathlib.Path) -> bool:
  """Whether `directory` holds a bundle `build_bundle` wrote (its manifest's schema)."""
  try:
    manifest = json.loads((directory / "manifest.json").read_text())
  except (OSError, ValueError):
    return False
  return isinstance(manifest, dict) and manifest.get("schema") == _SCHEMA


def _check_destination(run_dir: pathlib.Path, bundle_dir: pathlib.Path) -> None:
  """Refuses a destination whose replacement would delete what the bundle did not write:
  the run itself or a directory holding it, a file, or a non-empty directory that is not
  an earlier bundle."""
  run, dest = run_dir.resolve(), bundle_dir.resolve()
  if dest == run or dest in run.parents:
    raise ValueError(f"bundle directory {bundle_dir} is (or holds) the run directory "
                     f"{run_dir}; writing the bundle there would replace the run. Give a new "
                     "directory, e.g. bundle/.")
  if dest.exists() and not dest.is_dir():
    raise ValueError(f"bundle directory {bundle_dir} is a file; give a directory path.")
  if dest.is_dir() and any(dest.iterdir()) and not is_bundle(dest):
    raise ValueError(f"bundle directory {bundle_dir} is not empty and holds no edgegnn bundle; "
                     "refusing to replace its contents. Give a new or empty directory.")


def _write_bundle(run_dir: pathlib.Path, bundle_dir: pathlib.Path, report: dict,
                  chosen: list, dataset, source, max_examples: Optional[int]) -> Bundle:
  """Writes the bundle's files into the (empty) directory `bundle_dir`."""
  from edgegnn.models import feeds  # pylint: disable=g-import-not-at-top
  from edgegnn.runtime.interpreters import open_runtime  # pylint: disable=g-import-not-at-top
  models = {m["name"]: m for m in report.get("models", [])}
  (bundle_dir / "artifacts").mkdir(parents=True)
  (bundle_dir / "expected").mkdir()

  if dataset.task == "node":
    test_index = np.asarray(dataset.test_index)
    labels = dataset.labels[test_index]
    graphs = [dataset.graph]
    np.save(bundle_dir / "test_index.npy", test_index)
  else:
    folds = {m.get("runs", [{}])[0].get("fold", 0) for m in models.values()
             if m["name"] in {a["model"] for a in chosen}}
    if len(folds) > 1:
      raise ValueError(f"the artifacts come from models of different folds {sorted(folds)}; "
                       "bundle them separately (--artifact).")
    test_index = np.asarray(dataset.split(folds.pop() if folds else 0)[1])
    if max_examples is not None:
      test_index = test_index[:max_examples]
    labels = dataset.labels[test_index]
    graphs = [dataset.graphs[i] for i in test_index]
  np.save(bundle_dir / "labels.npy", labels.astype(np.int32))

  entries = []
  for a in chosen:
    artifact = run_dir / a["path"]
    target = bundle_dir / "artifacts" / artifact.name
    shutil.copyfile(artifact, target)
    if sidecar_lib.sidecar_path(artifact).is_file():
      shutil.copyfile(sidecar_lib.sidecar_path(artifact), sidecar_lib.sidecar_path(target))
    else:  # a run from before sidecars: describe the file now
      sidecar_lib.write_sidecar(target, fmt=a.get("format"), task=dataset.task,
                                dataset=dataset.name, num_classes=dataset.num_classes,
                                layout=a.get("layout"), capacity=a.get("capacity"),
                                max_neighbors=a.get("max_neighbors"), dataset_source=source)
    feed_set = _feed_set(a)
    runtime = open_runtime(str(target), runtime=a.get("runtime", "auto"))
    names = [io.name for io in runtime.inputs]
    logits = []
    for k, graph in enumerate(graphs):
      feed = feeds.select(feeds.graph_feed(graph, a.get("layout", "sparse"), a.get("capacity"),
                                           max_neighbors=a.get("max_neighbors")), names)
      # One directory per feed set; artifacts of a set may take different inputs (dense
      # or sparse features), so each adds the inputs the set does not hold yet.
      example_dir = bundle_dir / "inputs" / feed_set / f"{k:05d}"
      example_dir.mkdir(parents=True, exist_ok=True)
      for name, array in feed.items():
        if not (example_dir / f"{name}.npy").exists():
          np.save(example_dir / f"{name}.npy", array)
      out = runtime.run(feed)["logits"]
      if dataset.task == "node":
        out = out[: graph.num_nodes][test_index]
      logits.append(out.reshape(-1, out.shape[-1]))
    np.save(bundle_dir / "expected" / f"{a['name']}.npy", np.concatenate(logits))
    entries.append({"name": a["name"], "file": f"artifacts/{target.name}",
                    "sidecar": f"artifacts/{sidecar_lib.sidecar_path(target).name}",
                    "format": a.get("format"), "runtime": runtime.name, "feed_set": feed_set,
                    "expected": f"expected/{a['name']}.npy"})
  manifest = {"schema": _SCHEMA, "pipeline": report.get("pipeline"),
              "dataset": dataset.name, "dataset_source": source, "task": dataset.task,
              "examples": len(graphs),
              "num_nodes": int(dataset.graph.num_nodes) if dataset.task == "node" else None,
              "artifacts": entries}
  atomic_write_text(bundle_dir / "manifest.json", json.dumps(manifest, indent=1) + "\n")
  shutil.copyfile(bundle_runner.__file__, bundle_dir / RUNNER_NAME)
  package = bundle_dir / bundle_runner.BUNDLED_PACKAGE
  package.mkdir()
  for path in runtime_files():
    shutil.copyfile(path, package / path.name)
  total = sum(p.stat().st_size for p in bundle_dir.rglob("*") if p.is_file())
  return Bundle(bundle_dir, tuple(e["name"] for e in entries), len(graphs), total)

