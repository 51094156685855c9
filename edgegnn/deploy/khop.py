"""`edgegnn.runtime.khop`, also importable under this name for existing imports.

New code imports `edgegnn.runtime.khop`: this module is that module object.
"""
import sys

from edgegnn.runtime import khop

sys.modules[__name__] = khop
