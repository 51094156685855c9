"""Shared fixtures. Importing edgegnn first makes tf.keras resolve to Keras 2."""
import edgegnn  # noqa: F401
import pytest

from edgegnn import data


@pytest.fixture(scope="session")
def cora():
  return data.load("cora")


@pytest.fixture(scope="session")
def mutag():
  return data.load("mutag")
