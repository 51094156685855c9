"""Op and dtype tables of the TFLite flatbuffer format and of tflite-micro.

Constants only (no TensorFlow): the file identifier, TFLM's op resolver (builtin and
custom ops), the ops that touch float tensors without computing in float, and the
TensorType enum with element sizes.
"""
from __future__ import annotations

from typing import Mapping

FILE_IDENTIFIER = b"TFL3"

# The ops of TFLM's op resolver, as builtin op name -> the `MicroMutableOpResolver`
# method that registers it. Documented constant: the tflite-micro Python package does
# not expose its resolver's op list. Source: tensorflow/tflite-micro,
# python/tflite_micro/python_ops_resolver.cc (the resolver the Python interpreter
# uses), builtin ops only; the test suite checks that each one has a `Register_<OP>`
# kernel in the installed package's `_runtime.so`.
TFLM_BUILTIN_OPS: Mapping[str, str] = {
    "ABS": "AddAbs",
    "ADD": "AddAdd",
    "ADD_N": "AddAddN",
    "ARG_MAX": "AddArgMax",
    "ARG_MIN": "AddArgMin",
    "ASSIGN_VARIABLE": "AddAssignVariable",
    "AVERAGE_POOL_2D": "AddAveragePool2D",
    "BATCH_MATMUL": "AddBatchMatMul",
    "BATCH_TO_SPACE_ND": "AddBatchToSpaceNd",
    "BROADCAST_ARGS": "AddBroadcastArgs",
    "BROADCAST_TO": "AddBroadcastTo",
    "CALL_ONCE": "AddCallOnce",
    "CAST": "AddCast",
    "CEIL": "AddCeil",
    "CONCATENATION": "AddConcatenation",
    "CONV_2D": "AddConv2D",
    "COS": "AddCos",
    "CUMSUM": "AddCumSum",
    "DEPTH_TO_SPACE": "AddDepthToSpace",
    "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D",
    "DEQUANTIZE": "AddDequantize",
    "DIV": "AddDiv",
    "ELU": "AddElu",
    "EMBEDDING_LOOKUP": "AddEmbeddingLookup",
    "EQUAL": "AddEqual",
    "EXP": "AddExp",
    "EXPAND_DIMS": "AddExpandDims",
    "FILL": "AddFill",
    "FLOOR": "AddFloor",
    "FLOOR_DIV": "AddFloorDiv",
    "FLOOR_MOD": "AddFloorMod",
    "FULLY_CONNECTED": "AddFullyConnected",
    "GATHER": "AddGather",
    "GATHER_ND": "AddGatherNd",
    "GREATER": "AddGreater",
    "GREATER_EQUAL": "AddGreaterEqual",
    "HARD_SWISH": "AddHardSwish",
    "IF": "AddIf",
    "L2_NORMALIZATION": "AddL2Normalization",
    "L2_POOL_2D": "AddL2Pool2D",
    "LEAKY_RELU": "AddLeakyRelu",
    "LESS": "AddLess",
    "LESS_EQUAL": "AddLessEqual",
    "LOG": "AddLog",
    "LOG_SOFTMAX": "AddLogSoftmax",
    "LOGICAL_AND": "AddLogicalAnd",
    "LOGICAL_NOT": "AddLogicalNot",
    "LOGICAL_OR": "AddLogicalOr",
    "LOGISTIC": "AddLogistic",
    "MAX_POOL_2D": "AddMaxPool2D",
    "MAXIMUM": "AddMaximum",
    "MEAN": "AddMean",
    "MINIMUM": "AddMinimum",
    "MIRROR_PAD": "AddMirrorPad",
    "MUL": "AddMul",
    "NEG": "AddNeg",
    "NOT_EQUAL": "AddNotEqual",
    "PACK": "AddPack",
    "PAD": "AddPad",
    "PADV2": "AddPadV2",
    "PRELU": "AddPrelu",
    "QUANTIZE": "AddQuantize",
    "READ_VARIABLE": "AddReadVariable",
    "REDUCE_MAX": "AddReduceMax",
    "RELU": "AddRelu",
    "RELU6": "AddRelu6",
    "RESHAPE": "AddReshape",
    "RESIZE_BILINEAR": "AddResizeBilinear",
    "RESIZE_NEAREST_NEIGHBOR": "AddResizeNearestNeighbor",
    "ROUND": "AddRound",
    "RSQRT": "AddRsqrt",
    "SELECT_V2": "AddSelectV2",
    "SHAPE": "AddShape",
    "SIN": "AddSin",
    "SLICE": "AddSlice",
    "SOFTMAX": "AddSoftmax",
    "SPACE_TO_BATCH_ND": "AddSpaceToBatchNd",
    "SPACE_TO_DEPTH": "AddSpaceToDepth",
    "SPLIT": "AddSplit",
    "SPLIT_V": "AddSplitV",
    "SQRT": "AddSqrt",
    "SQUARE": "AddSquare",
    "SQUARED_DIFFERENCE": "AddSquaredDifference",
    "SQUEEZE": "AddSqueeze",
    "STRIDED_SLICE": "AddStridedSlice",
    "SUB": "AddSub",
    "SUM": "AddSum",
    "SVDF": "AddSvdf",
    "TANH": "AddTanh",
    "TRANSPOSE": "AddTranspose",
    "TRANSPOSE_CONV": "AddTransposeConv",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "AddUnidirectionalSequenceLSTM",
    "UNPACK": "AddUnpack",
    "VAR_HANDLE": "AddVarHandle",
    "WHILE": "AddWhile",
    "ZEROS_LIKE": "AddZerosLike",
}

# Custom ops TFLM's resolver knows (custom code -> registering method).
TFLM_CUSTOM_OPS: Mapping[str, str] = {
    "TFLite_Detection_PostProcess": "AddDetectionPostprocess",
    "CIRCULAR_BUFFER": "AddCircularBuffer",
}

# Builtin ops whose TFLM kernel runs in float32 only, although the op is in the
# resolver and TFLite has an int8 kernel: an int8 artifact that uses one converts, then
# fails in TFLM's Prepare. Measured with the installed tflite-micro: an int8 EXP (the
# attention softmax of gat / mp) fails with "exp.cc:41 input->type != kTfLiteFloat32".
TFLM_FLOAT_ONLY_OPS = frozenset({"EXP"})

# Ops that may touch float tensors without computing in float: the boundary
# conversions and pure shape/layout changes.
FLOAT_BOUNDARY_OPS = frozenset({"QUANTIZE", "DEQUANTIZE"})
LAYOUT_OPS = frozenset({"RESHAPE", "SQUEEZE", "EXPAND_DIMS", "SHAPE"})
FLOAT_DTYPES = frozenset({"float16", "float32", "float64", "bfloat16"})

# TensorType enum value -> (dtype name, bits per element).
TENSOR_TYPES: Mapping[int, tuple[str, int]] = {
    0: ("float32", 32), 1: ("float16", 16), 2: ("int32", 32), 3: ("uint8", 8),
    4: ("int64", 64), 5: ("string", 8), 6: ("bool", 8), 7: ("int16", 16),
    8: ("complex64", 64), 9: ("int8", 8), 10: ("float64", 64),
    11: ("complex128", 128), 12: ("uint64", 64), 13: ("resource", 0),
    14: ("variant", 0), 15: ("uint32", 32), 16: ("uint16", 16), 17: ("int4", 4),
    18: ("bfloat16", 16), 19: ("int2", 2), 20: ("uint4", 4),
    21: ("float8_e4m3fn", 8), 22: ("float8_e5m2", 8),
}

