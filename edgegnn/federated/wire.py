"""What crosses the network: a loopback TCP relay that records both directions.

    with RecordingRelay(listen=("127.0.0.1", 9093), upstream=("127.0.0.1", 9092)) as relay:
      ...  # clients connect to 9093, the server listens on 9092
    relay.sent_upstream     # bytes clients sent towards the server
    relay.sent_downstream   # bytes the server sent towards clients

`contains_array(stream, array)` tells whether an array's raw bytes occur in a recorded
stream (Flower serialises numpy arrays with their raw buffer, uncompressed), which lets
a test prove that model weights do cross and that a client's features, labels and edge
lists do not.
"""
from __future__ import annotations

import socket
import threading
from typing import Optional

import numpy as np


class RecordingRelay:
  """Forwards TCP connections from `listen` to `upstream`, recording every byte."""

  def __init__(self, listen: tuple[str, int], upstream: tuple[str, int]):
    self.listen = listen
    self.upstream = upstream
    self._up = bytearray()
    self._down = bytearray()
    self._lock = threading.Lock()
    self._server: Optional[socket.socket] = None
    self._threads: list[threading.Thread] = []
    self._closing = threading.Event()
    self.connections = 0

  @property
  def sent_upstream(self) -> bytes:
    with self._lock:
      return bytes(self._up)

  @property
  def sent_downstream(self) -> bytes:
    with self._lock:
      return bytes(self._down)

  def _pump(self, source: socket.socket, sink: socket.socket, record: bytearray) -> None:
    try:
      while not self._closing.is_set():
        chunk = source.recv(65536)
        if not chunk:
          break
        with self._lock:
          record.extend(chunk)
        sink.sendall(chunk)
    except OSError:
      pass
    finally:
      for s in (source, sink):
        try:
          s.shutdown(socket.SHUT_RDWR)
        except OSError:
          pass

  def _accept(self) -> None:
    while not self._closing.is_set():
      try:
        client, _ = self._server.accept()
      except OSError:
        return
      try:
        server = socket.create_connection(self.upstream, timeout=10)
        server.settimeout(None)
      except OSError:
        client.close()
        continue
      self.connections += 1
      for source, sink, record in ((client, server, self._up), (server, client, self._down)):
        thread = threading.Thread(target=self._pump, args=(source, sink, record), daemon=True)
        thread.start()
        self._threads.append(thread)

  def __enter__(self) -> "RecordingRelay":
    self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    self._server.bind(self.listen)
    self._server.listen(64)
    thread = threading.Thread(target=self._accept, daemon=True)
    thread.start()
    self._threads.append(thread)
    return self

  def __exit__(self, *exc) -> None:
    self._closing.set()
    if self._server is not None:
      self._server.close()


def contains_array(stream: bytes, array: np.ndarray, min_bytes: int = 64) -> bool:
  """Whether the raw bytes of `array` (its first `min_bytes` at least) occur in `stream`.

  The whole buffer is searched when it is short; otherwise a `min_bytes`-long window from
  its middle, which cannot occur by chance for float data.
  """
  raw = np.ascontiguousarray(array).tobytes()
  if len(raw) <= min_bytes:
    return raw in stream
  start = (len(raw) - min_bytes) // 2
  return raw[start:start + min_bytes] in stream
