"""The foundation issue's accuracy targets: mean over 5 seeds of the Keras model's test
accuracy, for the cases and protocols of `edgegnn.training.accuracy_targets` (the same
ones `tools/accuracy_targets.py` measures for docs/foundation.md).

Slow (about two hours on 2 shared cores): run with `.venv/bin/python -m pytest -m slow`.
"""
import pytest

from edgegnn.training import accuracy_targets

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", list(accuracy_targets.CASES))
def test_accuracy_target_five_seeds(name):
  case = accuracy_targets.get(name)
  outcome = accuracy_targets.run_case(case, seeds=range(5))
  figures = {key: outcome[key] for key in ("mean", "std", "last_epoch", "paper") if key in outcome}
  assert outcome["mean"] >= case.target, (case.metric, figures)
