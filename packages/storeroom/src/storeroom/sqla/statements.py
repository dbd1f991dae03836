"""Turning ``(sql, params)`` into SQLAlchemy statements, checking parameters first.

Every dialect takes named ``:name`` parameters through :func:`sqlalchemy.text`.
Parameter names are checked before anything is sent, so a typo is a
:class:`~storeroom.errors.QueryError` naming the parameter, not a driver error
(or, worse, a silently ignored value). Bulk inserts go through
``sqlalchemy.table()/column()`` so identifiers are quoted by the dialect and never
formatted into SQL by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from itertools import chain, islice
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import TextClause

from storeroom.errors import QueryError

__all__ = [
    "BULK_BATCH_SIZE",
    "BulkInsert",
    "Statement",
    "bind_names",
    "check_batch_size",
    "native_ready",
    "prepare",
    "prepare_many",
    "statement_text",
]

#: what the query methods take: SQL text with ``:name`` parameters, or a SQLAlchemy Core
#: construct (``select``/``insert``/``update``/``delete``) whose parameters are ``bindparam``\ s
Statement = str | Executable

#: rows sent per executemany by the generic bulk insert; bounds memory for generators
BULK_BATCH_SIZE = 5000


@lru_cache(maxsize=2048)
def _compile(sql: str) -> tuple[TextClause, frozenset[str]]:
    """One ``text()`` construct per distinct SQL string; SQLAlchemy's compiled cache keys on it."""
    clause = sa.text(sql)
    return clause, frozenset(clause.compile().params)


def bind_names(sql: str) -> frozenset[str]:
    """The ``:name`` parameters ``sql`` expects."""
    return _compile(sql)[1]


@lru_cache(maxsize=2048)
def _construct_binds(construct: Executable) -> tuple[frozenset[str], frozenset[str], str]:
    """A Core construct's required and accepted parameter names, and its SQL for messages.

    Compiled once per construct (generic dialect): callers that run one shape many times
    keep the construct and pass new parameters, as with ``text()``.
    """
    compiled = construct.compile()  # type: ignore[attr-defined]
    binds = compiled.binds
    required = frozenset(name for name, bind in binds.items() if bind.required)
    return required, frozenset(binds), compiled.string


def statement_text(statement: Statement) -> str:
    """The SQL to quote in errors and logs (a construct compiled for the generic dialect)."""
    if isinstance(statement, str):
        return statement
    if isinstance(statement, TextClause):
        return statement.text
    return _construct_binds(statement)[2]


@lru_cache(maxsize=2048)
def native_ready(clause: Executable, dialect: Any) -> bool:
    """Whether a dialect's raw-driver path may run ``clause`` and give the same result.

    The native paths (psycopg's cursor, asyncmy's) send the compiled SQL with the caller's
    values as they are and hand back the driver's values, skipping SQLAlchemy's bind and
    result processing. That is exact for ``text()`` and for constructs whose parameters
    are all plain ``bindparam``s and whose types process nothing on this dialect (the
    untyped ``sa.table()``/``sa.column()`` kind). Anything else takes SQLAlchemy's path.
    Decided once per construct and dialect.
    """
    if isinstance(clause, TextClause):
        return True
    compiled: Any = clause.compile(dialect=dialect)  # type: ignore[attr-defined]
    if getattr(compiled, "escaped_bind_names", None) or getattr(compiled, "post_compile_params", None):
        return False
    for bind in compiled.binds.values():
        if not bind.required or bind.expanding or bind.literal_execute:
            return False
        if bind.type._cached_bind_processor(dialect) is not None:
            return False
    columns = getattr(compiled, "_result_columns", None)
    if columns is None:
        return False
    try:  # the driver's column type is unknown here: a type that needs it processes something
        return all(entry[3]._cached_result_processor(dialect, None) is None for entry in columns)
    except Exception:  # noqa: BLE001
        return False


