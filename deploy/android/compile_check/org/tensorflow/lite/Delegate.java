package org.tensorflow.lite;

/** Compile-check stub of LiteRT's Delegate. */
public interface Delegate {
  long getNativeHandle();
}
