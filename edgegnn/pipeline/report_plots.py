"""The report's figures (matplotlib, Agg), drawn so that no two labels overlap.

- `accuracy_plot`: test accuracy against a cost (bytes or p50 latency) of every artifact.
  Each artifact has its own colour and marker and is named in a legend beside the axes (no
  text inside the axes, so names never collide however close the points are); the Pareto
  front is a red step line and its points have a red edge; the FP32 Keras model's accuracy is
  a dashed horizontal line and the stock TFLite anchors are dotted vertical lines.
- `bits_plot`: a grid of weight/activation bit-widths, one row per artifact, one cell per
  weighted layer, each cell wide enough for its label.
"""
from __future__ import annotations

import dataclasses
import itertools
import pathlib
from typing import Optional, Sequence

from edgegnn.atomic import atomic_path

_MARKERS = "o s D ^ v P X p h < > *".split()


@dataclasses.dataclass(frozen=True)
class Point:
  """One artifact in an accuracy plot."""
  name: str
  cost: float
  accuracy: float      # fraction
  on_front: bool = False
  baseline: bool = False


@dataclasses.dataclass(frozen=True)
class Reference:
  """A line for a figure without both coordinates: an accuracy (horizontal) or a cost."""
  label: str
  accuracy: Optional[float] = None
  cost: Optional[float] = None


def _pyplot():
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  from matplotlib import pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def accuracy_figure(points: Sequence[Point], references: Sequence[Reference], xlabel: str,
                    log_x: bool):
  """The figure of `accuracy_plot` (returned open, for tests that measure its labels)."""
  plt = _pyplot()
  from matplotlib import ticker  # pylint: disable=g-import-not-at-top
  fig, ax = plt.subplots(figsize=(9.5, 4.8), dpi=100)
  colours = plt.get_cmap("tab20" if len(points) > 10 else "tab10")
  styles = itertools.cycle(_MARKERS)
  for i, p in enumerate(points):
    label = p.name + (" (FP32 baseline)" if p.baseline else "")
    ax.scatter([p.cost], [100 * p.accuracy], s=70 if p.on_front or p.baseline else 45,
               marker=next(styles), color=colours(i % colours.N), zorder=3, label=label,
               edgecolors="tab:red" if p.on_front else "black",
               linewidths=1.8 if p.on_front else 0.6)
  front = sorted((p for p in points if p.on_front), key=lambda p: (p.cost, -p.accuracy))
  if front:
    ax.plot([p.cost for p in front], [100 * p.accuracy for p in front], color="tab:red",
            drawstyle="steps-post", linewidth=1, label="Pareto front", zorder=2)
  lines = itertools.cycle([("0.15", ":"), ("0.45", "-."), ("0.3", (0, (1, 3)))])
  for r in references:
    if r.accuracy is not None:
      ax.axhline(100 * r.accuracy, color="0.35", linestyle="--", linewidth=1, label=r.label)
    elif r.cost is not None:
      colour, style = next(lines)
      ax.axvline(r.cost, color=colour, linestyle=style, linewidth=1.3, label=r.label)
  costs = [p.cost for p in points] + [r.cost for r in references if r.cost is not None]
  if log_x and costs and min(costs) > 0:
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
  ax.margins(x=0.12, y=0.15)
  ax.set_xlabel(xlabel)
  ax.set_ylabel("test accuracy (%)")
  ax.grid(True, alpha=0.3)
  if points or references:
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False,
              borderaxespad=0.0)
  fig.tight_layout()
  return fig


def accuracy_plot(path: pathlib.Path, points: Sequence[Point], references: Sequence[Reference],
                  xlabel: str, log_x: bool) -> None:
  """Writes `accuracy_figure` as a PNG (atomically)."""
  fig = accuracy_figure(points, references, xlabel, log_x)
  _save(fig, path)


def bits_figure(bits: dict[str, list[dict]]):
  """The figure of `bits_plot`."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  plt = _pyplot()
  names = list(bits)
  width = max([len(v) for v in bits.values()] + [1])
  grid = np.full((max(len(names), 1), width), np.nan)
  for r, name in enumerate(names):
    for c, layer in enumerate(bits[name]):
      if layer.get("weight_bits") is not None:
        grid[r, c] = np.log2(layer["weight_bits"])
  longest = max([len(n) for n in names] + [8])
  fig, ax = plt.subplots(figsize=(1.2 * width + 0.075 * longest + 1.5,
                                  0.45 * max(len(names), 1) + 1.4), dpi=100)
  ax.imshow(np.ma.masked_invalid(grid), cmap="viridis", vmin=0, vmax=5, aspect="auto")
  for r, name in enumerate(names):
    for c, layer in enumerate(bits[name]):
      ax.text(c, r, f"w{layer.get('weight_bits')}/a{layer.get('activation_bits')}",
              ha="center", va="center", fontsize=8, color="black",
              bbox={"facecolor": "white", "alpha": 0.7, "linewidth": 0})
  ax.set_yticks(range(len(names)))
  ax.set_yticklabels(names, fontsize=8)
  ax.set_xticks(range(width))
  ax.set_xticklabels([f"layer {i + 1}" for i in range(width)], fontsize=8)
  ax.set_title("weight/activation bits per weighted layer", fontsize=9)
  fig.tight_layout()
  return fig


def bits_plot(path: pathlib.Path, bits: dict[str, list[dict]]) -> None:
  """Writes `bits_figure` as a PNG (atomically)."""
  _save(bits_figure(bits), path)


def _save(fig, path: pathlib.Path) -> None:
  plt = _pyplot()
  with atomic_path(path) as tmp:
    fig.savefig(tmp, format="png", bbox_inches="tight")
  plt.close(fig)
