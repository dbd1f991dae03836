"""Two named connections on one database: a least-privilege ``app`` role and an owning ``service`` role.

Each entry under ``databases`` is its own pool with its own credentials; calls are
routed by name. The roles are created here (unique names) through the superuser URL
and dropped afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from storeroom.errors import QueryError, TransactionError
from storeroom.room import Storeroom
from storeroom_postgres import PostgresDatabase

from .conftest import unique


@pytest.fixture
def roles(postgres_url: str) -> Iterator[dict[str, Any]]:
    """A schema owned by a ``service`` role, with an ``app`` role that may only read and write rows."""
    suffix = unique("r")
    service, app, schema = f"svc_{suffix}", f"app_{suffix}", f"sch_{suffix}"
    passwords = {service: f"Svc-Pw-{suffix}", app: f"App-Pw-{suffix}"}
    with PostgresDatabase(postgres_url, name="superuser") as admin:
        database = admin.fetch_value("SELECT current_database()")
        admin.execute(f"CREATE ROLE {service} LOGIN PASSWORD '{passwords[service]}'")
        admin.execute(f"CREATE ROLE {app} LOGIN PASSWORD '{passwords[app]}'")
        admin.execute(f"CREATE SCHEMA {schema} AUTHORIZATION {service}")
        admin.execute(f"GRANT USAGE ON SCHEMA {schema} TO {app}")
        admin.execute(f"REVOKE CREATE ON SCHEMA public FROM {app}")  # PG < 15 grants it to PUBLIC
        # rows only, on every table the service role creates in the schema
        admin.execute(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {service} IN SCHEMA {schema} "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}"
        )
        admin.execute(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {service} IN SCHEMA {schema} GRANT USAGE ON SEQUENCES TO {app}"
        )
        base = make_url(postgres_url)
        urls = {
            name: base.set(username=name, password=passwords[name]).render_as_string(hide_password=False)
            for name in (service, app)
        }
        try:
            yield {"service": service, "app": app, "schema": schema, "urls": urls, "database": database}
        finally:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename IN (:a, :b)",
                {"a": service, "b": app},
            )
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            for role in (app, service):
                admin.execute(f"DROP OWNED BY {role}")
                admin.execute(f"DROP ROLE IF EXISTS {role}")


def _settings(roles: dict[str, Any]) -> dict[str, Any]:
    """Two entries: ``app`` as a URL, ``service`` as parts; both put the schema on the search path."""
    schema = roles["schema"]
    return {
        "databases": {
            "app": {
                "backend": "postgres",
                "url": f"{roles['urls'][roles['app']]}?options=-c%20search_path%3D{schema}",
                "default": True,
                "pool": {"size": 4, "max_overflow": 2},
                "statement_timeout": 5,
                "application_name": "shop-app",
            },
            "service": {
                "backend": "postgres",
                "host": "127.0.0.1",
                "port": make_url(roles["urls"][roles["service"]]).port or 5432,
                "user": roles["service"],
                "password": make_url(roles["urls"][roles["service"]]).password,
                "database": roles["database"],
                "options": {"options": f"-c search_path={schema}"},
                "pool": {"size": 1, "max_overflow": 0},
                "application_name": "shop-migrations",
            },
        }
    }


def test_app_and_service_roles(roles: dict[str, Any]) -> None:
    settings = _settings(roles)
    with Storeroom.from_settings(settings, embedded_default=False) as room:
        app, service = room.database("app"), room.database("service")
        assert room.database() is app  # the default
        assert app.fetch_value("SELECT current_user") == roles["app"]
        assert service.fetch_value("SELECT current_user") == roles["service"]
        assert app.pool_info().size == 4 and service.pool_info().size == 1  # one pool each

        # the service role owns the schema: DDL works, transactionally
        with service.transaction() as tx:
            tx.execute("CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL, qty int)")
            tx.execute("CREATE INDEX orders_item ON orders (item)")

        # the app role reads and writes rows, bulk COPY included
        assert app.execute("INSERT INTO orders (item, qty) VALUES (:item, :qty)", {"item": "pen", "qty": 2}) == 1
        assert app.bulk_insert("orders", [{"item": f"i{i}", "qty": i} for i in range(100)]) == 100
        assert app.execute("UPDATE orders SET qty = qty + 1 WHERE item = :item", {"item": "pen"}) == 1
        assert app.execute("DELETE FROM orders WHERE qty > :q", {"q": 50}) == 49
        assert app.fetch_value("SELECT count(*) FROM orders") == 52

        # ... but cannot change the schema
        for ddl in (
            "CREATE TABLE sneaky (id int)",
            "DROP TABLE orders",
            "ALTER TABLE orders ADD COLUMN note text",
            "TRUNCATE orders",
            "CREATE TABLE public.sneaky (id int)",
        ):
            with pytest.raises(QueryError, match=r"permission denied|must be owner") as caught:
                app.execute(ddl)
            assert caught.value.statement == ddl
            assert roles["urls"][roles["app"]] not in str(caught.value)

        # the service role can drop what it owns
        service.execute("DROP TABLE orders")
        assert service.fetch_value("SELECT to_regclass('orders') IS NULL") is True

        # routed by name, pinned inside a transaction
        with app.transaction(), pytest.raises(TransactionError, match="service"):
            service.fetch_value("SELECT 1")

        health = room.health()
        assert {k: v.status.value for k, v in health.items()} == {
            "databases.app": "healthy",
            "databases.service": "healthy",
        }
        shown = repr(app) + repr(service) + str({k: v.to_dict() for k, v in health.items()})
        for password in (make_url(u).password for u in roles["urls"].values()):
            assert password and password not in shown


def test_async_roles(roles: dict[str, Any]) -> None:
    settings = _settings(roles)

    async def main() -> None:
        async with Storeroom.from_settings(settings, embedded_default=False) as room:
            app, service = room.async_database("app"), room.async_database("service")
            await service.execute("CREATE TABLE items (id int PRIMARY KEY, name text)")
            assert await app.bulk_insert("items", [{"id": 1, "name": "a"}]) == 1
            assert await app.fetch_all("SELECT id, name FROM items") == [{"id": 1, "name": "a"}]
            with pytest.raises(QueryError, match=r"must be owner|permission denied"):
                await app.execute("DROP TABLE items")
            await service.execute("DROP TABLE items")

    asyncio.run(main())
