"""What the root ``storeroom`` options decide, handed to every command (plugins' too)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from storeroom.plugins import PluginManager
    from storeroom.room import Storeroom

__all__ = ["CliState", "pass_state"]


@dataclass(frozen=True, slots=True)
class CliState:
    """The settings files, environment and plugin manager chosen on the command line.

    Plugin commands receive it with :data:`pass_state` and call :meth:`open_room`, so
    ``--settings`` and ``--env`` mean the same thing for every command.
    """

    settings_files: tuple[str, ...] | None
    environment: str | None
    plugins: PluginManager

    @property
    def environment_name(self) -> str:
        """The Dynaconf environment in effect (``--env``, else ``STOREROOM_ENV``, else development)."""
        from storeroom.config.loader import ENVVAR_PREFIX

        return (self.environment or os.environ.get(f"{ENVVAR_PREFIX}_ENV") or "development").lower()

    def files(self) -> list[tuple[str, bool]]:
        """The settings files that will be read, each with whether it exists."""
        from storeroom.config.loader import DEFAULT_SETTINGS_FILES, ENVVAR_PREFIX

        if self.settings_files is not None:
            files = list(self.settings_files)
        elif env := os.environ.get(f"{ENVVAR_PREFIX}_SETTINGS_FILES"):
            files = [p.strip() for p in env.replace(";", ",").split(",") if p.strip()]
        else:
            files = list(DEFAULT_SETTINGS_FILES)
        return [(f, Path(f).exists()) for f in files]

    def load_settings(self, *, embedded_default: bool = True, strict: bool = True) -> dict[str, Any]:
        """Merged settings (files, environment, ``STOREROOM_*`` variables), not yet validated.

        ``strict=False`` keeps unknown namespaces instead of raising (``config --no-validate``).
        """
        from storeroom.config.loader import load_settings

        return load_settings(
            self.settings_files, environment=self.environment, embedded_default=embedded_default, strict=strict
        )

    def open_room(self) -> Storeroom:
        """A validated :class:`~storeroom.Storeroom`; use it as a context manager."""
        from storeroom.room import Storeroom

        return Storeroom(self.load_settings(), plugins=self.plugins)


#: decorator passing the :class:`CliState` to a click command as its first argument
pass_state = click.make_pass_decorator(CliState)
