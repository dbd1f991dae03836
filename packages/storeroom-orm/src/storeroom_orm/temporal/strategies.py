"""The builder class of each temporal strategy (``builder_for`` picks it for a model)."""

from __future__ import annotations

from typing import Any

from storeroom.errors import ConfigurationError

__all__ = ["builder_class"]


def builder_class(temporal: str) -> type[Any]:
    if temporal == "copy_on_change":
        from storeroom_orm.temporal.audit import AuditBuilder

        return AuditBuilder
    if temporal == "scd2":
        from storeroom_orm.temporal.scd2 import Scd2Builder

        return Scd2Builder
    raise ConfigurationError(f"unknown temporal strategy {temporal!r}")
