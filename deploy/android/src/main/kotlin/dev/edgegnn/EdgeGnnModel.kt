package dev.edgegnn

import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder
import kotlin.math.roundToInt
import org.json.JSONObject
import org.tensorflow.lite.Interpreter

/**
 * Runs an edgegnn `.tflite` artifact by its signature, driven by the JSON sidecar that
 * edgegnn writes next to it (`NAME.tflite.json`: input names, shapes, dtypes, quantization,
 * label names, layout and capacity).
 *
 * Inputs are given as real values (FloatArray for float or quantized tensors, IntArray for
 * int32 index tensors such as `edge_source` / `neighbors`), flattened row-major; float
 * values for an int8 tensor are quantized with the sidecar's scale and zero point, and an
 * int8 output is dequantized the same way.
 *
 * Usage:
 *   val model = EdgeGnnModel(File(dir, "gcn_int8.tflite-int8.tflite"))
 *   val logits = model.run(mapOf("node_features" to x, "neighbors" to nbr, "neighbor_mask" to m))
 *   val label = model.labelNames[logits.argmaxRow(0, model.numClasses)]
 */
class EdgeGnnModel(artifact: File, numThreads: Int = 1) : AutoCloseable {
  private val sidecar = JSONObject(File(artifact.path + ".json").readText())
  private val interpreter = Interpreter(artifact, Interpreter.Options().setNumThreads(numThreads))
  val signature: String = sidecar.optString("signature", "serving_default")
  val numClasses: Int = sidecar.optInt("num_classes", 0)
  val labelNames: List<String> = sidecar.optJSONArray("label_names")?.let { names ->
    List(names.length()) { names.getString(it) }
  } ?: emptyList()
  val layout: String = sidecar.optString("layout", "sparse")
  private val inputs = specs("inputs")
  private val output = specs("outputs").first()

  /** One input or output as the sidecar describes it. */
  data class TensorSpec(val name: String, val shape: IntArray, val dtype: String,
                        val scale: Float?, val zeroPoint: Int?)

  private fun specs(key: String): List<TensorSpec> {
    val array = sidecar.getJSONArray(key)
    return List(array.length()) { i ->
      val t = array.getJSONObject(i)
      val q = t.optJSONObject("quantization")
      val shape = t.getJSONArray("shape")
      TensorSpec(t.getString("name"), IntArray(shape.length()) { shape.getInt(it) },
                 t.getString("dtype"),
                 q?.getJSONArray("scale")?.getDouble(0)?.toFloat(),
                 q?.getJSONArray("zero_point")?.getInt(0))
    }
  }

  /**
   * Runs the model. [values] maps each signature input name to its flattened values;
   * [shapes] gives the actual shape of inputs with a dynamic dimension (sparse layout:
   * `edge_source` / `edge_target` of E edges, `node_features` of N nodes).
   * Returns the flattened real-valued output (logits), row-major.
   */
  fun run(values: Map<String, Any>, shapes: Map<String, IntArray> = emptyMap()): FloatArray {
    val missing = inputs.map { it.name }.filter { it !in values }
    require(missing.isEmpty()) { "missing inputs $missing; expected ${inputs.map { it.name }}" }
    for (spec in inputs) {
      shapes[spec.name]?.let { shape ->
        val tensor = interpreter.getInputTensorFromSignature(spec.name, signature)
        if (!tensor.shape().contentEquals(shape)) interpreter.resizeInput(tensor.index(), shape)
      }
    }
    interpreter.allocateTensors()
    val feeds = inputs.associate { spec -> spec.name to encode(spec, values.getValue(spec.name)) }
    val outTensor = interpreter.getOutputTensorFromSignature(output.name, signature)
    val out = ByteBuffer.allocateDirect(outTensor.numBytes()).order(ByteOrder.nativeOrder())
    interpreter.runSignature(feeds, mapOf(output.name to out), signature)
    out.rewind()
    val n = outTensor.numElements()
    return when (output.dtype) {
      "int8" -> FloatArray(n) { (output.scale ?: 1f) * (out.get() - (output.zeroPoint ?: 0)) }
      else -> FloatArray(n) { out.float }
    }
  }

  private fun encode(spec: TensorSpec, value: Any): ByteBuffer = when (spec.dtype) {
    "float32" -> {
      val v = value as FloatArray
      ByteBuffer.allocateDirect(4 * v.size).order(ByteOrder.nativeOrder()).apply {
        v.forEach { putFloat(it) }; rewind()
      }
    }
    "int32" -> {
      val v = value as IntArray
      ByteBuffer.allocateDirect(4 * v.size).order(ByteOrder.nativeOrder()).apply {
        v.forEach { putInt(it) }; rewind()
      }
    }
    "int8" -> {
      val v = value as FloatArray
      val scale = requireNotNull(spec.scale) { "${spec.name}: int8 without quantization" }
      val zero = spec.zeroPoint ?: 0
      ByteBuffer.allocateDirect(v.size).order(ByteOrder.nativeOrder()).apply {
        v.forEach { put(((it / scale).roundToInt() + zero).coerceIn(-128, 127).toByte()) }
        rewind()
      }
    }
    else -> throw IllegalArgumentException("${spec.name}: dtype ${spec.dtype} not handled")
  }

  override fun close() = interpreter.close()
}

/** Index of the largest value in row [row] of a [rows] x [cols] row-major matrix. */
fun FloatArray.argmaxRow(row: Int, cols: Int): Int =
  (0 until cols).maxByOrNull { this[row * cols + it] } ?: -1
