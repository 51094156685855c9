package dev.edgegnn

import android.content.res.AssetManager
import java.io.File
import java.io.FileInputStream
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.channels.FileChannel
import kotlin.math.roundToInt
import org.json.JSONObject
import org.tensorflow.lite.Delegate
import org.tensorflow.lite.Interpreter

/**
 * Runs an edgegnn `.tflite` artifact by its signature, driven by the JSON sidecar edgegnn
 * writes next to it (`NAME.tflite.json`: input names, shapes, dtypes, quantization, label
 * names, layout, capacity).
 *
 *   val model = EdgeGnnModel.fromAssets(context.assets, "gcn.tflite-float32.tflite")
 *   val inputs = GraphInputs.sparse(GraphInputs.Graph(n, src, dst, f, nodeFeatures = x))
 *   val out = model.run(inputs)            // out.values: row-major logits, out.shape: [N, C]
 *   val label = model.labelNames[out.argmaxRow(0)]
 *
 * Inputs are real values: FloatArray for float and quantized tensors (float values for an
 * int8 tensor are quantized with the sidecar's scale and zero point), IntArray for int32
 * index tensors (`edge_source`, `neighbors`, ...), flattened row-major. The output is read
 * after the model ran: for an artifact with dynamic node or edge counts its shape is known
 * only then (a buffer sized beforehand from the placeholder shape would be too small), and
 * an int8 output is dequantized.
 *
 * Threads: an `EdgeGnnModel` wraps one LiteRT `Interpreter`, which is not thread-safe;
 * [run] is synchronized, so calls from several threads queue. For parallel calls create one
 * model per thread. [Options.numThreads] sets the interpreter's own worker threads.
 *
 * Delegates: [Options.delegates] are added to the interpreter (GPU, NNAPI, ...). Ops a
 * delegate does not support stay on the CPU kernels; the graph ops these artifacts use
 * (GATHER, UNSORTED_SEGMENT_SUM, SEGMENT_SUM) are CPU ops on most delegates, so measure
 * before assuming a speed-up. XNNPACK (the default CPU delegate) is on unless disabled.
 *
 * `lce` artifacts (binary layers, `LceBconv2d` ops) need Larq Compute Engine's runtime,
 * built from its sources for Android; the stock LiteRT interpreter refuses them, and so does
 * this class (the sidecar's `runtimes` does not list `litert`).
 */
