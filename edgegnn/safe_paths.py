"""Names that become file names, and paths proven inside the directory they belong to.

A stage, export or device label becomes part of a path under the user's output
directory (OUT/models/NAME, OUT/artifacts/NAME.FORMAT.tflite, RUN/deploy/LABEL). A name
such as "../.." or "" would point at, and let the runner replace, a directory outside it;
so names are identifiers, checked when they are read, and every path the runner or
`deploy` writes or deletes is built by `inside`, which resolves it (symlinks included)
and refuses anything that is not strictly below its root.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import pathlib
import re
import shutil
from typing import Iterator, Union

PathLike = Union[str, os.PathLike]

# Letters, digits, '_', '-' and '.', not starting with '.': never "", ".", ".." or a
# hidden file, never a path separator.
_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")


class PathEscape(ValueError):
  """A path would leave the directory it must stay in."""


def check_name(name: object, where: str) -> str:
  """Returns `name` if it is an identifier usable as a file name; raises ValueError."""
  if not isinstance(name, str) or not _NAME.fullmatch(name):
    raise ValueError(f"{where}: {name!r} is not a valid name; use letters, digits, '_', '-' "
                     "and '.' (not first), at most 128 characters, e.g. gcn_int8.")
  return name


def inside(root: PathLike, *parts: PathLike) -> pathlib.Path:
  """`root/parts...`, resolved, proven strictly below the resolved `root`.

  Raises PathEscape if it is `root` itself or outside it (through "..", an absolute
  part or a symlink).
  """
  base = pathlib.Path(root).resolve()
  path = base.joinpath(*parts).resolve()
  if path == base or base not in path.parents:
    raise PathEscape(f"{pathlib.Path(root).joinpath(*parts)} resolves to {path}, which is not "
                     f"inside {base}; refusing to write or delete it.")
  return path


def remove_inside(root: PathLike, *parts: PathLike) -> None:
  """Deletes the file or directory `root/parts...` if it exists; only strictly below root."""
  path = inside(root, *parts)
  if path.is_dir() and not path.is_symlink():
    shutil.rmtree(path)
  elif path.exists() or path.is_symlink():
    path.unlink()


def check_output_dir(path: PathLike, option: str = "--out") -> pathlib.Path:
  """Creates directory `path` if needed; a clear ValueError if it is a file or unwritable."""
  path = pathlib.Path(path)
  if path.exists() and not path.is_dir():
    raise ValueError(f"{option} {path} is a file, not a directory; give a directory path.")
  try:
    path.mkdir(parents=True, exist_ok=True)
  except OSError as e:
    raise ValueError(f"{option} {path}: cannot create the directory ({e.strerror}).") from None
  if not os.access(path, os.W_OK | os.X_OK):
    raise ValueError(f"{option} {path}: directory is not writable.")
  return path


class Locked(RuntimeError):
  """Another process holds the directory's lock."""


@contextlib.contextmanager
def exclusive_lock(directory: PathLike, what: str = "edgegnn run") -> Iterator[None]:
  """Holds an exclusive flock on DIRECTORY/.lock for the block; raises Locked at once if
  another process holds it (two runs into one directory would mix each other's files).

  The lock is the kernel's: it is released when the process exits, even when killed, so a
  stale .lock file never blocks a later run.
  """
  path = pathlib.Path(directory) / ".lock"
  try:  # O_NOFOLLOW: a .lock symlinked elsewhere must not create or open a file there
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
  except OSError as e:
    raise ValueError(f"{path}: cannot open the lock file ({e.strerror}); remove it if it "
                     "is a link or not a regular file.") from None
  try:
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
      if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
        raise
      raise Locked(f"{directory} is in use by another {what} (it holds {path}); wait for "
                   "it to finish, or use another output directory.") from None
    yield
  finally:
    os.close(fd)  # closing the descriptor releases the lock
