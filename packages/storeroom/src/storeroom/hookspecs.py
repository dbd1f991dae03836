"""Hook specifications every storeroom plugin may implement.

A plugin module (the target of a ``[project.entry-points.storeroom]`` entry) defines
functions with these names decorated with :data:`storeroom.hookimpl`. Each
``register`` hook returns classes that declare ``PLUGIN_NAME``; a sync class and
its async twin may share a name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from storeroom._markers import hookspec

if TYPE_CHECKING:
    from storeroom.schema import SchemaProvider

__all__ = [
    "storeroom_register_commands",
    "storeroom_register_databases",
    "storeroom_register_object_storages",
    "storeroom_register_schema_providers",
]


@hookspec
def storeroom_register_databases() -> list[type[Any]]:
    """Return database backend classes (``DatabaseInterface`` / ``AsyncDatabaseInterface`` subclasses)."""
    raise NotImplementedError


@hookspec
def storeroom_register_object_storages() -> list[type[Any]]:
    """Return object storage classes (``ObjectStorage`` / ``AsyncObjectStorage`` subclasses)."""
    raise NotImplementedError


@hookspec
def storeroom_register_schema_providers() -> list[type[SchemaProvider]]:
    """Return ``SchemaProvider`` classes, one per SQL dialect (``PLUGIN_NAME`` = dialect name)."""
    raise NotImplementedError


@hookspec
def storeroom_register_commands(cli: Any) -> None:
    """Add click commands or groups to the ``storeroom`` CLI group passed as ``cli``."""
