"""The schema-provider interface in core: typed registry, no SQLAlchemy at import."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from storeroom import hookimpl
from storeroom.errors import PluginError
from storeroom.plugins import PluginManager
from storeroom.schema import Catalog, ColumnInfo, SchemaProvider, Scratch, TableInfo


class DummyProvider(SchemaProvider):
    PLUGIN_NAME = "dummydb"

    def default_schema(self, conn: Any) -> str:
        return "main"

    def read_catalog(self, conn: Any, schemas: Any, tables: Any = None) -> Catalog:
        return Catalog(frozenset(schemas), {("main", "t"): TableInfo("main", "t", (ColumnInfo("id", "int", False),))})

    @contextlib.contextmanager
    def scratch(self, conn: Any, schemas: Any) -> Iterator[Scratch]:
        yield Scratch(conn, {None: "scratch"}, {"scratch": "main"})

    def table_stats(self, conn: Any, tables: Any) -> dict[Any, Any]:
        return {}

    def columns_with_nulls(self, conn: Any, columns: Any) -> set[Any]:
        return set()

    def same_values(self, conn: Any, pairs: Any) -> list[bool]:
        return [a == b for a, b, _ in pairs]

    @contextlib.contextmanager
    def apply_lock(self, conn: Any, key: str, timeout: float) -> Iterator[None]:
        yield


class Plugin:
    @staticmethod
    @hookimpl
    def storeroom_register_schema_providers() -> list[type[Any]]:
        return [DummyProvider]


class NotAProvider:
    PLUGIN_NAME = "oops"


class BadPlugin:
    @staticmethod
    @hookimpl
    def storeroom_register_schema_providers() -> list[type[Any]]:
        return [NotAProvider]


def test_a_provider_registers_under_its_dialect_name() -> None:
    plugins = PluginManager(load_entry_points=False, disabled=set())
    plugins.register(Plugin(), name="dummy")
    assert plugins.schema_providers.get("dummydb") is DummyProvider
    catalog = DummyProvider().read_catalog(None, ["main"])
    assert catalog.tables[("main", "t")].column("id") == ColumnInfo("id", "int", False)
    assert catalog.tables[("main", "t")].key == ("main", "t")


def test_the_registry_refuses_what_is_not_a_schema_provider() -> None:
    plugins = PluginManager(load_entry_points=False, disabled=set())
    with pytest.raises(PluginError, match="not a subclass of SchemaProvider"):
        plugins.register(BadPlugin(), name="bad")


def test_the_interface_is_abstract_and_the_optional_hook_does_nothing() -> None:
    with pytest.raises(TypeError):
        SchemaProvider()  # type: ignore[abstract]
    assert DummyProvider().begin_apply(None, 1.0, None) is None
    assert (DummyProvider.transactional_ddl, DummyProvider.concurrent_indexes, DummyProvider.batch_ddl) == (
        True,
        False,
        True,
    )
