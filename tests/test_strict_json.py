"""strict_json: non-finite floats become null at any depth; finite values and types stay."""
import json
import math

import pytest

from edgegnn import strict_json


def test_non_finite_floats_become_null_and_the_rest_is_unchanged():
  value = {"a": float("nan"), "b": [1.5, float("inf"), {"c": -float("inf"), "d": 2}],
           "e": (0.25, "x", None, True)}
  text = strict_json.dumps(value, indent=1)
  assert json.loads(text) == {"a": None, "b": [1.5, None, {"c": None, "d": 2}],
                              "e": [0.25, "x", None, True]}
  assert "NaN" not in text and "Infinity" not in text
  assert math.isnan(value["a"])                  # the input is not modified


def test_json_still_refuses_what_it_cannot_encode():
  with pytest.raises(TypeError):
    strict_json.dumps({"a": object()})
