"""`edgegnn.runtime.tflite_file`, also importable under this name for existing imports.

New code imports `edgegnn.runtime.tflite_file`: this module is that module object.
"""
import sys

from edgegnn.runtime import tflite_file

sys.modules[__name__] = tflite_file
