"""Argument parsing every command shares: ``module:attr`` targets and ages such as ``90d``.

Plugin commands (``storeroom schema``, ``storeroom orm prune``, ``storeroom gc``) name their
models the same way and read ages the same way, so a user learns one syntax.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
import sys
from pathlib import Path
from typing import Any

import click

from storeroom.errors import ConfigurationError, StoreroomError

__all__ = ["AGE", "AgeType", "load_target", "parse_age"]

_AGE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_age(text: str) -> dt.timedelta:
    """``90d``, ``12h``, ``30m``, ``45s``, ``2w`` -> a timedelta; anything else is a ``ConfigurationError``."""
    match = _AGE.match(text)
    if match is None:
        raise ConfigurationError(f"{text!r} is not an age: use a number and a unit, such as 90d, 12h, 30m, 45s or 2w")
    return dt.timedelta(**{_UNITS[match[2]]: int(match[1])})


class AgeType(click.ParamType[dt.timedelta]):
    """A click parameter type for :func:`parse_age` (``--older-than 90d``, ``--grace 24h``)."""

    name = "age"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.timedelta:
        if isinstance(value, dt.timedelta):
            return value
        try:
            return parse_age(str(value))
        except ConfigurationError as exc:
            self.fail(str(exc), param, ctx)


#: the shared instance: ``click.option("--grace", type=AGE)``
AGE = AgeType()


def load_target(
    spec: str, *, error: type[StoreroomError] = ConfigurationError, what: str = "models or a MetaData"
) -> Any:
    """``package.module:attr`` (dotted attributes allowed) -> the object; the current folder is importable.

    ``error`` is the exception raised for a bad spec, so each command keeps its own error family.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise error(f"TARGET must be 'module:attr' naming {what}, got {spec!r}")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise error(f"cannot import {module_name!r} for TARGET {spec!r}: {exc}") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise error(f"{module_name!r} has no attribute {attr!r} (TARGET {spec!r})") from None
    return obj
