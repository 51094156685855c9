"""The runner's stage cache and per-stage staging: what is served as `[cached]` is what the
stage wrote, and a failed stage never replaces good outputs.

    OUT/.cache/NAME.json      {"key": ..., "result": ..., "files": {RELPATH: sha256}}
    OUT/.staging/NAME/        the stage's outputs while it runs, laid out like OUT
                              (models/NAME/..., artifacts/NAME.*), + stage_key.txt

A stage writes into its staging directory; only when it finished are its outputs moved
into OUT (each file or model directory by one rename) and the cache entry written with
the SHA-256 of every file. A cached entry is served only if its key matches and every
recorded file still has its hash; otherwise the stage runs again, saying why. A killed
run leaves the staging directory with its stage key, so a restart of the same stage
resumes from its checkpoints there; a different key starts it afresh.
"""
from __future__ import annotations

import hashlib
import json
import os
import pathlib
from typing import Any, Callable, Optional

from edgegnn.atomic import atomic_write_text
from edgegnn.safe_paths import inside, remove_inside

_STAMP = "stage_key.txt"


def code_fingerprint() -> str:
  """A hash of edgegnn's own source, so a changed library invalidates cached stages."""
  root = pathlib.Path(__file__).resolve().parents[1]
  digest = hashlib.sha256()
  for path in sorted(root.rglob("*.py")):
    digest.update(path.read_bytes())
  return digest.hexdigest()[:16]


def key_hash(payload: Any) -> str:
  """A stage key: the hash of a JSON-able payload (config, inputs, code)."""
  return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def file_sha256(path: pathlib.Path) -> str:
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      digest.update(block)
  return digest.hexdigest()


def _result_paths(value: Any) -> list[str]:
  """The file paths a stage's result names (run and artifact `path`, `sidecar`,
  `c_sources`), wherever they are nested."""
  found = []
  if isinstance(value, dict):
    for key, item in value.items():
      if key in ("path", "sidecar") and isinstance(item, str):
        found.append(item)
      elif key == "c_sources" and isinstance(item, list):
        found.extend(str(p) for p in item)
      else:
        found.extend(_result_paths(item))
  elif isinstance(value, list):
    for item in value:
      found.extend(_result_paths(item))
  return found


class StageCache:
  """The cache entries and staging directories of one output directory."""

  def __init__(self, out: pathlib.Path, log: Callable[[str], None]):
    self.out = out
    self.log = log

  def lookup(self, name: str, key: str) -> Optional[dict[str, Any]]:
    """The cache entry of stage `name` if it has `key` and its files are intact; None
    (with a one-line notice when an entry existed) otherwise."""
    path = inside(self.out, ".cache", f"{name}.json")
    if not path.is_file():
      return None
    try:
      entry = json.loads(path.read_text())
      if entry.get("key") != key:
        return None
      files, result = entry["files"], entry["result"]
      if not isinstance(files, dict) or not isinstance(result, dict):
        raise TypeError
    except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError):
      self.log(f"[re-run] {name}: its cache entry {path} is unreadable; running the stage again")
      return None
    for relative in _result_paths(result):  # later stages read these: OUT's files only
      try:
        inside(self.out, relative)
      except ValueError:
        self.log(f"[re-run] {name}: its cache entry names {relative!r}, outside the output "
                 "directory; running the stage again")
        return None
    for relative, sha in files.items():
      problem = self._check_file(relative, sha)
      if problem:
        self.log(f"[re-run] {name}: cached output {relative} {problem}; running the stage again")
        return None
    return entry

  def _check_file(self, relative: str, sha: str) -> Optional[str]:
    try:
      path = inside(self.out, relative)
    except ValueError:
      return "is outside the output directory"
    if not path.is_file():
      return "is missing"
    if file_sha256(path) != sha:
      return "was modified since the stage wrote it"
    return None

  def staging(self, name: str, key: str) -> pathlib.Path:
    """OUT/.staging/NAME, kept if it was written for `key` (a killed run resumes from its
    checkpoints), emptied otherwise."""
    directory = inside(self.out, ".staging", name)
    stamp = directory / _STAMP
    if directory.exists() and (not stamp.is_file() or stamp.read_text() != key):
      remove_inside(self.out, ".staging", name)
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write_text(stamp, key)
    return directory

  def commit(self, name: str, key: str, result: dict[str, Any]) -> dict[str, str]:
    """Moves the finished stage's outputs from its staging directory into OUT, writes its
    cache entry and returns {RELPATH: sha256} of its files."""
    staged = inside(self.out, ".staging", name)
    files = {}
    for path in sorted(staged.rglob("*")):
      if path.is_file() and path.name != _STAMP:
        files[path.relative_to(staged).as_posix()] = file_sha256(path)
    # Each top-level output (a model directory, an artifact file) replaces its old
    # version by one rename; the old one is moved aside first, then deleted.
    for group in sorted(p for p in staged.iterdir() if p.is_dir()):
      target_dir = inside(self.out, group.name)
      target_dir.mkdir(parents=True, exist_ok=True)
      for item in sorted(group.iterdir()):
        target = inside(self.out, group.name, item.name)
        if target.is_dir() and not target.is_symlink():
          old = inside(self.out, ".staging", f"{name}.old")
          if old.exists():
            remove_inside(self.out, ".staging", f"{name}.old")
          os.replace(target, old)
          os.replace(item, target)
          remove_inside(self.out, ".staging", f"{name}.old")
        else:
          os.replace(item, target)
    cache = inside(self.out, ".cache", f"{name}.json")
    cache.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(cache, json.dumps({"key": key, "result": result, "files": files},
                                        indent=1))
    remove_inside(self.out, ".staging", name)
    return files
