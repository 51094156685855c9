package android.content.res;

import java.io.Closeable;
import java.io.FileDescriptor;

/** Compile-check stub of Android's AssetFileDescriptor (the methods EdgeGnnModel calls). */
public class AssetFileDescriptor implements Closeable {
  public FileDescriptor getFileDescriptor() { throw new UnsupportedOperationException(); }
  public long getStartOffset() { throw new UnsupportedOperationException(); }
  public long getDeclaredLength() { throw new UnsupportedOperationException(); }
  @Override
  public void close() { throw new UnsupportedOperationException(); }
}
