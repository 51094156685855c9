"""`edgegnn deploy pi`: bundle a run's artifacts, run them on a device over SSH, collect.

    results = deploy_to_pi("runs/quickstart", SshTarget("pi@raspberrypi"))
    merge_device_results("runs/quickstart", results, label="raspberrypi")

The device needs Python 3 with numpy and ai-edge-litert (`pip install numpy
ai-edge-litert`); nothing of edgegnn or TensorFlow. The bundle is copied to
`remote_dir`, `run_bundle.py` runs there, and its results JSON and per-artifact logits
are fetched back into RUN/deploy/LABEL/.
"""
from __future__ import annotations

import hashlib
import json
import pathlib
from typing import Callable, Optional, Sequence

from edgegnn import strict_json
from edgegnn.atomic import atomic_write_text
from edgegnn.safe_paths import check_name, inside, remove_inside
from edgegnn.deploy import ssh
from edgegnn.deploy.device_results import SchemaError, check_device_results, load_report
from edgegnn.deploy.pi_bundle import RUNNER_NAME, build_bundle


def deploy_to_pi(run_dir: str | pathlib.Path, target: ssh.SshTarget, *, python: str = "python3",
                 remote_dir: str = "edgegnn_bundle", runs: int = 50, warmup: int = 5,
                 threads: int = 1, label: Optional[str] = None,
                 artifacts: Optional[Sequence[str]] = None,
                 max_examples: Optional[int] = None,
                 log: Callable[[str], None] = lambda _: None) -> dict:
  """Builds the bundle, copies it to the device, runs it and fetches the results.

  Args:
    run_dir: The run directory.
    target: The device.
    python: The device's Python (needs numpy and ai-edge-litert).
    remote_dir: Bundle directory on the device (relative to the login home, or absolute).
    runs / warmup / threads: Latency measurement on the device.
    label: Name of the device column (default: the host part of the destination).
    artifacts / max_examples: As for `build_bundle`.
    log: Progress lines.

  Returns:
    The device's results dict (`run_bundle.py`'s JSON), also written with the device's
    logits to RUN/deploy/LABEL/.
  """
  run_dir = pathlib.Path(run_dir)
  label = check_label(label or target.destination.split("@")[-1])
  local = inside(run_dir, "deploy", label)
  bundle = build_bundle(run_dir, local / "bundle", artifacts=artifacts,
                        max_examples=max_examples)
  log(f"bundle {bundle.path}: {len(bundle.artifacts)} artifact(s), {bundle.examples} "
      f"example(s), {bundle.bytes} bytes")
  ssh.run(target, [python, "-c", "import numpy, ai_edge_litert.interpreter"], timeout=120)
  ssh.copy_dir_to(target, bundle.path, remote_dir)
  log(f"copied to {target.destination}:{remote_dir}")
  output = ssh.run(target, [python, f"{remote_dir}/{RUNNER_NAME}", "--runs", str(runs),
                            "--warmup", str(warmup), "--threads", str(threads),
                            "--out", "results.json"], timeout=3600)
  for line in output.splitlines():
    log(f"  {line}")
  remove_inside(run_dir, "deploy", label, "fetched")
  fetched = inside(run_dir, "deploy", label, "fetched")
  fetched.mkdir(parents=True)
  ssh.copy_from(target, f"{remote_dir}/results.json", fetched / "results.json")
  ssh.copy_from(target, f"{remote_dir}/results", fetched / "logits")
  source = fetched / "results.json"
  try:
    results = json.loads(source.read_text(encoding="utf-8"))
  except (ValueError, UnicodeDecodeError) as e:
    raise SchemaError(f"{source}: the device's results are not valid JSON ({e}).") from None
  return check_device_results(results, str(source))


def check_label(label: str) -> str:
  """A device column's label, which names RUN/deploy/LABEL: an identifier only."""
  return check_name(label, "--label (the device column's name; default: the host)")


def file_sha256(path: str | pathlib.Path) -> str:
  """The hex SHA-256 of a file's bytes."""
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      digest.update(block)
  return digest.hexdigest()


def merge_device_results(run_dir: str | pathlib.Path, results: dict, label: str,
                         host: Optional[str] = None) -> dict:
  """Adds a device's results to RUN/report.json as a device column (replacing an earlier
  column with the same label); returns the updated report.

  Each artifact's result records the SHA-256 of the file the device ran, so a later
  `edgegnn run` into RUN keeps the column for artifacts it did not rebuild
  (`carry_over_devices`).
  """
  run_dir = pathlib.Path(run_dir)
  report_path = run_dir / "report.json"
  check_device_results(results)
  report = load_report(report_path)
  paths = {a["name"]: run_dir / a["path"] for a in report.get("artifacts", []) if "path" in a}
  measured = {}
  for name, result in results.get("artifacts", {}).items():
    result = dict(result)
    if name in paths and paths[name].is_file():
      result["sha256"] = file_sha256(paths[name])
    measured[name] = result
  device = dict(results.get("device", {}), label=label, host=host, runs=results.get("runs"),
                threads=results.get("threads"), artifacts=measured)
  report["devices"] = [d for d in report.get("devices", []) if d.get("label") != label]
  report["devices"].append(device)
  atomic_write_text(report_path, strict_json.dumps(report, indent=1))
  return report


def previous_devices(run_dir: str | pathlib.Path,
                     log: Callable[[str], None] = lambda _: None) -> list[dict]:
  """The device columns of RUN/report.json, which a new run of the pipeline replaces
  (none if it has no report, or one that is not valid: the run rewrites it)."""
  path = pathlib.Path(run_dir) / "report.json"
  if not path.is_file():
    return []
  try:
    return load_report(path).get("devices", [])
  except ValueError as e:
    log(f"device columns: none kept ({e})")
    return []


def carry_over_devices(devices: Sequence[dict], artifacts: Sequence[dict],
                       run_dir: str | pathlib.Path) -> list[dict]:
  """The device columns still true for a rebuilt report.

  A device result stays only for an artifact whose current file has the SHA-256 the
  device ran; a column left with no artifact is dropped.

  Args:
    devices: `devices` of the previous report.json.
    artifacts: `artifacts` of the new report.
    run_dir: The run directory the artifact paths are relative to.

  Returns:
    The device entries to keep, each with only its unchanged artifacts.
  """
  run_dir = pathlib.Path(run_dir)
  current = {}
  for a in artifacts:
    if "path" not in a:
      continue
    path = run_dir / a["path"]
    if path.is_file():
      current[a["name"]] = file_sha256(path)
  kept = []
  for device in devices:
    still = {name: result for name, result in device.get("artifacts", {}).items()
             if result.get("sha256") is not None and current.get(name) == result["sha256"]}
    if still:
      kept.append(dict(device, artifacts=still))
  return kept
