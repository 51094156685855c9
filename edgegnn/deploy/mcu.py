"""`edgegnn.runtime.mcu`, also importable under this name for existing imports.

New code imports `edgegnn.runtime.mcu`: this module is that module object.
"""
import sys

from edgegnn.runtime import mcu

sys.modules[__name__] = mcu
