package org.tensorflow.lite;

import java.nio.ByteBuffer;

/** Compile-check stub of LiteRT's Tensor (the methods EdgeGnnModel calls). */
public interface Tensor {
  int[] shape();
  int[] shapeSignature();
  int index();
  int numBytes();
  int numElements();
  ByteBuffer asReadOnlyBuffer();
}
