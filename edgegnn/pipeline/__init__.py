"""Pipelines: YAML files of stages, validated whole, run with caching and resume.

Stage kinds are plug-ins (`edgegnn.pipeline.registry`); reading and checking a pipeline
file imports no TensorFlow.
"""
from edgegnn.pipeline.config import Pipeline, PipelineError, load, parse
from edgegnn.pipeline.plan import plan
from edgegnn.pipeline.runner import Runner

__all__ = ["Pipeline", "PipelineError", "load", "parse", "Runner", "plan"]