def _mismatch(
    sql: str, names: frozenset[str], given: Iterable[str], where: str = "", required: frozenset[str] | None = None
) -> QueryError:
    """The error naming missing and unknown parameters; ``required`` (default: ``names``) must
    all be given, and only ``names`` may be."""
    given_set = set(given)
    missing = sorted((names if required is None else required) - given_set)
    unknown = sorted(given_set - names)
    parts = []
    if missing:
        parts.append("missing parameter" + ("s " if len(missing) > 1 else " ") + ", ".join(f"':{n}'" for n in missing))
    if unknown:
        parts.append("unknown parameter" + ("s " if len(unknown) > 1 else " ") + ", ".join(repr(n) for n in unknown))
    takes = ", ".join(f":{n}" for n in sorted(names)) or "no parameters"
    return QueryError(f"{'; '.join(parts)}{where} (the statement takes {takes})", statement=sql)


def _check_construct(construct: Executable, given: Iterable[str], where: str = "") -> None:
    required, accepted, shown = _construct_binds(construct)
    given_set = set(given)
    if not required <= given_set <= accepted:
        raise _mismatch(shown, accepted, given_set, where, required)


def _check_statement(sql: object) -> None:
    if not isinstance(sql, str | Executable):
        raise QueryError(f"sql must be a string or a SQLAlchemy Core statement, got {type(sql).__name__}")


def prepare(sql: Statement, params: Mapping[str, Any] | None) -> tuple[Executable, Mapping[str, Any]]:
    """The statement and its parameters, after checking the names match exactly.

    For a Core construct every required ``bindparam`` must be given, and nothing else.
    """
    _check_statement(sql)
    if params is None:
        params = {}
    elif not isinstance(params, Mapping):
        raise QueryError(
            f"parameters must be a mapping of names to values (':id' -> {{'id': 1}}), got {type(params).__name__}",
            statement=statement_text(sql),
        )
    if not isinstance(sql, str):
        _check_construct(sql, params.keys())
        return sql, params
    clause, names = _compile(sql)
    if params.keys() != names:
        raise _mismatch(sql, names, params.keys())
    return clause, params


def prepare_many(sql: Statement, seq: Iterable[Mapping[str, Any]]) -> tuple[Executable, list[Mapping[str, Any]]]:
    """Like :func:`prepare` for an executemany: every parameter set is checked."""
    _check_statement(sql)
    if isinstance(seq, Mapping):
        raise QueryError(
            "execute_many takes a sequence of parameter mappings, got a single mapping", statement=statement_text(sql)
        )
    rows = list(seq)
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise QueryError(
                f"parameter set #{index} is a {type(row).__name__}, not a mapping", statement=statement_text(sql)
            )
    if not isinstance(sql, str):
        for index, row in enumerate(rows):
            _check_construct(sql, row.keys(), f" in parameter set #{index}")
        return sql, rows
    clause, names = _compile(sql)
    for index, row in enumerate(rows):
        if row.keys() != names:
            raise _mismatch(sql, names, row.keys(), f" in parameter set #{index}")
    return clause, rows


def check_batch_size(batch_size: int) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise QueryError(f"batch_size must be a positive integer, got {batch_size!r}")
    return batch_size


def _split_table(table: str) -> tuple[str | None, str]:
    if not isinstance(table, str) or not table.strip():
        raise QueryError(f"table must be a non-empty string, got {table!r}")
    schema, dot, name = table.rpartition(".")
    if dot and (not schema or not name):
        raise QueryError(f"table {table!r} is not a valid 'name' or 'schema.name'")
    return (schema or None), name


