"""The ``storeroom`` root command group.

Plugin commands are added lazily - the first time click lists or resolves a
command - so ``storeroom --version`` stays cheap and one plugin whose command hook
fails is reported as a warning instead of breaking the CLI for everyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from storeroom._version import __version__
from storeroom.cli._output import StoreroomCliError, warn
from storeroom.cli._state import CliState
from storeroom.errors import StoreroomError

if TYPE_CHECKING:
    from storeroom.plugins import PluginManager

__all__ = ["StoreroomGroup", "cli", "create_cli", "main"]


class StoreroomGroup(click.Group):
    """A click group that pulls commands from plugins and turns storeroom errors into exit 2."""

    def __init__(self, *args: Any, plugins: PluginManager | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plugins = plugins
        self._plugin_commands_loaded = False

    @property
    def plugins(self) -> PluginManager:
        """The plugin manager given to :func:`create_cli`, else the process-wide one."""
        if self._plugins is None:
            from storeroom.plugins import get_plugin_manager

            self._plugins = get_plugin_manager()
        return self._plugins

    def load_plugin_commands(self) -> None:
        """Call every plugin's ``storeroom_register_commands(cli)`` once, each in isolation.

        A plugin that raises, or that replaces a built-in command, is reported on stderr
        and the built-in is kept.
        """
        if self._plugin_commands_loaded:
            return
        self._plugin_commands_loaded = True
        hook = self.plugins.hooks.hook.storeroom_register_commands
        for impl in hook.get_hookimpls():  # registration order
            before = dict(self.commands)
            try:
                impl.function(**{arg: self for arg in impl.argnames if arg == "cli"})
            except Exception as exc:  # noqa: BLE001 - one plugin must not break the CLI
                warn(f"plugin {impl.plugin_name!r} could not add its commands: {type(exc).__name__}: {exc}")
            for name, command in before.items():
                if self.commands.get(name) is not command:
                    warn(f"plugin {impl.plugin_name!r} tried to replace the {name!r} command; kept the original")
                    self.commands[name] = command

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.load_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self.load_plugin_commands()
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except StoreroomError as exc:
            raise StoreroomCliError(exc) from None


def create_cli(plugins: PluginManager | None = None) -> StoreroomGroup:
    """Build the ``storeroom`` group; tests and embedding apps pass their own plugin manager."""
    from storeroom.cli.config_cmd import config_command
    from storeroom.cli.health_cmd import health_command
    from storeroom.cli.plugins_cmd import plugins_command
    from storeroom.cli.uow_cmd import uow_group

    @click.group(
        cls=StoreroomGroup,
        plugins=plugins,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    )
    @click.option(
        "--settings",
        "settings_files",
        metavar="FILE",
        multiple=True,
        help="Settings file (TOML/YAML/JSON); repeat to merge several. "
        "Default: $STOREROOM_SETTINGS_FILES, else config/settings.toml and config/.secrets.toml.",
    )
    @click.option(
        "--env", "environment", metavar="ENV", help="Settings environment. Default: $STOREROOM_ENV, else development."
    )
    @click.version_option(__version__, "-V", "--version", prog_name="storeroom")
    @click.pass_context
    def root(ctx: click.Context, settings_files: tuple[str, ...], environment: str | None) -> None:
        """storeroom - databases, object storage and policies behind one configuration."""
        group = ctx.command
        assert isinstance(group, StoreroomGroup)
        ctx.obj = CliState(settings_files or None, environment, group.plugins)

    assert isinstance(root, StoreroomGroup)
    root.add_command(plugins_command)
    root.add_command(config_command)
    root.add_command(health_command)
    root.add_command(uow_group)
    return root


cli = create_cli()


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point (``storeroom`` and ``python -m storeroom``)."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="storeroom")
