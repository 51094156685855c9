"""Quantization-aware training: fake-quant layers, Degree-Quant's protective mask, configs.

    from edgegnn.quantization import QuantizationConfig
    model = build_model(spec, ..., quantization=QuantizationConfig("dq", 8, 8))
    train(spec, dataset, TrainConfig(), model=model)     # then export tflite-int8
"""
from edgegnn.quantization.config import METHODS, QuantizationConfig
from edgegnn.quantization.fake_quant import ActivationQuantizer, QuantDense, fake_quant
from edgegnn.quantization.points import POINTS, LayerQuantization
from edgegnn.quantization.protective_mask import ProtectiveMask, protection_probability

__all__ = ["METHODS", "QuantizationConfig", "ActivationQuantizer", "QuantDense", "fake_quant",
           "POINTS", "LayerQuantization", "ProtectiveMask", "protection_probability"]
