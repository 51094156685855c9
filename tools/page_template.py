"""Results pages as text templates: a page's prose lives in a markdown file under
experiments/, and a renderer fills its `{{name}}` lines with lines computed from JSON.

    from page_template import fill_template      # tools/ is on sys.path when a tool runs
    text = fill_template(PAGE, {"results_table": [...], "notes": [...]})
"""
from __future__ import annotations

import pathlib
import re

_MARKER = re.compile(r"\{\{(\w+)\}\}")


def fill_template(page: pathlib.Path, blocks: dict[str, list[str]]) -> str:
  """PAGE's text with every line `{{name}}` replaced by BLOCKS[name] (a list of lines; an
  empty list removes the line). An unknown marker, or a block without a marker, is an error."""
  template = pathlib.Path(page).read_text()
  out, used = [], set()
  for line in template.splitlines():
    marker = _MARKER.fullmatch(line.strip())
    if marker is None:
      out.append(line)
      continue
    if marker.group(1) not in blocks:
      raise ValueError(f"{page}: unknown marker {line.strip()}; known: {', '.join(blocks)}")
    used.add(marker.group(1))
    out += blocks[marker.group(1)]
  if set(blocks) - used:
    raise ValueError(f"{page}: no marker for {', '.join(sorted(set(blocks) - used))}")
  return "\n".join(out) + ("\n" if template.endswith("\n") else "")
