"""`edgegnn kit android|mcu|pi DIR`: copy a device kit shipped in the package.

The kits are the repository's `deploy/` directories, shipped as package data under
`edgegnn/kits/` so a pip user gets the same files as a clone.
"""
from __future__ import annotations

import importlib.resources
import pathlib
import shutil

import click

from edgegnn.cli.base import emit_json, info, main, result

KITS = {
    "android": "a Kotlin module that loads an artifact and calls it by signature",
    "c": "a C program that runs an artifact through the LiteRT C API",
    "mcu": "a tflite-micro application for the C arrays of an `mcu` export",
    "pi": "scripts to run artifacts (and LCE's benchmark binary) on a Raspberry Pi",
}
# Build outputs a kit directory may hold in a working copy; never part of a kit.
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "build", ".gradle", "*.o")


def kit_source(name: str) -> pathlib.Path:
  """The installed directory of kit `name`."""
  if name not in KITS:
    raise ValueError(f"unknown kit {name!r}; choose one of {', '.join(KITS)}")
  source = pathlib.Path(str(importlib.resources.files("edgegnn") / "kits" / name))
  if not source.is_dir():
    raise FileNotFoundError(
        f"{source}: the {name} kit is missing from this installation; reinstall edgegnn "
        "(`pip install --force-reinstall edgegnn`).")
  return source


def copy_kit(name: str, destination) -> list[pathlib.Path]:
  """Copies kit `name` into `destination` (created; must not exist or be empty)."""
  source = kit_source(name)
  destination = pathlib.Path(destination)
  if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
    raise FileExistsError(
        f"{destination}: exists and is not an empty directory; pass a new directory so no "
        "file of yours is overwritten.")
  shutil.copytree(source, destination, ignore=_IGNORED, dirs_exist_ok=True)
  return sorted(p for p in destination.rglob("*") if p.is_file())


@main.command()
@click.argument("name", type=click.Choice(sorted(KITS)))
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the copied files as JSON.")
def kit(name, directory, as_json):
  """Copy a device kit (android, mcu or pi) into DIRECTORY, a new or empty directory.

  \b
  android  a Kotlin module that loads an artifact and calls it by signature
  mcu      a tflite-micro application for the C arrays of an `mcu` export
  pi       scripts to run artifacts (and LCE's benchmark binary) on a Raspberry Pi
  """
  files = copy_kit(name, directory)
  if as_json:
    emit_json({"kit": name, "directory": str(directory), "files": [str(f) for f in files]})
    return
  for f in files:
    info(f"  {f}")
  result(f"copied the {name} kit ({len(files)} files) to {directory}; start with "
         f"{pathlib.Path(directory) / 'README.md'}")
