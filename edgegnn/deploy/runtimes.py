"""`edgegnn.runtime.interpreters`, also importable under this name for existing imports.

New code imports `edgegnn.runtime.interpreters`: this module is that module object.
"""
import sys

from edgegnn.runtime import interpreters

sys.modules[__name__] = interpreters
