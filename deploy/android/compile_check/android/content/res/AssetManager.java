package android.content.res;

import java.io.InputStream;

/** Compile-check stub of Android's AssetManager (the methods EdgeGnnModel calls). */
public final class AssetManager {
  public InputStream open(String fileName) { throw new UnsupportedOperationException(); }
  public AssetFileDescriptor openFd(String fileName) { throw new UnsupportedOperationException(); }
}
