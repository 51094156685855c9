"""GATConv: graph attention of Velickovic et al. (ICLR 2018)."""
from __future__ import annotations

from edgegnn import _keras_env  # noqa: F401
import tensorflow as tf

from edgegnn.layers.message_passing import MessagePassing


@tf.keras.utils.register_keras_serializable(package="edgegnn")
class GATConv(MessagePassing):
  r"""Graph attention: `MessagePassing` with the "gat" attention kind.

  Per head h, with z_s = W_h x_s:

    e_ts     = LeakyReLU_0.2( a_t . z_t + a_s . z_s )
    alpha_ts = softmax_{s in N(t) u {t}} e_ts          (dropout on alpha in training)
    h'_t     = act( ||_h sum_s alpha_ts z_s + b )        (heads averaged if not concat)

  Takes every argument of `MessagePassing` except `attention`.
  """

  def __init__(self, units: int, num_heads: int = 8, **kwargs):
    attention = kwargs.pop("attention", "gat")
    if attention != "gat":
      raise ValueError(f"GATConv always uses attention='gat', got attention={attention!r}; "
                       "use MessagePassing for other kinds.")
    super().__init__(units, num_heads=num_heads, attention="gat", **kwargs)

  def get_config(self):
    config = super().get_config()
    del config["attention"]
    return config
