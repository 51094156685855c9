"""Every layer validates its options in __init__, naming the bad option."""
import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import pytest
import tensorflow as tf

from edgegnn import layers as gl


@pytest.mark.parametrize("factory,words", [
    (lambda: gl.GCNConv(4, activation="swish"), ["activation", "'swish'"]),
    (lambda: gl.SAGEConv(4, activation="gelu"), ["activation", "'gelu'"]),
    (lambda: gl.MessagePassing(4, activation="mish"), ["activation", "'mish'"]),
    (lambda: gl.GATConv(4, activation="Relu7"), ["activation", "'Relu7'"]),
    (lambda: gl.MessagePassing(4, attention="dot"), ["attention", "'dot'"]),
    (lambda: gl.EdgeAttention("scaled-dot"), ["attention", "'scaled-dot'"]),
    (lambda: gl.GATConv(4, attention="cos"), ["attention"]),
    (lambda: gl.GCNConv(0), ["units", "0"]),
    (lambda: gl.SAGEConv(-3), ["units", "-3"]),
    (lambda: gl.GINConv(0), ["units", "0"]),
    (lambda: gl.GATConv(0), ["units", "0"]),
    (lambda: gl.MessagePassing(2.5), ["units", "2.5"]),
    (lambda: gl.MessagePassing(4, num_heads=0), ["num_heads", "0"]),
    (lambda: gl.EdgeConv(0), ["units", "0"]),
    (lambda: gl.EdgeConv(4, k=0), ["k", "0"]),
    (lambda: gl.MessagePassing(4, attention_dropout=1.5), ["attention_dropout", "1.5"]),
    (lambda: gl.GATConv(4, attention_dropout=-0.1), ["attention_dropout", "-0.1"]),
    (lambda: gl.MessagePassing(4, attention_dropout=1.0), ["attention_dropout", "1.0"]),
    (lambda: gl.GraphReadout("median"), ["reduce", "'median'"]),
    (lambda: gl.Membership("edges"), ["membership", "'edges'"]),
])
def test_invalid_options_raise_in_init(factory, words):
  with pytest.raises(ValueError) as info:
    factory()
  message = str(info.value)
  for word in words:
    assert word in message, message
