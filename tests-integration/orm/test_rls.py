"""PostgreSQL row-level security under the repositories, checked as a real non-owner role."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from _orm_harness import unique
from storeroom.config.models import PoolSettings
from storeroom.errors import DatabaseError
from storeroom_orm import Field, Model, Repository, rls, tenant


@pytest.fixture
def app(postgres_url: str) -> Iterator[dict[str, Any]]:
    """A table with RLS applied by its owner, and a one-connection pool of an app role."""
    from storeroom_postgres import PostgresDatabase

    metadata = sa.MetaData()

    class Secret(Model, table=unique("secret"), metadata=metadata):
        body: str = Field(max_length=50)

    role = unique("orm_app")
    admin = PostgresDatabase(postgres_url, name="admin")
    metadata.create_all(admin.engine)
    table = Secret.__table__.name
    admin.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS")
    admin.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}")
    for statement in rls.policies(metadata):
        admin.execute(statement)
    url = sa.make_url(postgres_url).set(username=role, password=None)
    database = PostgresDatabase(url, name="app", pool=PoolSettings(size=1, max_overflow=0))
    try:
        yield {"db": database, "model": Secret, "table": table, "admin": admin}
    finally:
        database.close()
        metadata.drop_all(admin.engine)
        admin.execute(f"DROP OWNED BY {role}")
        admin.execute(f"DROP ROLE {role}")
        admin.close()


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
