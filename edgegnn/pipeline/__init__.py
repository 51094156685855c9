"""Pipelines: YAML files of stages, validated whole, run with caching and resume."""
from edgegnn.pipeline.config import Pipeline, PipelineError, load, parse
from edgegnn.pipeline.stages import ExportStage, TrainStage
from edgegnn.pipeline.runner import Runner, plan

__all__ = ["ExportStage", "Pipeline", "PipelineError", "TrainStage", "load", "parse", "Runner",
           "plan"]
