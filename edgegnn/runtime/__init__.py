"""The device side of edgegnn: run, check and time `.tflite` artifacts without TensorFlow.

Everything here needs only numpy and a TFLite runtime (ai-edge-litert; the LCE
interpreter for `lce` artifacts; tflite-micro for microcontroller artifacts), so it runs
on a Raspberry Pi or any host where TensorFlow is not installed:

    from edgegnn import runtime
    rt = runtime.open_runtime("gcn.tflite")                 # picks the interpreter
    feed = runtime.select(runtime.graph_feed(graph), [io.name for io in rt.inputs])
    logits = rt.run(feed)["logits"]

| name | what it does |
|---|---|
| `open_runtime`, `Runtime` | an artifact on its interpreter; inputs checked before invoke |
| `read_model` | parse a `.tflite` file: inputs, outputs, ops, runtimes that can run it |
| `check_inputs` | index ranges, masks and finite values of a feed, naming the input |
| `graph_feed`, `select`, `sparse_feature_lists` | an `edgegnn.data.Graph` as the inputs an artifact names |
| `benchmark` | latency and peak memory of one artifact on real inputs |
| `contender`, `interleaved_latency` | several artifacts timed side by side in one process |
| `KHopExtractor` | a node's k-hop in-neighbourhood, relabelled, with full-graph degrees |
| `StudentPredictor`, `SubgraphPredictor` | per-node serving: one node's logits per call |

The modules live in `edgegnn.deploy` and `edgegnn.models.feeds`; this package is their one
TensorFlow-free entry point (a test imports it with TensorFlow made unimportable).
"""
from edgegnn.deploy.bench import benchmark
from edgegnn.deploy.input_checks import check_inputs
from edgegnn.deploy.khop import KHopExtractor
from edgegnn.deploy.per_node import StudentPredictor, SubgraphPredictor
from edgegnn.deploy.runtimes import Runtime, open_runtime
from edgegnn.deploy.side_by_side import contender, interleaved_latency
from edgegnn.deploy.tflite_file import read_model
from edgegnn.models.feeds import graph_feed, select, sparse_feature_lists

__all__ = ["KHopExtractor", "Runtime", "StudentPredictor", "SubgraphPredictor", "benchmark",
           "check_inputs", "contender", "graph_feed", "interleaved_latency", "open_runtime",
           "read_model", "select", "sparse_feature_lists"]
