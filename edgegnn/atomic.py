"""Atomic file writes: a reader never sees a half-written artifact, and a failure leaves
no file behind."""
from __future__ import annotations

import contextlib
import os
import pathlib
import tempfile
from typing import Iterator, Union

PathLike = Union[str, os.PathLike]


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[pathlib.Path]:
  """Yields a temporary path beside `path`; renames it onto `path` only on success."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
  os.close(fd)
  tmp_path = pathlib.Path(tmp)
  try:
    yield tmp_path
    os.chmod(tmp_path, 0o644)
    os.replace(tmp_path, path)
  finally:
    if tmp_path.exists():
      tmp_path.unlink()


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
  with atomic_path(path) as tmp:
    tmp.write_bytes(data)


def atomic_write_text(path: PathLike, text: str) -> None:
  atomic_write_bytes(path, text.encode("utf-8"))
