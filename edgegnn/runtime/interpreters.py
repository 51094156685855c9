"""One interface for running a `.tflite` artifact on LiteRT, LCE or TFLM.

`open_runtime(path_or_bytes, runtime="auto")` returns a `Runtime` whose
`run({"node_features": x, "adjacency": a})` returns `{"logits": y}`: inputs and
outputs are keyed by the model's SignatureDef names on every runtime. TFLM and the
LCE interpreter have no signature runner; their inputs are mapped to positions
through the signature parsed by `tflite_file`.

Float arrays given for an int8/uint8/int16 input are quantized with the tensor's
scale and zero point (`tensors`); quantized outputs are dequantized to float32. Shapes
are checked before anything runs: a graph bigger than the artifact's fixed capacity
raises a `ValueError` naming the input; so do values the contract does not allow
(`input_checks`: index ranges and dtypes, 0/1 masks, finite floats).

Imports numpy only; each runtime package is imported when used.
"""
from __future__ import annotations

import abc
import importlib.machinery
import importlib.util
import os
import sys
from typing import Any, Mapping

import numpy as np

from . import tflite_file
from .input_checks import check_inputs
from .tensors import QUANTIZED_DTYPES, dequantize, prepare_input, quantize
from .tflite_file import IOTensor, TfliteModelInfo

RUNTIMES = ("auto", "litert", "lce", "tflm")

__all__ = ["IOTensor", "LceRuntime", "LiteRtRuntime", "RUNTIMES", "Runtime", "TflmRuntime",
           "TfliteModelInfo", "dequantize", "open_runtime", "prepare_input", "quantize",
           "resolve_runtime"]


