package org.tensorflow.lite;

import java.io.File;
import java.nio.ByteBuffer;
import java.util.Map;

/** Compile-check stub of LiteRT's Interpreter (the methods EdgeGnnModel calls); bodies throw. */
public final class Interpreter implements AutoCloseable {
  /** Compile-check stub of Interpreter.Options. */
  public static class Options {
    public Options() {}
    public Options setNumThreads(int numThreads) { throw new UnsupportedOperationException(); }
    public Options setUseXNNPACK(boolean useXNNPACK) { throw new UnsupportedOperationException(); }
    public Options addDelegate(Delegate delegate) { throw new UnsupportedOperationException(); }
  }

  public Interpreter(File modelFile, Options options) { throw new UnsupportedOperationException(); }
  public Interpreter(ByteBuffer byteBuffer, Options options) {
    throw new UnsupportedOperationException();
  }
  public Tensor getInputTensorFromSignature(String inputName, String signatureKey) {
    throw new UnsupportedOperationException();
  }
  public Tensor getOutputTensorFromSignature(String outputName, String signatureKey) {
    throw new UnsupportedOperationException();
  }
  public void resizeInput(int idx, int[] dims) { throw new UnsupportedOperationException(); }
  public void allocateTensors() { throw new UnsupportedOperationException(); }
  public void runSignature(Map<String, Object> inputs, Map<String, Object> outputs,
                           String signatureKey) {
    throw new UnsupportedOperationException();
  }
  @Override
  public void close() { throw new UnsupportedOperationException(); }
}
