package dev.edgegnn

/**
 * A graph as the inputs an edgegnn artifact takes, built as `edgegnn.models.feeds.graph_feed`
 * builds them on the host (same names, dtypes, shapes and values), so that the app feeds a
 * model exactly what it was verified on.
 *
 * A graph is given as its node count, its edges (edge j: `edgeSource[j] -> edgeTarget[j]`,
 * node ids in [0, numNodes)) and its features, dense (row-major `numNodes x numFeatures`) or
 * sparse (the non-zeros as a CSR: row `i` holds `featureIndices[featureIndptr[i] until
 * featureIndptr[i + 1]]`, values `featureValues` or all 1 for binary features).
 *
 * [values] maps each input name to a FloatArray (float inputs, real values even for int8
 * tensors: [EdgeGnnModel] quantizes them) or an IntArray (index inputs), flattened row-major;
 * [shapes] gives each input's shape. Build the layout the sidecar names (`layout`,
 * `capacity`, `max_neighbors`) and pass the result to [EdgeGnnModel.run]; inputs the
 * artifact does not take are ignored there.
 *
 * Pure Kotlin (no Android, no LiteRT): build inputs on any thread.
 */
class GraphInputs private constructor(
    val values: Map<String, Any>, val shapes: Map<String, IntArray>) {

  /** One graph: node count, edges and features (dense rows or a sparse CSR). */
  class Graph(
      val numNodes: Int,
      val edgeSource: IntArray,
      val edgeTarget: IntArray,
      val numFeatures: Int,
      val nodeFeatures: FloatArray? = null,
      val featureIndptr: IntArray? = null,
      val featureIndices: IntArray? = null,
      val featureValues: FloatArray? = null) {
    init {
      require(edgeSource.size == edgeTarget.size) {
        "edgeSource has ${edgeSource.size} entries, edgeTarget ${edgeTarget.size}" }
      for (j in edgeSource.indices) {
        require(edgeSource[j] in 0 until numNodes && edgeTarget[j] in 0 until numNodes) {
          "edge $j (${edgeSource[j]} -> ${edgeTarget[j]}) is outside [0, $numNodes)" }
      }
      require(nodeFeatures != null || (featureIndptr != null && featureIndices != null)) {
        "give nodeFeatures (dense rows) or featureIndptr + featureIndices (sparse)" }
      nodeFeatures?.let { require(it.size == numNodes * numFeatures) {
        "nodeFeatures has ${it.size} values, not numNodes x numFeatures = ${numNodes * numFeatures}" } }
      featureIndptr?.let { require(it.size == numNodes + 1) {
        "featureIndptr has ${it.size} entries, not numNodes + 1 = ${numNodes + 1}" } }
    }

    /** In-degree of each node: the number of edges that end there. */
    fun inDegree(): IntArray {
      val degree = IntArray(numNodes)
      for (t in edgeTarget) degree[t] += 1
      return degree
    }

    /** Dense feature rows padded with zero rows to [capacity] nodes. */
    fun paddedFeatures(capacity: Int): FloatArray {
      val out = FloatArray(capacity * numFeatures)
      if (nodeFeatures != null) {
        nodeFeatures.copyInto(out, 0, 0, numNodes * numFeatures)
      } else {
        for (i in 0 until numNodes) {
          for (k in featureIndptr!![i] until featureIndptr[i + 1]) {
            out[i * numFeatures + featureIndices!![k]] = featureValues?.get(k) ?: 1f
          }
        }
      }
      return out
    }
  }

  companion object {
    /** Slots per in-neighbour row of the neighbors layout (`NEIGHBOR_ROW_WIDTH` in Python). */
    const val NEIGHBOR_ROW_WIDTH = 16

    /**
     * Sparse layout: `node_features` [N, F], `edge_source` [E], `edge_target` [E],
     * `in_degree` [N], and the sparse-feature lists (see [sparseFeatureLists]).
     * The artifact's node and edge counts are dynamic: [EdgeGnnModel] resizes to [shapes].
     */
    fun sparse(graph: Graph): GraphInputs {
      val values = HashMap<String, Any>()
      val shapes = HashMap<String, IntArray>()
      values["node_features"] = graph.paddedFeatures(graph.numNodes)
      shapes["node_features"] = intArrayOf(graph.numNodes, graph.numFeatures)
      values["edge_source"] = graph.edgeSource.copyOf()
      values["edge_target"] = graph.edgeTarget.copyOf()
      shapes["edge_source"] = intArrayOf(graph.edgeSource.size)
      shapes["edge_target"] = intArrayOf(graph.edgeTarget.size)
      values["in_degree"] = graph.inDegree()
      shapes["in_degree"] = intArrayOf(graph.numNodes)
      addSparseFeatureLists(graph, values, shapes)
      return GraphInputs(values, shapes)
    }

    /**
     * Dense layout padded to [capacity] nodes (the sidecar's `capacity`): `node_features`
     * [C, F], `adjacency` [C, C] with A[t, s] = number of edges s -> t, `node_mask` [C].
     */
    fun dense(graph: Graph, capacity: Int): GraphInputs {
      checkCapacity(graph, capacity)
      val adjacency = FloatArray(capacity * capacity)
      for (j in graph.edgeSource.indices) {
        adjacency[graph.edgeTarget[j] * capacity + graph.edgeSource[j]] += 1f
      }
      return GraphInputs(
          mapOf("node_features" to graph.paddedFeatures(capacity), "adjacency" to adjacency,
                "node_mask" to nodeMask(graph, capacity)),
          mapOf("node_features" to intArrayOf(capacity, graph.numFeatures),
                "adjacency" to intArrayOf(capacity, capacity),
                "node_mask" to intArrayOf(capacity)))
    }

    /**
     * Neighbors layout (the sidecar's `max_neighbors`, and `capacity` when it is set):
     * each node's in-neighbours, in edge order, fill rows of W = min(maxNeighbors, 16)
     * slots (`neighbors`, `neighbor_mask` [R, W]); a node with more continues in overflow
     * rows after the C first rows (`row_node` [R], `overflow_rows` [V, 1 + J],
     * `overflow_index` [C], present when J = ceil(maxNeighbors / W) - 1 > 0); `in_degree` [C],
     * `node_mask` [C], `node_features` [C, F], and the sparse-feature lists. As
     * `Graph.neighbor_lists` in Python: R = C + the overflow rows + 1 (one empty row), or
     * C * (J + 1) + 1 when [capacity] is given.
     */
    fun neighbors(graph: Graph, maxNeighbors: Int, capacity: Int? = null): GraphInputs {
      require(maxNeighbors >= 1) { "maxNeighbors must be >= 1, got $maxNeighbors" }
      val nodes = capacity ?: graph.numNodes
      checkCapacity(graph, nodes)
      val degree = graph.inDegree()
      for (i in degree.indices) {
        require(degree[i] <= maxNeighbors) {
          "node $i has ${degree[i]} in-neighbours but maxNeighbors=$maxNeighbors; edges are " +
          "never dropped: export with max_neighbors of at least ${degree[i]}" }
      }
      val width = minOf(maxNeighbors, NEIGHBOR_ROW_WIDTH)
      val overflow = (maxNeighbors + width - 1) / width - 1
      val extraRows = IntArray(nodes) { if (it < degree.size) maxOf((degree[it] + width - 1) / width - 1, 0) else 0 }
      val firstOverflow = IntArray(nodes)
      var next = nodes
      for (i in 0 until nodes) { firstOverflow[i] = next; next += extraRows[i] }
      val rows = if (overflow == 0) nodes
                 else 1 + (if (capacity != null) nodes * (overflow + 1) else next)
      val neighbors = IntArray(rows * width)
      val mask = FloatArray(rows * width)
      val filled = IntArray(nodes)
      for (j in graph.edgeTarget.indices) {       // edge order within each target
        val t = graph.edgeTarget[j]
        val position = filled[t]++
        val chunk = position / width
        val row = if (chunk == 0) t else firstOverflow[t] + chunk - 1
        neighbors[row * width + position % width] = graph.edgeSource[j]
        mask[row * width + position % width] = 1f
      }
      val paddedDegree = IntArray(nodes)
      degree.copyInto(paddedDegree)
      val values = HashMap<String, Any>()
      val shapes = HashMap<String, IntArray>()
      values["node_features"] = graph.paddedFeatures(nodes)
      shapes["node_features"] = intArrayOf(nodes, graph.numFeatures)
      values["neighbors"] = neighbors
      values["neighbor_mask"] = mask
      shapes["neighbors"] = intArrayOf(rows, width)
      shapes["neighbor_mask"] = intArrayOf(rows, width)
      values["in_degree"] = paddedDegree
      shapes["in_degree"] = intArrayOf(nodes)
      values["node_mask"] = nodeMask(graph, nodes)
      shapes["node_mask"] = intArrayOf(nodes)
      if (overflow > 0) {
        val rowNode = IntArray(rows)
        for (i in 0 until nodes) rowNode[i] = i
        val overflowing = (0 until nodes).filter { extraRows[it] > 0 }
        val listed = if (capacity != null) nodes else overflowing.size
        val overflowRows = IntArray(listed * (overflow + 1)) { rows - 1 }
        val overflowIndex = IntArray(nodes) { listed }
        for ((position, node) in overflowing.withIndex()) {
          overflowRows[position * (overflow + 1)] = node
          for (k in 0 until extraRows[node]) {
            rowNode[firstOverflow[node] + k] = node
            overflowRows[position * (overflow + 1) + 1 + k] = firstOverflow[node] + k
          }
          overflowIndex[node] = position
        }
        values["row_node"] = rowNode
        shapes["row_node"] = intArrayOf(rows)
        values["overflow_rows"] = overflowRows
        shapes["overflow_rows"] = intArrayOf(listed, overflow + 1)
        values["overflow_index"] = overflowIndex
        shapes["overflow_index"] = intArrayOf(nodes)
      }
      addSparseFeatureLists(graph, values, shapes)
      return GraphInputs(values, shapes)
    }

    /**
     * The sparse-feature inputs (`features: sparse | binary` artifacts): `feature_node`,
     * `feature_index` and `feature_value`, one entry per non-zero feature in node order; a
     * node without any gets one entry (index F, value 0), so every node has a segment.
     */
    fun sparseFeatureLists(graph: Graph): Map<String, Any> {
      val node = ArrayList<Int>()
      val index = ArrayList<Int>()
      val value = ArrayList<Float>()
      for (i in 0 until graph.numNodes) {
        val before = node.size
        if (graph.featureIndptr != null) {
          for (k in graph.featureIndptr[i] until graph.featureIndptr[i + 1]) {
            node.add(i); index.add(graph.featureIndices!![k])
            value.add(graph.featureValues?.get(k) ?: 1f)
          }
        } else {
          for (f in 0 until graph.numFeatures) {
            val x = graph.nodeFeatures!![i * graph.numFeatures + f]
            if (x != 0f) { node.add(i); index.add(f); value.add(x) }
          }
        }
        if (node.size == before) { node.add(i); index.add(graph.numFeatures); value.add(0f) }
      }
      return mapOf("feature_node" to node.toIntArray(), "feature_index" to index.toIntArray(),
                   "feature_value" to value.toFloatArray())
    }

    private fun addSparseFeatureLists(graph: Graph, values: MutableMap<String, Any>,
                                      shapes: MutableMap<String, IntArray>) {
      for ((name, array) in sparseFeatureLists(graph)) {
        values[name] = array
        shapes[name] = intArrayOf(if (array is IntArray) array.size else (array as FloatArray).size)
      }
    }

    private fun nodeMask(graph: Graph, capacity: Int): FloatArray =
        FloatArray(capacity) { if (it < graph.numNodes) 1f else 0f }

    private fun checkCapacity(graph: Graph, capacity: Int) {
      require(graph.numNodes <= capacity) {
        "the graph has ${graph.numNodes} nodes but the artifact's capacity is $capacity; " +
        "nodes are never dropped: export with a larger capacity" }
    }
  }
}