class Runtime(abc.ABC):
  """A loaded model on one runtime, called by signature names.

  Attributes:
    name: The runtime: "litert", "lce" or "tflm".
    info: The parsed model.
    num_threads: Interpreter threads (1 on TFLM, which is single-threaded).
    inputs: The model inputs (signature order).
    outputs: The model outputs (signature order).
  """
  name: str = ""
  num_threads: int = 1
  _allow_dynamic = False

  def __init__(self, info: TfliteModelInfo):
    self.info = info
    self.inputs = info.inputs
    self.outputs = info.outputs

  def prepare(self, inputs: Mapping[str, Any], validate: bool = True
             ) -> dict[str, np.ndarray]:
    """Validates names, shapes and values and converts dtypes (quantizing floats).

    Prepare once and `invoke` many times to time a model: the value checks
    (`input_checks.check_inputs`: index ranges and dtypes, 0/1 masks, finite floats)
    run here, not on every invoke.

    Args:
      inputs: Signature input name -> array.
      validate: Check the values (off only for inputs checked before).

    Returns:
      Input name -> array ready for the runtime.

    Raises:
      ValueError: A missing or unknown input name, a wrong shape, or a value the
        contract does not allow (the error names the input and the position).
    """
    expected = [io.name for io in self.inputs]
    unknown = sorted(set(inputs) - set(expected))
    missing = [name for name in expected if name not in inputs]
    if unknown or missing:
      raise ValueError(
          f"inputs do not match the model: expected {expected}"
          + (f"; missing {missing}" if missing else "")
          + (f"; unknown {unknown}" if unknown else ""))
    if validate:
      encoded = tuple(io.name for io in self.inputs
                      if io.dtype in QUANTIZED_DTYPES and io.quantization is not None
                      and np.asarray(inputs[io.name]).dtype == np.dtype(io.dtype))
      check_inputs({io.name: inputs[io.name] for io in self.inputs}, quantized=encoded)
    return {io.name: prepare_input(inputs[io.name], io, self._allow_dynamic)
            for io in self.inputs}

  @abc.abstractmethod
  def invoke(self, prepared: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Runs the model on `prepare`d inputs; returns raw (not dequantized) outputs."""

  def run(self, inputs: Mapping[str, Any], dequantize_outputs: bool = True
         ) -> dict[str, np.ndarray]:
    """Runs the model.

    Args:
      inputs: Signature input name -> array (e.g. "node_features", "adjacency").
      dequantize_outputs: Return quantized outputs as float32 real values.

    Returns:
      Signature output name -> array (e.g. "logits").
    """
    raw = self.invoke(self.prepare(inputs))
    if not dequantize_outputs:
      return raw
    return {io.name: dequantize(raw[io.name], io) for io in self.outputs}

  def __repr__(self) -> str:
    return (f"<{type(self).__name__} {self.name} inputs={[i.name for i in self.inputs]}"
            f" outputs={[o.name for o in self.outputs]}>")


class LiteRtRuntime(Runtime):
  """ai-edge-litert's interpreter, through its signature runner when there is one."""
  name = "litert"
  _allow_dynamic = True

  def __init__(self, info: TfliteModelInfo, num_threads: int = 1):
    super().__init__(info)
    self.num_threads = num_threads
    if not info.runtimes.builtins:
      hint = "; use runtime='lce'" if info.runtimes.needs_lce else ""
      raise ValueError(f"{_where(info)}: litert cannot run the custom ops "
                       f"{info.custom_ops}{hint}")
    from ai_edge_litert.interpreter import Interpreter  # pylint: disable=g-import-not-at-top
    self.interpreter = Interpreter(model_content=info.data, num_threads=num_threads)
    self._runner = None
    if info.signature_key is not None:
      self._runner = self.interpreter.get_signature_runner(info.signature_key)
    else:
      self.interpreter.allocate_tensors()

  def invoke(self, prepared):
    if self._runner is not None:
      out = self._runner(**prepared)
      missing = [io.name for io in self.outputs if io.name not in out]
      if missing:  # the interpreter read the file's signature differently
        raise ValueError(f"{_where(self.info)}: LiteRT's signature runner returned "
                         f"{sorted(out)}, not {missing}; the file's signature is corrupt")
      return {io.name: np.asarray(out[io.name]) for io in self.outputs}
    details = self.interpreter.get_input_details()
    resized = False
    for io in self.inputs:
      index = details[io.position]["index"]
      if tuple(details[io.position]["shape"]) != prepared[io.name].shape:
        self.interpreter.resize_tensor_input(index, prepared[io.name].shape)
        resized = True
    if resized:
      self.interpreter.allocate_tensors()
    for io in self.inputs:
      self.interpreter.set_tensor(details[io.position]["index"], prepared[io.name])
    self.interpreter.invoke()
    out_details = self.interpreter.get_output_details()
    return {io.name: self.interpreter.get_tensor(out_details[io.position]["index"])
            for io in self.outputs}


def load_lce_wrapper():
  """LCE's interpreter extension, loaded without `larq_compute_engine/__init__.py`.

  The package's `__init__` imports the converter and with it TensorFlow; the
  interpreter itself is a self-contained extension module.
  """
  full = "larq_compute_engine.tflite.python.interpreter_wrapper_lite"
  if full in sys.modules:
    return sys.modules[full]
  if "larq_compute_engine" in sys.modules:  # Already imported (with TensorFlow).
    from larq_compute_engine.tflite.python import interpreter_wrapper_lite  # pylint: disable=g-import-not-at-top
    return interpreter_wrapper_lite
  spec = importlib.util.find_spec("larq_compute_engine")
  if spec is None or not spec.submodule_search_locations:
    raise ImportError("runtime 'lce' needs the larq-compute-engine package "
                      "(pip install larq-compute-engine)")
  folder = os.path.join(list(spec.submodule_search_locations)[0], "tflite", "python")
  for suffix in importlib.machinery.EXTENSION_SUFFIXES:
    candidate = os.path.join(folder, "interpreter_wrapper_lite" + suffix)
    if os.path.exists(candidate):
      loader = importlib.machinery.ExtensionFileLoader(full, candidate)
      module_spec = importlib.util.spec_from_file_location(full, candidate,
                                                           loader=loader)
      module = importlib.util.module_from_spec(module_spec)
      loader.exec_module(module)
      sys.modules[full] = module
      return module
  raise ImportError(f"larq-compute-engine has no interpreter extension in {folder}")


class LceRuntime(Runtime):
  """Larq Compute Engine's interpreter (TFLite plus the Lce* binary ops).

  Its Python `predict` loops over the first axis as a batch; this calls the wrapped
  interpreter directly with whole-graph arrays in the subgraph's input order.
  """
  name = "lce"

  def __init__(self, info: TfliteModelInfo, num_threads: int = 1):
    super().__init__(info)
    self.num_threads = num_threads
    _require_main_subgraph(info, "the LCE interpreter")
    wrapper = load_lce_wrapper()
    # Arguments: model, num_threads, use_reference_bconv, use_indirect_bgemm,
    # use_xnnpack.
    self.interpreter = wrapper.LiteInterpreter(info.data, num_threads, False,
                                               False, False)
    self._order = sorted(self.inputs, key=lambda io: io.position)

  def invoke(self, prepared):
    outs = self.interpreter.predict([prepared[io.name] for io in self._order])
    return {io.name: np.asarray(outs[io.position]) for io in self.outputs}


class TflmRuntime(Runtime):
  """The tflite-micro interpreter (TFLM's reference kernels, in-process).

  A too-small arena can crash the process inside TFLM (seen with arenas of a few
  hundred bytes), so the arena is checked in a subprocess first: when
  `arena_size` is None it is measured with `arena.find_arena_size` (plus a margin),
  otherwise the given size is probed once and a too-small one raises ValueError.
  """
  name = "tflm"
  ARENA_MARGIN = 1024

  def __init__(self, info: TfliteModelInfo, arena_size: int | None = None):
    super().__init__(info)
    unsupported = [b for b in info.runtimes.tflm_blockers if b.startswith("ops not")]
    if unsupported:
      raise ValueError(f"{_where(info)}: TFLM cannot run this model: {unsupported[0]}")
    _require_main_subgraph(info, "TFLM")
    from . import arena  # pylint: disable=g-import-not-at-top
    if arena_size is None:
      arena_size = arena.find_arena_size(info.data) + self.ARENA_MARGIN
    else:
      if arena_size <= 0:
        raise ValueError(f"arena_size must be positive, got {arena_size}")
      probe = arena.probe_arena(info.data, arena_size)  # In a subprocess: may crash.
      if not probe.ok:
        raise ValueError(
            f"{_where(info)}: TFLM cannot run the model in a {arena_size}-byte arena"
            + (f" (short by at least {probe.missing} bytes)" if probe.missing else "")
            + "; use edgegnn.runtime.find_arena_size or arena_size=None")
    self.arena_size = int(arena_size)
    from tflite_micro.python.tflite_micro import runtime as tflm  # pylint: disable=g-import-not-at-top
    try:
      self.interpreter = tflm.Interpreter.from_bytes(info.data,
                                                     arena_size=self.arena_size)
    except RuntimeError as e:
      raise RuntimeError(f"{_where(info)}: TFLM could not allocate the model in a "
                         f"{self.arena_size}-byte arena ({e}); see "
                         "edgegnn.runtime.find_arena_size") from e

  def invoke(self, prepared):
    for io in self.inputs:
      self.interpreter.set_input(prepared[io.name], io.position)
    self.interpreter.invoke()
    return {io.name: np.array(self.interpreter.get_output(io.position))
            for io in self.outputs}


def _where(info: TfliteModelInfo) -> str:
  return info.path or "<bytes>"


def _require_main_subgraph(info: TfliteModelInfo, who: str) -> None:
  """Interpreters without a signature runner run subgraph 0 only."""
  for sig in info.signatures:
    if sig.key == info.signature_key and sig.subgraph_index != 0:
      raise ValueError(f"{_where(info)}: signature {sig.key!r} runs subgraph "
                       f"{sig.subgraph_index}; {who} runs subgraph 0 only")


def resolve_runtime(info: TfliteModelInfo, runtime: str = "auto") -> str:
  """The runtime `open_runtime` would use: "auto" is lce for Lce ops, else litert."""
  if runtime not in RUNTIMES:
    raise ValueError(f"unknown runtime {runtime!r}; valid runtimes: {', '.join(RUNTIMES)}")
  if runtime == "auto":
    return "lce" if info.runtimes.needs_lce else "litert"
  return runtime


def open_runtime(path_or_bytes: str | os.PathLike | bytes | TfliteModelInfo,
                 runtime: str = "auto", num_threads: int = 1,
                 arena_size: int | None = None) -> Runtime:
  """Loads an artifact on a runtime.

  Args:
    path_or_bytes: A `.tflite` path, its bytes, or a parsed `TfliteModelInfo`.
    runtime: "auto" (lce if the model has Lce* ops, else litert), "litert", "lce"
      or "tflm".
    num_threads: Threads for litert and lce (TFLM is single-threaded).
    arena_size: TFLM tensor arena in bytes; None measures it (see `TflmRuntime`).

  Returns:
    A `Runtime`; call `.run({input_name: array})`.

  Raises:
    ValueError: Unknown runtime name (the message lists the valid ones), or a model
      the chosen runtime cannot run.
    CorruptModelError: The file is not a readable TFLite flatbuffer.
  """
  if runtime not in RUNTIMES:
    raise ValueError(f"unknown runtime {runtime!r}; valid runtimes: {', '.join(RUNTIMES)}")
  if num_threads < 1:
    raise ValueError(f"num_threads must be >= 1, got {num_threads}")
  info = (path_or_bytes if isinstance(path_or_bytes, TfliteModelInfo)
          else tflite_file.read_model(path_or_bytes))
  chosen = resolve_runtime(info, runtime)
  if chosen == "litert":
    return LiteRtRuntime(info, num_threads)
  if chosen == "lce":
    return LceRuntime(info, num_threads)
  return TflmRuntime(info, arena_size)
