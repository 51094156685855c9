"""GraphReadout: golden sums, means and maxima per graph."""
import edgegnn  # noqa: F401  (Keras 2 as tf.keras, before TensorFlow is imported)
import numpy as np
import pytest
import tensorflow as tf

from edgegnn import layers as gl

from .common import (MEMBERSHIP, STATES, assert_close)


_SUM = np.array([[4.0, 5.0, 3.5], [2.5, 8.0, 2.0], [0.0, 0.0, 0.0]])
_MEAN = np.array([[4 / 3, 5 / 3, 3.5 / 3], [1.25, 4.0, 1.0], [0.0, 0.0, 0.0]])
_MAX = np.array([[3.0, 4.0, 2.0], [2.0, 6.0, 2.0], [0.0, 0.0, 0.0]])


@pytest.mark.parametrize("reduce,expected", [
    ("sum", _SUM), ("mean", _MEAN), ("max", _MAX),
    ("mean+max", np.concatenate([_MEAN, _MAX], 1))])
def test_graph_readout_golden(reduce, expected):
  assert_close(gl.GraphReadout(reduce)((STATES, MEMBERSHIP)), expected)
