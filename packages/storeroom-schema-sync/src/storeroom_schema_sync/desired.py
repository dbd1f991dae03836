"""The desired side, as the server spells it: the MetaData rendered into scratch space and read back.

The DDL comes from SQLAlchemy (``create_all`` captured on a mock engine, then compiled for
the live connection's dialect with the scratch schema map) and runs as one batch where the
driver allows it. The server's answer depends only on that DDL and the server, so it is
memoized per process: planning the same MetaData again against the same server skips the
scratch render. Compiling a thousand tables' DDL costs as much as reading their catalog, so
the compiled text is kept too, keyed by the Table objects and a signature of what their DDL
is made of (column names, types, nullability, defaults, constraints and indexes): changing a
model changes the signature and compiles again.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storeroom.errors import SchemaSyncError
from storeroom.schema import Catalog, SchemaProvider
from storeroom_schema_sync.normalize import rename_schemas, unqualify
from storeroom_schema_sync.target import Target

__all__ = ["clear_memo", "create_statements", "desired_catalog"]

_MEMO: OrderedDict[str, Catalog] = OrderedDict()
#: signature -> (the objects it names by identity, kept alive so no id is reused while cached; the DDL)
_COMPILED: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], list[str]]] = OrderedDict()
_MEMO_SIZE = 32
_memo_lock = threading.Lock()


def clear_memo() -> None:
    """Forget every memoized render and compiled DDL (tests; a server upgraded under a running process)."""
    with _memo_lock:
        _MEMO.clear()
        _COMPILED.clear()


def _remember(cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    with _memo_lock:
        cache[key] = value
        while len(cache) > _MEMO_SIZE:
            cache.popitem(last=False)


def _signature(table: sa.Table) -> tuple[Any, ...]:
    """What a table's DDL is made of, cheaply: the objects by identity, the mutable parts by value."""
    return (
        id(table),
        table.name,
        table.schema,
        table.comment,
        tuple(
            (
                c.name,
                repr(c.type),
                c.nullable,
                c.primary_key,
                c.autoincrement,
                id(c.server_default),
                id(c.computed),
                id(c.identity),
                c.comment,
                tuple(id(f) for f in c.foreign_keys),
            )
            for c in table.columns
        ),
        tuple((id(c), c.name) for c in table.constraints),
        tuple((id(i), i.name, i.unique, repr(sorted(i.dialect_kwargs.items(), key=str))) for i in table.indexes),
    )


def create_statements(tables: Sequence[sa.Table], dialect: Any) -> list[Any]:
    """The DDL elements ``create_all`` would run for ``tables`` (types first), in order."""
    captured: list[Any] = []
    engine = sa.create_mock_engine(sa.engine.make_url(f"{dialect.name}://"), lambda sql, *a, **k: captured.append(sql))
    engine._dialect = dialect  # the live dialect: its server version decides what is rendered
    metadatas = list({id(t.metadata): t.metadata for t in tables}.values())
    for metadata in metadatas:  # create_all sorts its tables by dependency itself
        mine = [t for t in tables if t.metadata is metadata]
        metadata.create_all(engine, tables=mine, checkfirst=False)
    return captured


def _compile(statements: Sequence[Any], dialect: Any, schema_map: Mapping[str | None, str | None]) -> list[str]:
    texts = []
    for statement in statements:
        compiled = statement.compile(dialect=dialect, schema_translate_map=dict(schema_map))
        text = compiled.preparer._render_schema_translates(compiled.string, dict(schema_map))
        texts.append(text.strip())
    return texts


def _run(conn: Connection, texts: Sequence[str], batch: bool) -> None:
    if batch:
        conn.exec_driver_sql(";\n".join(texts))
        return
    for text in texts:
        conn.exec_driver_sql(text)


def desired_catalog(
    conn: Connection, provider: SchemaProvider, target: Target, default_schema: str
) -> tuple[Catalog, frozenset[str]]:
    """The target's tables as the server spells them, under their real schema names, and the
    schemas whose qualifier the scratch side leaves out (the live side must drop it too)."""
    names = [t.name for t in target.tables]
    with provider.scratch(conn, target.schemas) as scratch:
        scratch_conn: Connection = scratch.connection
        compiled_key = (
            id(scratch_conn.dialect),
            tuple(sorted(scratch.schema_map.items(), key=str)),
            tuple(_signature(t) for t in target.tables),
        )
        with _memo_lock:
            cached = _COMPILED.get(compiled_key)
        if cached is not None:
            texts = cached[1]
        else:
            texts = _compile(create_statements(target.tables, conn.dialect), scratch_conn.dialect, scratch.schema_map)
            _remember(_COMPILED, compiled_key, ((scratch_conn.dialect, target.tables), texts))
        identity = scratch_conn.engine.url.render_as_string(hide_password=True)
        version = scratch_conn.dialect.server_version_info
        key = hashlib.sha256(
            repr((identity, version, default_schema, sorted(scratch.real.values()), texts)).encode()
        ).hexdigest()
        with _memo_lock:
            memo = _MEMO.get(key)
        if memo is not None:
            return memo, scratch.unqualified
        try:
            _run(scratch_conn, texts, provider.batch_ddl)
        except sa.exc.DBAPIError as exc:
            raise SchemaSyncError(
                f"the target schema cannot be created on this server ({type(exc.orig).__name__}: "
                f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc}); fix the models"
            ) from exc
        found = provider.read_catalog(scratch_conn, list(scratch.real), tables=names)
    catalog = unqualify(rename_schemas(found, scratch.real), scratch.unqualified)
    _remember(_MEMO, key, catalog)
    return catalog, scratch.unqualified
