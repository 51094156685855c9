"""The device side of edgegnn: read, run, check and time `.tflite` artifacts without TensorFlow.

Everything here needs only numpy and a TFLite runtime (ai-edge-litert; the LCE
interpreter for `lce` artifacts; tflite-micro for microcontroller artifacts), so it runs
on a Raspberry Pi or any host where TensorFlow is not installed:

    from edgegnn import runtime
    rt = runtime.open_runtime("gcn.tflite")                 # picks the interpreter
    feed = runtime.select(runtime.graph_feed(graph), [io.name for io in rt.inputs])
    logits = rt.run(feed)["logits"]

| module | name | what it does |
|---|---|---|
| `tflite_file` | `read_model` | parse a `.tflite` file: inputs, outputs, ops, runtimes that can run it |
| `interpreters` | `open_runtime`, `Runtime` | an artifact on ai-edge-litert, LCE or tflite-micro; inputs checked before invoke |
| `tensors` | `quantize`, `dequantize` | real values to and from a quantized tensor (per channel too) |
| `input_checks` | `check_inputs` | index ranges, masks and finite values of a feed, naming the input |
| `bench`, `timing` | `benchmark`, `latency_ms` | latency and peak memory of one artifact on real inputs |
| `bench_inputs` | `resolve_inputs`, `synthesize_inputs` | the inputs a benchmark runs on |
| `arena`, `mcu` | `find_arena_size`, `write_c_sources` | the TFLM arena a model needs; the model as C++ sources |
| `sidecar` | `read_sidecar`, `write_sidecar` | the JSON an app reads beside the artifact |
| `khop` | `KHopExtractor` | a node's k-hop in-neighbourhood, relabelled, with full-graph degrees |
| `bundle_runner` | | the runner of a device bundle (`edgegnn deploy pi`) |
| (`edgegnn.models.feeds`) | `graph_feed`, `select`, `sparse_feature_lists` | an `edgegnn.data.Graph` as the inputs an artifact names |

The modules import one another relatively (`from . import tflite_file`) and nothing of
edgegnn outside this package at import time, so a device bundle ships a copy of the
modules its runner needs as the package `edgegnn_runtime` and runs this same code. Names
are loaded on first use: `import edgegnn.runtime` imports no runtime package.
"""
import importlib

_EXPORTS = {
    "read_model": "tflite_file", "CorruptModelError": "tflite_file",
    "open_runtime": "interpreters", "Runtime": "interpreters",
    "resolve_runtime": "interpreters",
    "quantize": "tensors", "dequantize": "tensors", "prepare_input": "tensors",
    "check_inputs": "input_checks",
    "benchmark": "bench", "measure_peak_memory": "bench",
    "latency_ms": "timing",
    "resolve_inputs": "bench_inputs", "synthesize_inputs": "bench_inputs",
    "find_arena_size": "arena", "probe_arena": "arena",
    "write_c_sources": "mcu", "tflm_resolver_calls": "mcu",
    "read_sidecar": "sidecar", "write_sidecar": "sidecar",
    "KHopExtractor": "khop",
}
_FEEDS = ("graph_feed", "select", "sparse_feature_lists")

__all__ = sorted([*_EXPORTS, *_FEEDS])


def __getattr__(name):
  if name in _EXPORTS:
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
  if name in _FEEDS:  # numpy-level, with the data model it converts
    return getattr(importlib.import_module("edgegnn.models.feeds"), name)
  raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
