"""The `edgegnn` command line. Each command is a thin shell over a library call.

One module per command (or family of commands); importing them registers them on
`main`. Commands import the library lazily so `--help` and input errors stay fast.
`console` is the installed `edgegnn` executable (`main` plus the native-log filter).
"""
from edgegnn.cli.base import console, main
from edgegnn.cli import (artifact_commands, convert_command, deploy_commands,  # noqa: F401
                         kit_command, pipeline_commands, train_command)

__all__ = ["console", "main"]
