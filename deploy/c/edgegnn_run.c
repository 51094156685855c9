/* Runs an edgegnn .tflite artifact with the LiteRT (TensorFlow Lite) C API, by signature.
 *
 * The C counterpart of deploy/android's EdgeGnnModel.kt, for Linux, iOS (through the C API
 * of the TensorFlowLiteC pod) or any app linking libtensorflowlite_c. The same contract:
 * inputs by name (the sidecar NAME.tflite.json lists them), real float values quantized here
 * for an int8 tensor, int32 index inputs as they are; the input shapes are set per graph
 * (sparse artifacts: N nodes, E edges), and the output is read AFTER the invoke, because its
 * shape ([N, C] logits) is known only then.
 *
 * Threads: a TfLiteInterpreter is not thread-safe; use one per thread or serialize calls.
 * Delegates: TfLiteInterpreterOptionsAddDelegate before TfLiteInterpreterCreate; ops a
 * delegate lacks run on the CPU. `lce` artifacts need Larq Compute Engine's runtime.
 *
 * Build (with the LiteRT C library and headers installed):
 *   cc -std=c11 -O2 edgegnn_run.c -ltensorflowlite_c -lm -o edgegnn_run
 *   ./edgegnn_run gcn.tflite-float32.tflite      # a 4-node ring, 5 features, prints logits
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensorflow/lite/c/c_api.h"

/* One input: its signature name, its shape, and float (real) or int32 values. */
typedef struct {
  const char* name;
  int dims[4];
  int rank;
  const float* real;      /* float32 or int8 tensors (int8: quantized here) */
  const int32_t* index;   /* int32 tensors */
} EdgeGnnInput;

static size_t Count(const EdgeGnnInput* in) {
  size_t n = 1;
  for (int d = 0; d < in->rank; ++d) n *= (size_t)in->dims[d];
  return n;
}

/* Copies one input into its tensor, quantizing real values for an int8 tensor. */
static int SetInput(TfLiteTensor* tensor, const EdgeGnnInput* in) {
  const size_t n = Count(in);
  switch (TfLiteTensorType(tensor)) {
    case kTfLiteFloat32:
      return TfLiteTensorCopyFromBuffer(tensor, in->real, n * sizeof(float));
    case kTfLiteInt32:
      return TfLiteTensorCopyFromBuffer(tensor, in->index, n * sizeof(int32_t));
    case kTfLiteInt8: {
      const TfLiteQuantizationParams q = TfLiteTensorQuantizationParams(tensor);
      int8_t* data = (int8_t*)TfLiteTensorData(tensor);
      for (size_t i = 0; i < n; ++i) {
        long v = lroundf(in->real[i] / q.scale) + q.zero_point;
        data[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
      }
      return kTfLiteOk;
    }
    default:
      fprintf(stderr, "%s: tensor type %d not handled\n", in->name, TfLiteTensorType(tensor));
      return kTfLiteError;
  }
}

/* Runs the "serving_default" signature; on success *logits (malloc'ed, real values) holds
 * rows x cols floats read from the output "logits" after the invoke. Returns 0 on success. */
int EdgeGnnRun(const char* model_path, const EdgeGnnInput* inputs, int num_inputs,
               int threads, float** logits, int* rows, int* cols) {
  int status = 1;
  TfLiteModel* model = TfLiteModelCreateFromFile(model_path);
  if (model == NULL) { fprintf(stderr, "%s: not a readable model\n", model_path); return 1; }
  TfLiteInterpreterOptions* options = TfLiteInterpreterOptionsCreate();
  TfLiteInterpreterOptionsSetNumThreads(options, threads);
  TfLiteInterpreter* interpreter = TfLiteInterpreterCreate(model, options);
  TfLiteSignatureRunner* runner =
      interpreter ? TfLiteInterpreterGetSignatureRunner(interpreter, "serving_default") : NULL;
  if (runner == NULL) { fprintf(stderr, "%s: no serving_default signature\n", model_path); goto done; }
  for (int i = 0; i < num_inputs; ++i) {  /* the graph's shapes first, then one allocation */
    if (TfLiteSignatureRunnerResizeInputTensor(runner, inputs[i].name, inputs[i].dims,
                                               inputs[i].rank) != kTfLiteOk) {
      fprintf(stderr, "%s: cannot take this shape\n", inputs[i].name);
      goto done;
    }
  }
  if (TfLiteSignatureRunnerAllocateTensors(runner) != kTfLiteOk) goto done;
  for (int i = 0; i < num_inputs; ++i) {
    TfLiteTensor* tensor = TfLiteSignatureRunnerGetInputTensor(runner, inputs[i].name);
    if (tensor == NULL || SetInput(tensor, &inputs[i]) != kTfLiteOk) goto done;
  }
  if (TfLiteSignatureRunnerInvoke(runner) != kTfLiteOk) goto done;
  const TfLiteTensor* out = TfLiteSignatureRunnerGetOutputTensor(runner, "logits");
  const int rank = TfLiteTensorNumDims(out);   /* read now: known only after the invoke */
  *cols = TfLiteTensorDim(out, rank - 1);
  *rows = rank > 1 ? TfLiteTensorDim(out, rank - 2) : 1;
  const size_t n = (size_t)(*rows) * (size_t)(*cols);
  *logits = (float*)malloc(n * sizeof(float));
  if (TfLiteTensorType(out) == kTfLiteInt8) {
    const TfLiteQuantizationParams q = TfLiteTensorQuantizationParams(out);
    const int8_t* data = (const int8_t*)TfLiteTensorData(out);
    for (size_t i = 0; i < n; ++i) (*logits)[i] = q.scale * (float)(data[i] - q.zero_point);
  } else {
    memcpy(*logits, TfLiteTensorData(out), n * sizeof(float));
  }
  status = 0;
done:
  if (runner) TfLiteSignatureRunnerDelete(runner);
  if (interpreter) TfLiteInterpreterDelete(interpreter);
  TfLiteInterpreterOptionsDelete(options);
  TfLiteModelDelete(model);
  return status;
}

int main(int argc, char** argv) {
  if (argc != 2) { fprintf(stderr, "usage: %s MODEL.tflite (a sparse-layout artifact)\n", argv[0]); return 2; }
  /* A 4-node directed ring with 5 features per node: build these from your graph. */
  static float features[4 * 5];
  for (int i = 0; i < 4 * 5; ++i) features[i] = (float)(i % 5 == i / 5);
  static const int32_t source[] = {0, 1, 2, 3}, target[] = {1, 2, 3, 0};
  const EdgeGnnInput inputs[] = {
      {"node_features", {4, 5}, 2, features, NULL},
      {"edge_source", {4}, 1, NULL, source},
      {"edge_target", {4}, 1, NULL, target},
  };
  float* logits = NULL;
  int rows = 0, cols = 0;
  if (EdgeGnnRun(argv[1], inputs, 3, 1, &logits, &rows, &cols) != 0) return 1;
  for (int r = 0; r < rows; ++r) {
    int best = 0;
    for (int c = 1; c < cols; ++c) if (logits[r * cols + c] > logits[r * cols + best]) best = c;
    printf("node %d: class %d\n", r, best);
  }
  free(logits);
  return 0;
}
