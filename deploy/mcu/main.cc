// Minimal TFLM application for an edgegnn artifact. Build it with the Makefile beside it:
//
//   make sources MODEL=model_int8.tflite   # arena measured on tflite-micro, + MARGIN bytes
//   make tflm                              # TFLM at TFLM_REVISION (the Python package's)
//   make run                               # libtensorflow-microlite.a, this app, one invoke
//
// `make sources` runs `python -m edgegnn.runtime.mcu MODEL .`, which writes
// edgegnn_model.cc / edgegnn_model.h next to this file. For a board, build the library for
// it instead (e.g. TARGET=cortex_m_generic TARGET_ARCH=cortex-m4 OPTIMIZED_KERNEL_DIR=cmsis_nn)
// and compile these two files with the board's toolchain (arm-none-eabi-g++) into the
// firmware.

#include <cstdint>
#include <cstring>

#include "edgegnn_model.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_log.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/micro/system_setup.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace {

alignas(16) uint8_t tensor_arena[EDGEGNN_TENSOR_ARENA_SIZE];

// Fills one input. Replace with the graph to classify: the artifact has a fixed
// capacity (node count), so pad smaller graphs with zeros (and a zero mask).
// An int8 input holds round(x / scale) + zero_point; this writes real 0.0.
void FillInput(TfLiteTensor* input) {
  switch (input->type) {
    case kTfLiteInt8:
      memset(input->data.int8, static_cast<int8_t>(input->params.zero_point),
             input->bytes);
      break;
    default:
      memset(input->data.raw, 0, input->bytes);
      break;
  }
}

// Prints the predicted class (argmax over the last axis) of the first nodes.
void PrintPredictions(const TfLiteTensor* output) {
  const int rank = output->dims->size;
  const int classes = rank > 0 ? output->dims->data[rank - 1] : 1;
  const int rows = classes > 0 ? static_cast<int>(output->bytes) /
                                     (classes * (output->type == kTfLiteInt8 ? 1 : 4))
                               : 0;
  for (int row = 0; row < rows && row < 8; ++row) {
    int best = 0;
    for (int c = 1; c < classes; ++c) {
      const int i = row * classes + c, j = row * classes + best;
      const bool better = output->type == kTfLiteInt8
                              ? output->data.int8[i] > output->data.int8[j]
                              : output->data.f[i] > output->data.f[j];
      if (better) best = c;
    }
    MicroPrintf("node %d: class %d", row, best);
  }
}

}  // namespace

int main() {
  tflite::InitializeTarget();

  const tflite::Model* model = tflite::GetModel(EDGEGNN_MODEL_DATA);
  if (model->version() != TFLITE_SCHEMA_VERSION) {
    MicroPrintf("model schema version %d, expected %d",
                static_cast<int>(model->version()), TFLITE_SCHEMA_VERSION);
    return 1;
  }

  static tflite::MicroMutableOpResolver<EDGEGNN_NUM_OPS> resolver;
  EDGEGNN_REGISTER_OPS(resolver);

  static tflite::MicroInterpreter interpreter(model, resolver, tensor_arena,
                                              EDGEGNN_TENSOR_ARENA_SIZE);
  if (interpreter.AllocateTensors() != kTfLiteOk) {
    MicroPrintf("AllocateTensors failed: EDGEGNN_TENSOR_ARENA_SIZE too small?");
    return 1;
  }

  for (size_t i = 0; i < interpreter.inputs_size(); ++i) {
    FillInput(interpreter.input(i));
  }
  if (interpreter.Invoke() != kTfLiteOk) {
    MicroPrintf("Invoke failed");
    return 1;
  }
  PrintPredictions(interpreter.output(0));
  MicroPrintf("arena used: %d of %d bytes",
              static_cast<int>(interpreter.arena_used_bytes()),
              EDGEGNN_TENSOR_ARENA_SIZE);
  return 0;
}
