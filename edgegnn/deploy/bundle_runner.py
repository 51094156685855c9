"""`edgegnn.runtime.bundle_runner`, also importable under this name for existing imports.

New code imports `edgegnn.runtime.bundle_runner`: this module is that module object.
"""
import sys

from edgegnn.runtime import bundle_runner

sys.modules[__name__] = bundle_runner