class EdgeGnnModel private constructor(
    model: ByteBuffer, sidecarJson: String, where: String, options: Options) : AutoCloseable {

  /** Interpreter settings: worker threads, delegates, XNNPACK. */
  class Options(
      val numThreads: Int = 1,
      val delegates: List<Delegate> = emptyList(),
      val useXnnpack: Boolean = true)

  /** One input or output as the sidecar describes it. */
  class TensorSpec(val name: String, val shape: IntArray, val shapeSignature: IntArray,
                   val dtype: String, val scale: Float?, val zeroPoint: Int?)

  /** The model's output: [values] row-major, of shape [shape] (e.g. [N, C] logits). */
  class Output(val values: FloatArray, val shape: IntArray) {
    /** Index of the largest value in row [row] (the predicted class of node or graph [row]). */
    fun argmaxRow(row: Int): Int {
      val cols = shape.last()
      var best = 0
      for (k in 1 until cols) if (values[row * cols + k] > values[row * cols + best]) best = k
      return best
    }
  }

  private val sidecar = JSONObject(sidecarJson)
  val signature: String = sidecar.optString("signature", "serving_default")
  val numClasses: Int = sidecar.optInt("num_classes", 0)
  val labelNames: List<String> = sidecar.optJSONArray("label_names")?.let { names ->
    List(names.length()) { names.getString(it) }
  } ?: emptyList()
  /** How graphs are fed: "sparse", "dense" or "neighbors" (see [GraphInputs]). */
  val layout: String = sidecar.optString("layout", "sparse")
  /** Dense and neighbors layouts: the node count inputs are padded to (null: dynamic). */
  val capacity: Int? = if (sidecar.isNull("capacity")) null else sidecar.optInt("capacity")
  /** Neighbors layout: the largest in-degree the artifact takes. */
  val maxNeighbors: Int? =
      if (sidecar.isNull("max_neighbors")) null else sidecar.optInt("max_neighbors")
  val inputs: List<TensorSpec> = specs("inputs")
  val output: TensorSpec = specs("outputs").first()
  private val interpreter: Interpreter

  init {
    val runtimes = sidecar.optJSONArray("runtimes")
    val names = if (runtimes == null) listOf("litert")
                else List(runtimes.length()) { runtimes.getString(it) }
    require("litert" in names) {
      "$where runs on $names only: an lce artifact needs Larq Compute Engine's runtime " +
      "(LiteRT has no Lce* kernels); export a tflite-* format for LiteRT" }
    val settings = Interpreter.Options().setNumThreads(options.numThreads)
        .setUseXNNPACK(options.useXnnpack)
    for (delegate in options.delegates) settings.addDelegate(delegate)
    interpreter = Interpreter(model, settings)
  }

  companion object {
    /** Loads [artifact] (memory-mapped) and its sidecar `ARTIFACT.json` beside it. */
    fun fromFile(artifact: File, options: Options = Options()): EdgeGnnModel {
      val sidecar = File(artifact.path + ".json")
      require(sidecar.isFile) { "$sidecar is missing: copy the artifact's sidecar with it" }
      val model = FileInputStream(artifact).use { stream ->
        stream.channel.map(FileChannel.MapMode.READ_ONLY, 0, stream.channel.size())
      }
      return EdgeGnnModel(model, sidecar.readText(), artifact.path, options)
    }

    /**
     * Loads `assets/[name]` and its sidecar `assets/NAME.json`. The model is memory-mapped,
     * so it must be stored uncompressed (`androidResources { noCompress += "tflite" }`).
     */
    fun fromAssets(assets: AssetManager, name: String, options: Options = Options()): EdgeGnnModel {
      val model = assets.openFd(name).use { fd ->
        FileInputStream(fd.fileDescriptor).use { stream ->
          stream.channel.map(FileChannel.MapMode.READ_ONLY, fd.startOffset, fd.declaredLength)
        }
      }
      val sidecar = assets.open("$name.json").bufferedReader().use { it.readText() }
      return EdgeGnnModel(model, sidecar, "assets/$name", options)
    }
  }

  private fun specs(key: String): List<TensorSpec> {
    val array = sidecar.getJSONArray(key)
    return List(array.length()) { i ->
      val t = array.getJSONObject(i)
      val q = t.optJSONObject("quantization")
      val shape = t.getJSONArray("shape")
      val signature = t.optJSONArray("shape_signature") ?: shape
      TensorSpec(t.getString("name"), IntArray(shape.length()) { shape.getInt(it) },
                 IntArray(signature.length()) { signature.getInt(it) }, t.getString("dtype"),
                 q?.getJSONArray("scale")?.getDouble(0)?.toFloat(),
                 q?.getJSONArray("zero_point")?.getInt(0))
    }
  }

  /** Runs the model on a graph built by [GraphInputs] (inputs it does not take are ignored). */
  fun run(graph: GraphInputs): Output = run(graph.values, graph.shapes)

  /**
   * Runs the model. [values] maps each signature input name to its flattened values;
   * [shapes] gives the actual shape of inputs with a dynamic dimension (sparse layout:
   * `edge_source` / `edge_target` of E edges, `node_features` of N nodes). Extra entries
   * are ignored. Returns the real-valued output, read after the run.
   */
  @Synchronized
  fun run(values: Map<String, Any>, shapes: Map<String, IntArray> = emptyMap()): Output {
    val missing = inputs.map { it.name }.filter { it !in values }
    require(missing.isEmpty()) { "missing inputs $missing; expected ${inputs.map { it.name }}" }
    var resized = false
    for (spec in inputs) {
      val shape = shapes[spec.name] ?: continue
      require(shape.size == spec.shapeSignature.size && shape.indices.all {
        spec.shapeSignature[it] < 0 || spec.shapeSignature[it] == shape[it] }) {
        "${spec.name}: shape ${shape.toList()} does not fit the artifact's " +
        "${spec.shapeSignature.toList()} (-1: any size)" }
      val tensor = interpreter.getInputTensorFromSignature(spec.name, signature)
      if (!tensor.shape().contentEquals(shape)) {
        interpreter.resizeInput(tensor.index(), shape)
        resized = true
      }
    }
    if (resized) interpreter.allocateTensors()
    val feeds = HashMap<String, Any>()
    for (spec in inputs) feeds[spec.name] = encode(spec, values.getValue(spec.name))
    // No output buffers: the output keeps its placeholder shape until the model has run.
    interpreter.runSignature(feeds, HashMap<String, Any>(), signature)
    val tensor = interpreter.getOutputTensorFromSignature(output.name, signature)
    val data = tensor.asReadOnlyBuffer().order(ByteOrder.nativeOrder())
    val n = tensor.numElements()
    val out = when (output.dtype) {
      "int8" -> FloatArray(n) { (output.scale ?: 1f) * (data.get() - (output.zeroPoint ?: 0)) }
      "float32" -> FloatArray(n) { data.float }
      else -> throw IllegalStateException("${output.name}: output dtype ${output.dtype} not handled")
    }
    return Output(out, tensor.shape())
  }

  private fun encode(spec: TensorSpec, value: Any): ByteBuffer = when (spec.dtype) {
    "float32" -> {
      val v = value as FloatArray
      ByteBuffer.allocateDirect(4 * v.size).order(ByteOrder.nativeOrder()).apply {
        for (x in v) putFloat(x)
        rewind()
      }
    }
    "int32" -> {
      val v = value as IntArray
      ByteBuffer.allocateDirect(4 * v.size).order(ByteOrder.nativeOrder()).apply {
        for (x in v) putInt(x)
        rewind()
      }
    }
    "int8" -> {
      val v = value as FloatArray
      val scale = requireNotNull(spec.scale) { "${spec.name}: int8 without quantization" }
      val zero = spec.zeroPoint ?: 0
      ByteBuffer.allocateDirect(v.size).order(ByteOrder.nativeOrder()).apply {
        for (x in v) put(((x / scale).roundToInt() + zero).coerceIn(-128, 127).toByte())
        rewind()
      }
    }
    else -> throw IllegalArgumentException("${spec.name}: dtype ${spec.dtype} not handled")
  }

  override fun close() = interpreter.close()
}
