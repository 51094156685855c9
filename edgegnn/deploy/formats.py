"""The artifact formats and deployment targets of `edgegnn.deploy.convert`, and which
format each target runs (no TensorFlow: a pipeline file's `export` stage is checked
with them).

| target | runtime | formats |
|---|---|---|
| mobile | ai-edge-litert builtin ops | every tflite-* format |
| arm-linux | builtin ops plus Larq Compute Engine ops | every format |
| mcu | tflite-micro (integer kernels only) | tflite-int8 |
"""
from __future__ import annotations

from typing import Optional

FORMATS = ("tflite-float32", "tflite-float16", "tflite-dynamic-int8", "tflite-int8",
           "tflite-int8-float16", "tflite-int16x8", "lce")
# Formats whose every compute op must be integer (checked on the written flatbuffer).
INTEGER_FORMATS = ("tflite-int8", "tflite-int16x8")
TARGETS = ("arm-linux", "mobile", "mcu")


class TargetError(ValueError):
  """The artifact cannot run on the requested target (names the ops and the fix)."""


def check_format_target(fmt: str, target: Optional[str]) -> None:
  """Raises ValueError for an unknown format or target, TargetError for a format the
  target cannot run."""
  if fmt not in FORMATS:
    raise ValueError(f"Unknown format {fmt!r}; expected one of {', '.join(FORMATS)}.")
  if target is not None and target not in TARGETS:
    raise ValueError(f"Unknown target {target!r}; expected one of {', '.join(TARGETS)}.")
  if target == "mcu" and fmt != "tflite-int8":
    raise TargetError(f"Target mcu (tflite-micro) needs format tflite-int8, not {fmt}: "
                      "microcontroller kernels are integer-only.")
  if target == "mobile" and fmt == "lce":
    raise TargetError("Target mobile runs ai-edge-litert builtin ops only; an lce artifact "
                      "needs the LCE runtime. Use arm-linux, or a tflite-* format.")