class BulkInsert:
    """Plans a generic bulk insert: quoted target, column list, and row batches.

    ``columns`` (when given) selects and orders the columns; rows may carry other keys,
    which are ignored. Without ``columns`` the first row's keys are used and every row
    must have exactly those keys.
    """

    def __init__(self, table: str, columns: Sequence[str] | None, batch_size: int = BULK_BATCH_SIZE) -> None:
        self.schema, self.name = _split_table(table)
        self.table = table
        self.batch_size = check_batch_size(batch_size)
        self.columns: tuple[str, ...] | None = None
        self._strict = columns is None
        if columns is not None:
            self._set_columns(columns)

    def _set_columns(self, columns: Iterable[str]) -> None:
        cols = tuple(columns)
        if not cols:
            raise QueryError(f"bulk insert into {self.table!r} needs at least one column")
        for c in cols:
            if not isinstance(c, str) or not c:
                raise QueryError(f"bulk insert into {self.table!r}: column names must be non-empty strings, got {c!r}")
        if len(set(cols)) != len(cols):
            raise QueryError(f"bulk insert into {self.table!r}: duplicate column names in {list(cols)!r}")
        self.columns = cols

    def statement(self) -> Insert:
        """``INSERT INTO <quoted table> (<quoted columns>)``; values come from each batch."""
        assert self.columns is not None
        target = sa.table(self.name, *(sa.column(c) for c in self.columns), schema=self.schema)
        return sa.insert(target)

    def _row(self, index: int, row: Mapping[str, Any]) -> dict[str, Any]:
        cols = self.columns
        assert cols is not None
        if not isinstance(row, Mapping):
            raise QueryError(f"bulk insert into {self.table!r}: row #{index} is a {type(row).__name__}, not a mapping")
        try:
            values = {c: row[c] for c in cols}
        except KeyError as exc:
            raise QueryError(
                f"bulk insert into {self.table!r}: row #{index} has no value for column {exc.args[0]!r}"
            ) from None
        if self._strict and len(row) != len(cols):
            extra = sorted(set(row) - set(cols))
            raise QueryError(
                f"bulk insert into {self.table!r}: row #{index} has keys {extra!r} that the first row lacks; "
                "pass columns=... to choose the columns explicitly"
            )
        return values

    def start(self, rows: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]] | None:
        """Check the first row (fixing the columns when none were given) before any I/O.

        None when there are no rows; otherwise an iterator over every row, first included.
        """
        if isinstance(rows, Mapping | str | bytes):
            raise QueryError(f"bulk insert into {self.table!r} takes an iterable of row mappings, got a single value")
        it = iter(rows)
        first = next(it, None)
        if first is None:
            return None
        if self.columns is None:
            if not isinstance(first, Mapping):
                raise QueryError(f"bulk insert into {self.table!r}: row #0 is a {type(first).__name__}, not a mapping")
            self._set_columns(first.keys())
        self._row(0, first)
        return chain((first,), it)

    def tuple_chunks(
        self, rows: Iterable[Mapping[str, Any]], size: int = 1000
    ) -> Iterator[tuple[int, list[tuple[Any, ...]]]]:
        """``(index of the chunk's first row, value tuples in column order)`` per ``size`` rows.

        For native paths such as COPY, which take sequences rather than parameter dicts.
        Rows are checked like :meth:`batches`, but a chunk at a time in C (``map`` over
        ``len`` and an ``itemgetter``); only a chunk that fails is walked row by row, to
        name the culprit. Call after :meth:`start`, or with ``columns`` given.
        """
        cols = self.columns
        assert cols is not None
        width = len(cols)
        get = itemgetter(*cols)
        strict = self._strict
        it = iter(rows)
        start = 0
        while chunk := list(islice(it, size)):
            try:
                if strict and not width == min(map(len, chunk)) == max(map(len, chunk)):
                    raise KeyError(None)
                values = list(map(get, chunk))
            except (KeyError, TypeError):
                for offset, row in enumerate(chunk):
                    self._row(start + offset, row)  # raises the precise QueryError
                raise
            yield start, values if width > 1 else [(v,) for v in values]
            start += len(chunk)

    def tuples(self, rows: Iterable[Mapping[str, Any]]) -> Iterator[tuple[Any, ...]]:
        """Each row's values in column order, checked as by :meth:`tuple_chunks`."""
        for _, chunk in self.tuple_chunks(rows):
            yield from chunk

    def batches(self, rows: Iterable[Mapping[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        """Checked parameter dicts in batches of ``batch_size`` (lazy: generators stay bounded)."""
        batch: list[dict[str, Any]] = []
        for index, row in enumerate(rows):
            if self.columns is None:
                if not isinstance(row, Mapping):
                    raise QueryError(
                        f"bulk insert into {self.table!r}: row #0 is a {type(row).__name__}, not a mapping"
                    )
                self._set_columns(row.keys())
            batch.append(self._row(index, row))
            if len(batch) >= self.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch
