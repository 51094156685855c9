// Prints the inputs GraphInputs builds for a graph, as JSON (the kit's test compares them with
// edgegnn.models.feeds). Usage: GraphInputsDump GRAPH.json LAYOUT [MAX_NEIGHBORS] [CAPACITY]
// GRAPH.json: {"num_nodes", "num_features", "edge_source", "edge_target",
//              "node_features" (row-major) | "feature_indptr" + "feature_indices" [+ "feature_values"]}
import dev.edgegnn.GraphInputs
import java.io.File
import org.json.JSONArray
import org.json.JSONObject

fun ints(o: JSONObject, key: String): IntArray? =
    o.optJSONArray(key)?.let { a -> IntArray(a.length()) { a.getInt(it) } }

fun floats(o: JSONObject, key: String): FloatArray? =
    o.optJSONArray(key)?.let { a -> FloatArray(a.length()) { a.getDouble(it).toFloat() } }

fun main(args: Array<String>) {
  val o = JSONObject(File(args[0]).readText())
  val graph = GraphInputs.Graph(o.getInt("num_nodes"), ints(o, "edge_source")!!,
      ints(o, "edge_target")!!, o.getInt("num_features"), floats(o, "node_features"),
      ints(o, "feature_indptr"), ints(o, "feature_indices"), floats(o, "feature_values"))
  val capacity = if (args.size > 3) args[3].toInt() else null
  val inputs = when (args[1]) {
    "sparse" -> GraphInputs.sparse(graph)
    "dense" -> GraphInputs.dense(graph, capacity ?: graph.numNodes)
    else -> GraphInputs.neighbors(graph, args[2].toInt(), capacity)
  }
  val out = JSONObject()
  for ((name, value) in inputs.values) {
    val values = JSONArray()
    when (value) {
      is IntArray -> for (x in value) values.put(x)
      is FloatArray -> for (x in value) values.put(x.toDouble())
    }
    val shape = JSONArray()
    for (d in inputs.shapes.getValue(name)) shape.put(d)
    out.put(name, JSONObject().put("shape", shape).put("values", values)
        .put("dtype", if (value is IntArray) "int32" else "float32"))
  }
  println(out.toString())
}
