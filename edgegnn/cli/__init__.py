"""The `edgegnn` command line. Each command is a thin shell over a library call.

One module per command (or family of commands); importing them registers them on
`main`. Commands import the library lazily so `--help` and input errors stay fast.
"""
from edgegnn.cli.base import main
from edgegnn.cli import (artifact_commands, convert_command, deploy_commands,  # noqa: F401
                         pipeline_commands, train_command)

__all__ = ["main"]
