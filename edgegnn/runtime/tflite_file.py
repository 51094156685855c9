"""Reads a `.tflite` flatbuffer without TensorFlow: ops, tensors, weights, signatures.

It imports only numpy and the standard library (the flatbuffer is decoded with `struct`),
so it works on a Raspberry Pi that has a runtime but no TensorFlow.

`read_model` returns a `TfliteModelInfo`: the op histogram (builtin names such as
"FULLY_CONNECTED", custom names such as "LceBconv2d"), every tensor of every subgraph,
constant (weight) bytes by dtype, the model inputs/outputs with their quantization,
the SignatureDefs, and which runtimes can run the file (`RuntimeSupport`).

A file that is not a TFLite flatbuffer, or is truncated or corrupt, raises
`CorruptModelError` (a `ValueError`) naming the file and the problem.

The implementation is split into `tflite_tables` (op and dtype tables, TFLM's op list),
`tflite_model` (the data classes, `float_compute_ops`), `tflite_parse` (flatbuffer
parsing) and `tflite_format` (text and JSON); this module keeps the public names.
"""
from .tflite_format import format_text, to_json
from .tflite_model import (CorruptModelError, IOTensor, OperatorInfo,
                           Quantization, RuntimeSupport, SignatureInfo,
                           SubgraphInfo, TensorInfo, TfliteModelInfo,
                           float_compute_ops, runtime_support)
from .tflite_parse import read_model
from .tflite_tables import (FILE_IDENTIFIER, TFLM_BUILTIN_OPS,
                            TFLM_CUSTOM_OPS)

__all__ = ["CorruptModelError", "FILE_IDENTIFIER", "IOTensor", "OperatorInfo",
           "Quantization", "RuntimeSupport", "SignatureInfo", "SubgraphInfo",
           "TFLM_BUILTIN_OPS", "TFLM_CUSTOM_OPS", "TensorInfo", "TfliteModelInfo",
           "float_compute_ops", "format_text", "read_model", "runtime_support", "to_json"]
