"""Quantization-aware training: fake-quant layers, Degree-Quant's protective mask, configs.

    from edgegnn.quantization import QuantizationConfig
    model = build_model(spec, ..., quantization=QuantizationConfig("dq", 8, 8))
    train(spec, dataset, TrainConfig(), model=model)     # then export tflite-int8

`edgegnn.quantization.config` (`QuantizationConfig`) imports without TensorFlow (a pipeline
file is checked with it); the layers load it on first use.
"""
from edgegnn._lazy import keep_function, module_getattr

# Public name -> the module that defines it (imported on first access).
_MODULES = {
    "METHODS": "config", "QuantizationConfig": "config",
    "ActivationQuantizer": "fake_quant", "QuantDense": "fake_quant",
    "POINTS": "points", "LayerQuantization": "points",
    "ProtectiveMask": "protective_mask", "protection_probability": "protective_mask",
}


__getattr__ = module_getattr("edgegnn.quantization", _MODULES)
keep_function("edgegnn.quantization", "fake_quant")

__all__ = [*_MODULES, "fake_quant"]
