"""PostgreSQL row-level security under the repositories, checked as a real non-owner role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from _orm_harness import unique
from storeroom.config.models import PoolSettings
from storeroom.errors import DatabaseError
from storeroom_orm import Field, Model, Repository, rls, tenant


@contextmanager
def app_role(postgres_url: str, metadata: sa.MetaData) -> Iterator[tuple[Any, Any]]:
    """``metadata``'s tables with RLS applied by their owner, and a one-connection pool of an app role."""
    from storeroom_postgres import PostgresDatabase

    role = unique("orm_app")
    admin = PostgresDatabase(postgres_url, name="admin")
    metadata.create_all(admin.engine)
    admin.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS")
    for table in metadata.sorted_tables:
        admin.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table.name} TO {role}")
        for column in table.columns:
            if column.autoincrement is True:  # a serial column's sequence (audit tables)
                admin.execute(f"GRANT USAGE ON SEQUENCE {table.name}_{column.name}_seq TO {role}")
    for statement in rls.policies(metadata):
        admin.execute(statement)
    url = sa.make_url(postgres_url).set(username=role, password=None)
    database = PostgresDatabase(url, name="app", pool=PoolSettings(size=1, max_overflow=0))
    try:
        yield database, admin
    finally:
        database.close()
        metadata.drop_all(admin.engine)
        admin.execute(f"DROP OWNED BY {role}")
        admin.execute(f"DROP ROLE {role}")
        admin.close()


@pytest.fixture
def app(postgres_url: str) -> Iterator[dict[str, Any]]:
    metadata = sa.MetaData()

    class Secret(Model, table=unique("secret"), metadata=metadata):
        body: str = Field(max_length=50)

    with app_role(postgres_url, metadata) as (database, admin):
        yield {"db": database, "model": Secret, "table": Secret.__table__.name, "admin": admin}


def test_policies_ddl() -> None:
    metadata = sa.MetaData()

    class Scoped(Model, table="scoped_docs", metadata=metadata):
        body: str = ""

    class Global(Model, table="global_docs", metadata=metadata, multi_tenant=False):
        body: str = ""

    ddl = rls.policies(metadata)
    assert "ALTER TABLE scoped_docs ENABLE ROW LEVEL SECURITY" in ddl
    assert "ALTER TABLE scoped_docs FORCE ROW LEVEL SECURITY" in ddl
    assert not any("global_docs" in s for s in ddl)
    assert any("NULLIF(current_setting('storeroom.tenant_id', true), '')" in s for s in ddl)
    assert rls.policies([Scoped]) == ddl


def test_the_app_role_sees_only_its_tenant_even_through_raw_sql(app: dict[str, Any]) -> None:
    db, Secret, table = app["db"], app["model"], app["table"]
    repo = Repository(Secret, db, rls=True)
    for name in ("a", "b"):
        with tenant(name):
            repo.create(Secret(body=f"of {name}"))
    with tenant("a"):
        assert [s.body for s in repo.list()] == ["of a"]
        assert repo.count() == 1
    with tenant(["a", "b"]):
        assert sorted(s.body for s in repo.list()) == ["of a", "of b"]
    # raw SQL with no tenant set sees nothing: the policies fail closed
    assert db.fetch_all(f"SELECT body FROM {table}") == []
    # inside a transaction where a repository set the tenant, raw SQL is held to it too
    with tenant("a"), db.transaction() as tx:
        repo.count()
        assert [r["body"] for r in tx.fetch_all(f"SELECT body FROM {table}")] == ["of a"]
        with pytest.raises(DatabaseError), tx.savepoint() as sp:
            sp.execute(
                f"INSERT INTO {table} (id, body, tenant_id, created_at, updated_at) "
                "VALUES (gen_random_uuid(), 'forged', 'b', now(), now())"
            )
    # the setting lasted one transaction: the next checkout of the one pooled connection has none
    assert db.fetch_value("SELECT current_setting('storeroom.tenant_id', true)") in (None, "")
    assert db.fetch_all(f"SELECT body FROM {table}") == []
    # a repository that does not set the tenant sees nothing on a FORCEd table
    with tenant("a"):
        assert Repository(Secret, db).count() == 0
    # the owner sees both rows: nothing was forged
    assert app["admin"].fetch_value(f"SELECT count(*) FROM {table}") == 2


def test_rls_is_postgresql_only(tmp_path: Any) -> None:
    from storeroom.errors import ConfigurationError
    from storeroom_sqlite import SQLiteDatabase

    metadata = sa.MetaData()

    class Note(Model, table="rls_notes", metadata=metadata):
        body: str = ""

    with SQLiteDatabase(f"sqlite:///{tmp_path}/x.db") as db, pytest.raises(ConfigurationError, match="PostgreSQL"):
        Repository(Note, db, rls=True)


def test_history_and_audit_rows_are_held_to_the_tenant_too(postgres_url: str) -> None:
    metadata = sa.MetaData()

    class Versioned(Model, table=unique("versioned"), metadata=metadata, temporal="scd2"):
        body: str = Field(max_length=50)

    class Audited(Model, table=unique("audited"), metadata=metadata, temporal="copy_on_change"):
        body: str = Field(max_length=50)

    with app_role(postgres_url, metadata) as (db, admin):
        versions, audits = Repository(Versioned, db, rls=True), Repository(Audited, db, rls=True)
        made = {}
        for name in ("a", "b"):
            with tenant(name):
                v, a = versions.create(Versioned(body="1")), audits.create(Audited(body="1"))
                versions.update(v.id, body="2")
                audits.update(a.id, body="2")
                made[name] = (v.id, a.id)
        with tenant("a"):
            assert [x.body for x in versions.history(made["a"][0])] == ["1", "2"]
            assert [c.new for c in audits.field_history(made["a"][1], "body")] == ["1", "2"]
            assert versions.history(made["b"][0]) == [] and audits.history(made["b"][1]) == []
            assert versions.prune_versions(older_than=dt.timedelta(0)) == 1  # a's closed version only
        history, audit = Versioned.__orm__.history_table.name, Audited.__orm__.audit_table.name
        assert db.fetch_all(f"SELECT id FROM {history}") == [] and db.fetch_all(f"SELECT seq FROM {audit}") == []
        assert admin.fetch_value(f"SELECT count(*) FROM {history}") == 1  # b's
        assert admin.fetch_value(f"SELECT count(*) FROM {audit}") == 4
