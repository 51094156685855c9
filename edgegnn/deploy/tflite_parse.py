"""`edgegnn.runtime.tflite_parse`, also importable under this name for existing imports.

New code imports `edgegnn.runtime.tflite_parse`: this module is that module object.
"""
import sys

from edgegnn.runtime import tflite_parse

sys.modules[__name__] = tflite_parse
