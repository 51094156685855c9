"""Quantization-aware training: fake-quant layers, Degree-Quant's protective mask, configs.

    from edgegnn.quantization import QuantizationConfig
    model = build_model(spec, ..., quantization=QuantizationConfig("dq", 8, 8))
    train(spec, dataset, TrainConfig(), model=model)     # then export tflite-int8

`edgegnn.quantization.config` (`QuantizationConfig`) imports without TensorFlow (a pipeline
file is checked with it); the layers load it on first use.
"""
import importlib
import sys
import types

# Public name -> the module that defines it (imported on first access).
_MODULES = {
    "METHODS": "config", "QuantizationConfig": "config",
    "ActivationQuantizer": "fake_quant", "QuantDense": "fake_quant",
    "POINTS": "points", "LayerQuantization": "points",
    "ProtectiveMask": "protective_mask", "protection_probability": "protective_mask",
}


def __getattr__(name):
  if name in _MODULES:
    module = importlib.import_module(f"edgegnn.quantization.{_MODULES[name]}")
    return getattr(module, name)
  raise AttributeError(f"module 'edgegnn.quantization' has no attribute {name!r}")


class _Package(types.ModuleType):
  """`edgegnn.quantization.fake_quant` is the function; importing the submodule of the same
  name would otherwise rebind the package attribute to the module."""

  @property
  def fake_quant(self):
    from edgegnn.quantization.fake_quant import fake_quant  # pylint: disable=g-import-not-at-top
    return fake_quant

  @fake_quant.setter
  def fake_quant(self, _):  # the import system binding the submodule: the function stays
    pass


sys.modules[__name__].__class__ = _Package

__all__ = [*_MODULES, "fake_quant"]
