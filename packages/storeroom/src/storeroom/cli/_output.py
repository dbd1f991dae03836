"""Terminal-aware output: rich tables and colour on a terminal, plain columns when piped.

Scripts parse what ``storeroom`` prints, so anything that is not a terminal gets
aligned plain text (or JSON with ``--json``) with no ANSI codes, spinners or boxes.
Rich is imported only when a command actually renders to a terminal.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import click

from storeroom.redaction import redact

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "STATUS_STYLES",
    "Cell",
    "StoreroomCliError",
    "echo_json",
    "is_terminal",
    "print_table",
    "progress",
    "stdout_console",
    "styled",
    "warn",
    "working",
]

#: a table cell: plain text, or ``(text, rich style)`` - the style only shows on a terminal
Cell = str | tuple[str, str]

STATUS_STYLES = {"healthy": "green", "degraded": "yellow", "unhealthy": "bold red"}


class StoreroomCliError(click.ClickException):
    """A storeroom error shown as one red line on stderr; exit code 2, no traceback."""

    exit_code = 2

    def __init__(self, error: BaseException) -> None:
        text = " ".join(redact(str(error)).split()) or "(no message)"
        super().__init__(f"{type(error).__name__}: {text}")

    def show(self, file: Any = None) -> None:
        click.secho(f"Error: {self.format_message()}", file=file, err=file is None, fg="red")


def stdout_console() -> Console:
    """A rich console on the current ``sys.stdout`` (which ``CliRunner`` swaps in tests)."""
    from rich.console import Console

    return Console(file=sys.stdout, highlight=False, soft_wrap=False)


def is_terminal() -> bool:
    return stdout_console().is_terminal


def styled(text: str, style: str) -> Cell:
    return (text, style)


def _text(cell: Cell) -> str:
    return cell if isinstance(cell, str) else cell[0]


def print_table(
    columns: Sequence[str], rows: Sequence[Sequence[Cell]], *, title: str | None = None, empty: str = "(none)"
) -> None:
    """A rich table on a terminal; otherwise a header line and space-aligned columns."""
    console = stdout_console()
    if console.is_terminal:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=title, title_justify="left", header_style="bold")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(Text(c) if isinstance(c, str) else Text(c[0], style=c[1]) for c in row))
        if rows:
            console.print(table)
        else:
            console.print(f"{title + ': ' if title else ''}{empty}", style="dim")
        return
    if title:
        click.echo(f"# {title}")
    if not rows:
        click.echo(empty)
        return
    texts = [[_text(c).replace("\n", " ") for c in row] for row in rows]
    header = [c.upper() for c in columns]
    widths = [max(len(header[i]), *(len(r[i]) for r in texts)) for i in range(len(columns))]
    for line in [header, *texts]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


def echo_json(data: Any) -> None:
    """Plain, indented JSON on stdout - never coloured, so it is always parseable."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def warn(message: str) -> None:
    click.secho(f"Warning: {redact(message)}", err=True, fg="yellow")


@contextlib.contextmanager
def working(message: str) -> Iterator[None]:
    """A spinner while slow work runs - on a terminal only; piped output stays quiet."""
    console = stdout_console()
    if not console.is_terminal:
        yield
        return
    with console.status(message):
        yield


@contextlib.contextmanager
def progress(description: str, total: float | None = None) -> Iterator[Callable[[float], None]]:
    """A progress bar for long work (plugin commands such as ``gc``); silent when piped.

    Yields ``advance(amount)``; with ``total=None`` the bar is indeterminate::

        with progress("Scanning objects", total=len(keys)) as advance:
            for key in keys:
                ...
                advance(1)
    """
    console = stdout_console()
    if not console.is_terminal:

        def ignore(amount: float) -> None:
            pass

        yield ignore
        return
    from rich.progress import Progress

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(description, total=total)

        def advance(amount: float) -> None:
            bar.advance(task, amount)

        yield advance
