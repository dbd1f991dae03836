"""The read-only guard: which T-SQL it lets through, and that it stops statements before they are sent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storeroom.errors import TransactionError
from storeroom_mssql._read_only import READ_ONLY_OPTION, first_write, install_read_only_guard


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id, name FROM t WHERE id = ?",
        "select count(*) from t",
        "  -- leading comment: DELETE FROM t\nSELECT 1",
        "/* outer /* nested DROP TABLE t */ still comment: INSERT */ SELECT 1",
        "SELECT 'INSERT INTO t VALUES (1)' AS text, N'DELETE' AS n",
        "SELECT [delete], [update] FROM [insert] WHERE \"drop\" = 'it''s; DROP TABLE t'",
        "SELECT inserted_at, updated_by, deleted FROM audit",
        "SELECT ñame, größe, 名前 FROM t WHERE @update = 1 AND #insert IS NULL",
        "WITH recent AS (SELECT id FROM t WHERE id > ?) SELECT id FROM recent ORDER BY id",
        "(SELECT 1) UNION ALL (SELECT 2)",
        "DECLARE @n INT = 3; SELECT TOP (@n) id FROM t",
        "SET TRANSACTION ISOLATION LEVEL SNAPSHOT",
        "SELECT CASE WHEN id > 1 THEN 'a' ELSE 'b' END FROM t",
        "SELECT id FROM t WITH (NOLOCK) ORDER BY id OFFSET ? ROWS FETCH NEXT ? ROWS ONLY",
        "IF @@TRANCOUNT = 0 BEGIN TRANSACTION",
        "SAVE TRANSACTION sa_savepoint_1",
        "ROLLBACK TRANSACTION sa_savepoint_1",
        "",
        "   ",
    ],
)
def test_reads_pass(sql: str) -> None:
    assert first_write(sql) is None


@pytest.mark.parametrize(
    ("sql", "word"),
    [
        ("INSERT INTO t (id) VALUES (?)", "INSERT"),
        ("update t set x = 1", "UPDATE"),
        ("DELETE FROM t", "DELETE"),
        ("WITH old AS (SELECT id FROM t) DELETE FROM t WHERE id IN (SELECT id FROM old)", "DELETE"),
        ("SELECT * INTO t_copy FROM t", "INTO"),
        ("DECLARE @t TABLE (id INT); INSERT @t VALUES (1)", "INSERT"),
        ("SELECT 1 DROP TABLE t", "DROP"),
        ("SELECT 1; TRUNCATE TABLE t", "TRUNCATE"),
        ("MERGE t USING s ON t.id = s.id WHEN MATCHED THEN DELETE;", "MERGE"),
        ("EXEC sp_rename 't', 'u'", "EXEC"),
        ("sp_rename 't', 'u'", "SP_RENAME"),  # a batch starting with a name calls a procedure
        ("SELECT 1 /* ok */ EXECUTE ('DELETE FROM t')", "EXECUTE"),
        ("SELECT * FROM OPENQUERY(remote, 'SELECT 1')", "OPENQUERY"),
        ("CREATE TABLE x (id INT)", "CREATE"),
        ("SET @x = 1; ALTER TABLE t ADD c INT", "ALTER"),
        ("BEGIN TRANSACTION", "BEGIN"),
        ("SELECT 1 END CONVERSATION @handle", "END CONVERSATION"),
        ("GRANT SELECT ON t TO public", "GRANT"),
        ("USE master", "USE"),
    ],
)
def test_writes_are_named(sql: str, word: str) -> None:
    assert first_write(sql) == word


def test_unterminated_comment_or_literal_hides_nothing() -> None:
    assert first_write("SELECT 1 /* never closed DELETE FROM t") is None  # the server rejects it anyway
    assert first_write("SELECT 'never closed DELETE") is None
    assert first_write("SELECT 1 -- DELETE FROM t") is None


@pytest.fixture
def engine() -> Iterator[Engine]:
    """A real (sqlite) engine carrying the guard: it proves the event stops statements pre-send."""
    engine = sa.create_engine("sqlite://")
    install_read_only_guard(engine, "main")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER)")
    yield engine
    engine.dispose()


def test_guard_refuses_before_sending(engine: Engine) -> None:
    sent: list[str] = []
    sa.event.listen(engine, "after_cursor_execute", lambda *args: sent.append(args[2]))
    with engine.connect() as conn:
        conn.begin()
        conn.execution_options(**{READ_ONLY_OPTION: True})
        assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar() == 0
        with pytest.raises(TransactionError, match=r"read-only transaction on database 'main'.*\(INSERT\)") as caught:
            conn.execute(sa.text("INSERT INTO t (id) VALUES (:id)"), {"id": 1})
        assert caught.value.statement == "INSERT INTO t (id) VALUES (?)"
        assert conn.in_transaction()  # the transaction survives: the caller decides
        conn.execution_options(**{READ_ONLY_OPTION: False})
        conn.execute(sa.text("INSERT INTO t (id) VALUES (:id)"), {"id": 2})
        conn.commit()
    assert sent == ["SELECT count(*) FROM t", "INSERT INTO t (id) VALUES (?)"]
    with engine.connect() as conn:  # the mark never outlives its connection object
        assert conn.execute(sa.text("SELECT id FROM t")).all() == [(2,)]
        conn.execute(sa.text("INSERT INTO t (id) VALUES (3)"))
