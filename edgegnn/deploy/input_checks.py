"""`edgegnn.runtime.input_checks`, also importable under this name for existing imports.

New code imports `edgegnn.runtime.input_checks`: this module is that module object.
"""
import sys

from edgegnn.runtime import input_checks

sys.modules[__name__] = input_checks
