"""`edgegnn.runtime.bench_inputs`, also importable under this name for existing imports.

New code imports `edgegnn.runtime.bench_inputs`: this module is that module object.
"""
import sys

from edgegnn.runtime import bench_inputs

sys.modules[__name__] = bench_inputs
