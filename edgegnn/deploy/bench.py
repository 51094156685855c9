"""`edgegnn.runtime.bench`, also importable under this name for existing imports.

New code imports `edgegnn.runtime.bench`: this module is that module object.
"""
import sys

from edgegnn.runtime import bench

sys.modules[__name__] = bench
