"""`load`: reads a shipped dataset file (numpy only, never unpickling) and caches the result."""
import functools
import zipfile

import numpy as np

from edgegnn.data import registry
from edgegnn.data.datasets import GraphClassificationDataset, NodeClassificationDataset
from edgegnn.data.decode import DECODERS

Dataset = NodeClassificationDataset | GraphClassificationDataset


class DatasetFileError(RuntimeError):
  """A shipped dataset file is missing, unreadable or not in the expected layout."""


def _file_error(name: str, problem: str) -> DatasetFileError:
  """Returns a DatasetFileError that says how to regenerate the files."""
  return DatasetFileError(
      f"Dataset {name!r}: {problem} ({registry.dataset_path(name)}). The package files are "
      f"made by the conversion tool; from the repository root run: "
      f"{registry.CONVERT_COMMAND}")


def _read_arrays(name: str) -> dict[str, np.ndarray]:
  """Returns every array of the dataset's file, refusing pickled (object) arrays."""
  path = registry.dataset_path(name)
  if not path.is_file():
    raise _file_error(name, "package file is missing")
  try:
    with np.load(path, allow_pickle=False) as npz:
      return {key: npz[key] for key in npz.files}
  except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
    raise _file_error(name, f"package file is unreadable: {error}") from error


@functools.lru_cache(maxsize=None)
def _load_canonical(name: str) -> Dataset:
  """Reads and decodes the dataset with canonical name `name` (cached per process)."""
  arrays = _read_arrays(name)
  try:
    version = int(arrays["format_version"])
    kind, stored_name = str(arrays["kind"]), str(arrays["name"])
  except (KeyError, TypeError, ValueError) as error:
    raise _file_error(name, f"package file lacks its header: {error}") from error
  if version != registry.FORMAT_VERSION:
    raise _file_error(name, f"file format {version}, this edgegnn reads format "
                      f"{registry.FORMAT_VERSION}")
  if stored_name != name or kind != registry.DATASET_KINDS[name]:
    raise _file_error(name, f"file holds {stored_name!r} of kind {kind!r}")
  try:
    return DECODERS[kind](name, arrays)
  except (KeyError, ValueError, IndexError) as error:
    raise _file_error(name, f"package file is inconsistent: {error!r}") from error


def load(name: str) -> Dataset:
  """Returns a shipped dataset by name; loaded once per process, then shared.

  The arrays of a loaded dataset are read-only, since every caller gets the same object.

  Args:
    name: one of `available_datasets()`, in any case; "imdb-binary" and "imdbbinary" name
      "imdb_binary".

  Returns:
    A NodeClassificationDataset ("cora", "citeseer") or GraphClassificationDataset (the rest).

  Raises:
    UnknownDatasetError: if `name` is not a shipped dataset (the message lists them).
    DatasetFileError: if the package file is missing or corrupt (the message says how to
      regenerate it).
  """
  return _load_canonical(registry.canonical_name(name))
