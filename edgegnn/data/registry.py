"""The datasets edgegnn ships, their names and aliases, and where their files live."""
import pathlib

FILES_DIR = pathlib.Path(__file__).resolve().parent / "files"
FORMAT_VERSION = 1
CONVERT_COMMAND = (".venv/bin/python tools/convert_datasets.py --source /path/to/datasets "
                   "--out edgegnn/data/files")

# Canonical name -> file kind ("planetoid": one graph with node labels; "tu": a TU
# graph-classification set; "points": point clouds without edges).
DATASET_KINDS = {
    "cora": "planetoid",
    "citeseer": "planetoid",
    "mutag": "tu",
    "proteins": "tu",
    "nci1": "tu",
    "ptc": "tu",
    "enzymes": "tu",
    "imdb_binary": "tu",
    "digits_points": "points",
}
_ALIASES = {"imdbbinary": "imdb_binary"}
# File kind -> task: "node" (classify the nodes of one graph) or "graph" (classify graphs).
KIND_TASKS = {"planetoid": "node", "tu": "graph", "points": "graph"}


class UnknownDatasetError(ValueError):
  """The requested dataset name is not one edgegnn ships."""


def available_datasets() -> list[str]:
  """Returns the canonical names `load` accepts (node-level sets first)."""
  return list(DATASET_KINDS)


def canonical_name(name: str) -> str:
  """Returns the canonical form of a dataset name.

  Matching ignores case and surrounding spaces, treats "-" like "_", and knows the alias
  "imdbbinary" (so "IMDB-BINARY" and "IMDBBINARY" both give "imdb_binary").

  Raises:
    UnknownDatasetError: if the name matches no shipped dataset.
  """
  if not isinstance(name, str):
    raise UnknownDatasetError(f"dataset name must be a string, got {name!r}. Available: "
                              f"{', '.join(available_datasets())}.")
  key = name.strip().lower().replace("-", "_")
  key = _ALIASES.get(key, key)
  if key not in DATASET_KINDS:
    raise UnknownDatasetError(f"Unknown dataset {name!r}. Available: "
                              f"{', '.join(available_datasets())}.")
  return key


def task_of(name: str) -> str:
  """Returns the task of a shipped dataset, "node" or "graph", without loading it.

  Raises:
    UnknownDatasetError: if the name matches no shipped dataset.
  """
  return KIND_TASKS[DATASET_KINDS[canonical_name(name)]]


def dataset_path(name: str) -> pathlib.Path:
  """Returns the package file of the dataset with canonical name `name`."""
  return FILES_DIR / f"{name}.npz"
