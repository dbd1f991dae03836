"""The ``storeroom`` command line: ``plugins``, ``config``, ``health`` and plugin commands.

Plugins add commands through the ``storeroom_register_commands(cli)`` hook and use
:data:`pass_state` to receive the :class:`CliState` (``--settings`` / ``--env``);
:func:`progress` shows a progress bar on a terminal and stays silent when piped.
"""

from storeroom.cli._output import StoreroomCliError, progress
from storeroom.cli._state import CliState, pass_state
from storeroom.cli.app import StoreroomGroup, cli, create_cli, main

__all__ = [
    "CliState",
    "StoreroomCliError",
    "StoreroomGroup",
    "cli",
    "create_cli",
    "main",
    "pass_state",
    "progress",
]
