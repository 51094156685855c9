"""`edgegnn.runtime.sidecar`, also importable under this name for existing imports.

New code imports `edgegnn.runtime.sidecar`: this module is that module object.
"""
import sys

from edgegnn.runtime import sidecar

sys.modules[__name__] = sidecar
