"""The drift corpus: live schemas and the models they should (or should not) match.

Each case builds a live table from hand-written DDL (the spellings a person, an older tool or
another ORM leaves behind) or from SQLAlchemy's own ``create_all``, then names the models it
is compared with. ``expect=None`` means *equal*: the plan must be empty. Otherwise the plan
must contain an operation on the named object (``t.a``: column ``a`` of table ``t``).

DDL uses ``{s}`` where a table name is qualified (``{s}t`` is ``schema.t`` on PostgreSQL and
plain ``t`` where the test connects to a database of its own). Shared by
``tests-integration/schema_sync/test_drift_corpus.py`` and
``benchmarks/schema_sync_corpus.py`` (which scores Alembic's ``compare_metadata`` beside it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

__all__ = ["CASES", "Case", "cases_for"]

Build = Callable[[sa.MetaData], None]


@dataclass(frozen=True)
class Case:
    name: str
    dialect: str  # "postgresql", "mysql" (MariaDB) or "sqlite"
    desired: Build
    #: hand-written DDL statements, or None: ``create_all`` of ``live_models`` (default: ``desired``)
    ddl: tuple[str, ...] | None = None
    live_models: Build | None = None
    #: None: equal (plan nothing); else the object an operation must name (``t``, ``t.a``, ``t.ix_t_a``)
    expect: str | None = None

    @property
    def id(self) -> str:
        return f"{self.dialect}:{self.name}"


CASES: list[Case] = []


def case(
    dialect: str,
    name: str,
    desired: Build,
    ddl: str | tuple[str, ...] | None = None,
    *,
    live: Build | None = None,
    expect: str | None = None,
) -> None:
    statements = (ddl,) if isinstance(ddl, str) else ddl
    CASES.append(Case(name, dialect, desired, statements, live, expect))


def table(*items: object, name: str = "t", **kw: object) -> Build:
    """A builder of one table ``t`` with ``items`` (columns, constraints) and Table keywords."""

    def build(md: sa.MetaData) -> None:
        sa.Table(name, md, *[i._copy() if isinstance(i, sa.Column | sa.Constraint) else i for i in items], **kw)

    return build


def with_index(*columns: object, name: str = "ix_t", base: tuple[object, ...] = (), **kw: object) -> Build:
    """Table ``t`` (columns ``id``, ``a``, ``b``, ``c``) with one index built from ``columns``."""

    def build(md: sa.MetaData) -> None:
        t = sa.Table(
            "t",
            md,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("a", sa.Integer),
            sa.Column("b", sa.Integer),
            sa.Column("c", sa.String(20)),
            *base,
        )
        sa.Index(name, *[t.c[c] if isinstance(c, str) else c(t) for c in columns], **kw)

    return build


def pair(parent_fk: dict[str, object] | None = None, child_extra: tuple[object, ...] = ()) -> Build:
    """``p(id)`` and ``c(id, p_id -> p.id)`` with the FK options given."""

    def build(md: sa.MetaData) -> None:
        schema = md.schema + "." if md.schema else ""
        sa.Table("p", md, sa.Column("id", sa.Integer, primary_key=True))
        sa.Table(
            "c",
            md,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("p_id", sa.Integer, sa.ForeignKey(f"{schema}p.id", **(parent_fk or {}))),
            *child_extra,
        )

    return build


ID = sa.Column("id", sa.Integer, primary_key=True)
PG, MY, LITE = "postgresql", "mysql", "sqlite"

# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------

# types and aliases: the server spells both sides
for spelling, model in [
    ("int4", sa.Integer),
    ("integer", sa.Integer),
    ("INT", sa.Integer),
    ("int8", sa.BigInteger),
    ("int2", sa.SmallInteger),
    ("bool", sa.Boolean),
    ("float8", sa.Double),
    ("double precision", sa.Float(53)),
    ("real", sa.REAL),
    ("character varying(20)", sa.String(20)),
    ("varchar(20)", sa.String(20)),
    ("text", sa.Text),
    ("timestamptz", sa.DateTime(timezone=True)),
    ("timestamp", sa.DateTime),
    ("date", sa.Date),
    ("time", sa.Time),
    ("numeric(10,2)", sa.Numeric(10, 2)),
    ("decimal(10, 2)", sa.Numeric(10, 2)),
    ("bytea", sa.LargeBinary),
    ("uuid", sa.Uuid),
    ("jsonb", postgresql.JSONB),
    ("json", sa.JSON),
    ("interval", sa.Interval),
    ("int[]", postgresql.ARRAY(sa.Integer)),
    ("text[]", postgresql.ARRAY(sa.Text)),
]:
    case(
        PG,
        f"type alias {spelling}",
        table(ID, sa.Column("a", model)),
        f"CREATE TABLE {{s}}t (id serial PRIMARY KEY, a {spelling})",
    )

for spelling, model, col in [
    ("int4", sa.BigInteger, "t.a"),
    ("varchar(20)", sa.String(30), "t.a"),
    ("numeric(10,2)", sa.Numeric(12, 2), "t.a"),
    ("numeric(10,2)", sa.Numeric(10, 3), "t.a"),
    ("json", postgresql.JSONB, "t.a"),
    ("timestamp", sa.DateTime(timezone=True), "t.a"),
    ("int[]", postgresql.ARRAY(sa.BigInteger), "t.a"),
    ("text", sa.String(50), "t.a"),
]:
    case(
        PG,
        f"type {spelling} -> {model!r}",
        table(ID, sa.Column("a", model)),
        f"CREATE TABLE {{s}}t (id serial PRIMARY KEY, a {spelling})",
        expect=col,
    )

# defaults and casts
for live_default, model_default, equal in [
    ("'1'::integer", "1", True),
    ("1", sa.text("'1'::integer"), True),
    ("'a'::character varying", "a", True),
    ("'a'::text", "a", True),
    ("now()", sa.func.now(), True),
    ("CURRENT_TIMESTAMP", sa.func.now(), True),
    ("now()", sa.text("CURRENT_TIMESTAMP"), True),
    ("1.50", "1.5", True),
    ("1.5", "1.50", True),
    ("'{}'::jsonb", sa.text("'{}'::jsonb"), True),
    ("true", sa.true(), True),
    ("false", "false", True),
    ("1", "2", False),
    ("'a'", "b", False),
    ("now()", sa.text("clock_timestamp()"), False),
    ("1.5", "1.25", False),
]:
    kind = (
        "numeric(6,2)"
        if "." in str(live_default)
        else (
            "varchar(10)"
            if "'a'" in live_default
            else "timestamptz"
            if "(" in live_default or "CURRENT" in live_default
            else "jsonb"
            if "jsonb" in live_default
            else "boolean"
            if live_default in ("true", "false")
            else "integer"
        )
    )
    model_type = {
        "numeric(6,2)": sa.Numeric(6, 2),
        "varchar(10)": sa.String(10),
        "timestamptz": sa.DateTime(timezone=True),
        "jsonb": postgresql.JSONB,
        "boolean": sa.Boolean,
        "integer": sa.Integer,
    }[kind]
    case(
        PG,
        f"default {live_default} vs {model_default}",
        table(ID, sa.Column("a", model_type, server_default=model_default)),
        f"CREATE TABLE {{s}}t (id serial PRIMARY KEY, a {kind} DEFAULT {live_default})",
        expect=None if equal else "t.a",
    )
case(
    PG,
    "json default survives",
    table(ID, sa.Column("a", sa.JSON, server_default=sa.text("'{}'"))),
    "CREATE TABLE {s}t (id serial PRIMARY KEY, a json DEFAULT '{}'::json)",
)
case(
    PG,
    "default removed",
    table(ID, sa.Column("a", sa.Integer)),
    "CREATE TABLE {s}t (id serial PRIMARY KEY, a int DEFAULT 0)",
    expect="t.a",
)
case(
    PG,
    "nullability",
    table(ID, sa.Column("a", sa.Integer, nullable=False)),
    "CREATE TABLE {s}t (id serial PRIMARY KEY, a int)",
    expect="t.a",
)


# enums
def _enum(*values: str) -> Build:
    def build(md: sa.MetaData) -> None:
        sa.Table(
            "t",
            md,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("a", sa.Enum(*values, name="mood", schema=md.schema, metadata=md)),
        )

    return build


case(
    PG,
    "enum equal",
    _enum("sad", "ok"),
    ("CREATE TYPE {s}mood AS ENUM ('sad', 'ok')", "CREATE TABLE {s}t (id serial PRIMARY KEY, a {s}mood)"),
)
case(
    PG,
    "enum value added",
    _enum("sad", "ok", "happy"),
    ("CREATE TYPE {s}mood AS ENUM ('sad', 'ok')", "CREATE TABLE {s}t (id serial PRIMARY KEY, a {s}mood)"),
    expect="mood",
)
case(
    PG,
    "enum value in the middle",
    _enum("sad", "meh", "ok"),
    ("CREATE TYPE {s}mood AS ENUM ('sad', 'ok')", "CREATE TABLE {s}t (id serial PRIMARY KEY, a {s}mood)"),
    expect="mood",
)
case(
    PG,
    "enum value removed",
    _enum("sad"),
    ("CREATE TYPE {s}mood AS ENUM ('sad', 'ok')", "CREATE TABLE {s}t (id serial PRIMARY KEY, a {s}mood)"),
    expect="mood",
)
case(
    PG,
    "enum order",
    _enum("ok", "sad"),
    ("CREATE TYPE {s}mood AS ENUM ('sad', 'ok')", "CREATE TABLE {s}t (id serial PRIMARY KEY, a {s}mood)"),
    expect="mood",
)

# indexes
IX_TABLE = "CREATE TABLE {s}t (id serial PRIMARY KEY, a int, b int, c varchar(20))"
case(PG, "index equal", with_index("a", "b"), (IX_TABLE, "CREATE INDEX ix_t ON {s}t (a, b)"))
case(PG, "index column order", with_index("b", "a"), (IX_TABLE, "CREATE INDEX ix_t ON {s}t (a, b)"), expect="t.ix_t")
case(PG, "index missing", with_index("a"), (IX_TABLE,), expect="t.ix_t")
case(
    PG,
    "index extra",
    table(ID, sa.Column("a", sa.Integer), sa.Column("b", sa.Integer), sa.Column("c", sa.String(20))),
    (IX_TABLE, "CREATE INDEX ix_t ON {s}t (a)"),
    expect="t.ix_t",
)
case(
    PG,
    "index unique vs not",
    with_index("a", unique=True),
    (IX_TABLE, "CREATE INDEX ix_t ON {s}t (a)"),
    expect="t.ix_t",
)
case(PG, "index desc", with_index(lambda t: t.c.a.desc()), (IX_TABLE, "CREATE INDEX ix_t ON {s}t (a)"), expect="t.ix_t")
case(PG, "index desc equal", with_index(lambda t: t.c.a.desc()), (IX_TABLE, "CREATE INDEX ix_t ON {s}t (a DESC)"))
case(
    PG,
    "partial (a OR b) AND c != a OR b AND c",
    with_index("a", postgresql_where=sa.text("(a > 1 OR b > 1) AND c IS NULL")),
    (IX_TABLE, "CREATE INDEX ix_t ON {s}t (a) WHERE a > 1 OR b > 1 AND c IS NULL"),
    expect="t.ix_t",
)
case(
    PG,
    "partial predicate spelled differently",
    with_index("a", postgresql_where=sa.text("a > 1 and b is null")),
    (IX_TABLE, "CREATE INDEX ix_t ON {s}t (a) WHERE ((a > 1) AND (b IS NULL))"),
)
case(
    PG,
    "partial predicate missing",
    with_index("a", postgresql_where=sa.text("a > 1")),
    (IX_TABLE, "CREATE INDEX ix_t ON {s}t (a)"),
    expect="t.ix_t",
)
case(
    PG,
    "partial predicate changed",
    with_index("a", postgresql_where=sa.text("a > 2")),
    (IX_TABLE, "CREATE INDEX ix_t ON {s}t (a) WHERE a > 1"),
    expect="t.ix_t",
)
case(
    PG,
    "expression index equal",
    with_index(lambda t: sa.func.lower(t.c.c)),
    (IX_TABLE, "CREATE INDEX ix_t ON {s}t (LOWER( c ))"),
)
case(
    PG,
    "expression index changed",
    with_index(lambda t: sa.func.upper(t.c.c)),
    (IX_TABLE, "CREATE INDEX ix_t ON {s}t (lower(c))"),
    expect="t.ix_t",
)
case(
    PG,
    "include equal",
    with_index("a", postgresql_include=["b"]),
    (IX_TABLE, "CREATE INDEX ix_t ON {s}t (a) INCLUDE (b)"),
)
case(
    PG,
    "include missing",
    with_index("a", postgresql_include=["b"]),
    (IX_TABLE, "CREATE INDEX ix_t ON {s}t (a)"),
    expect="t.ix_t",
)
case(
    PG,
    "using hash",
    with_index("a", postgresql_using="hash"),
    (IX_TABLE, "CREATE INDEX ix_t ON {s}t (a)"),
    expect="t.ix_t",
)
case(PG, "using btree explicit", with_index("a", postgresql_using="btree"), (IX_TABLE, "CREATE INDEX ix_t ON {s}t (a)"))
case(
    PG,
    "opclass",
    with_index("c", postgresql_ops={"c": "text_pattern_ops"}),
    (IX_TABLE, "CREATE INDEX ix_t ON {s}t (c)"),
    expect="t.ix_t",
)
case(
    PG,
    "opclass equal",
    with_index("c", postgresql_ops={"c": "varchar_pattern_ops"}),
    (IX_TABLE, "CREATE INDEX ix_t ON {s}t (c varchar_pattern_ops)"),
)

# constraints
case(
    PG,
    "unique constraint backs index",
    table(ID, sa.Column("a", sa.Integer, unique=True)),
    "CREATE TABLE {s}t (id serial PRIMARY KEY, a int UNIQUE)",
)
case(
    PG,
    "unique constraint missing",
    table(ID, sa.Column("a", sa.Integer, unique=True)),
    "CREATE TABLE {s}t (id serial PRIMARY KEY, a int)",
    expect="t",
)
case(
    PG,
    "check text vs value",
    table(ID, sa.Column("a", sa.Integer), sa.CheckConstraint("a>0")),
    "CREATE TABLE {s}t (id serial PRIMARY KEY, a int CHECK ((a > 0)))",
)
case(
    PG,
    "check changed",
    table(ID, sa.Column("a", sa.Integer), sa.CheckConstraint("a >= 0")),
    "CREATE TABLE {s}t (id serial PRIMARY KEY, a int CHECK (a > 0))",
    expect="t",
)
case(
    PG,
    "named check equal",
    table(ID, sa.Column("a", sa.Integer), sa.CheckConstraint("a > 0", name="ck_a")),
    "CREATE TABLE {s}t (id serial PRIMARY KEY, a int CONSTRAINT ck_a CHECK (a>0))",
)
case(
    PG,
    "named check renamed",
    table(ID, sa.Column("a", sa.Integer), sa.CheckConstraint("a > 0", name="ck_b")),
    "CREATE TABLE {s}t (id serial PRIMARY KEY, a int CONSTRAINT ck_a CHECK (a>0))",
    expect="t",
)
case(
    PG,
    "check in/any",
    table(ID, sa.Column("a", sa.String(5)), sa.CheckConstraint("a IN ('x', 'y')")),
    "CREATE TABLE {s}t (id serial PRIMARY KEY, a varchar(5) CHECK (a = ANY (ARRAY['x'::character varying, 'y'::character varying])))",
)
case(
    PG,
    "fk equal",
    pair(),
    (
        "CREATE TABLE {s}p (id serial PRIMARY KEY)",
        "CREATE TABLE {s}c (id serial PRIMARY KEY, p_id int REFERENCES {s}p (id))",
    ),
)
case(
    PG,
    "fk on delete cascade",
    pair({"ondelete": "CASCADE"}),
    (
        "CREATE TABLE {s}p (id serial PRIMARY KEY)",
        "CREATE TABLE {s}c (id serial PRIMARY KEY, p_id int REFERENCES {s}p (id))",
    ),
    expect="c",
)
case(
    PG,
    "fk on update",
    pair({"onupdate": "CASCADE"}),
    (
        "CREATE TABLE {s}p (id serial PRIMARY KEY)",
        "CREATE TABLE {s}c (id serial PRIMARY KEY, p_id int REFERENCES {s}p (id) ON UPDATE CASCADE)",
    ),
)
case(
    PG,
    "fk missing",
    pair(),
    ("CREATE TABLE {s}p (id serial PRIMARY KEY)", "CREATE TABLE {s}c (id serial PRIMARY KEY, p_id int)"),
    expect="c",
)
case(
    PG,
    "fk no action spelled",
    pair({"ondelete": "NO ACTION"}),
    (
        "CREATE TABLE {s}p (id serial PRIMARY KEY)",
        "CREATE TABLE {s}c (id serial PRIMARY KEY, p_id int REFERENCES {s}p (id))",
    ),
)
case(
    PG,
    "pk columns",
    table(sa.Column("id", sa.Integer, primary_key=True), sa.Column("b", sa.Integer, primary_key=True)),
    "CREATE TABLE {s}t (id int, b int NOT NULL, PRIMARY KEY (id))",
    expect="t",
)

# identity, serial, computed, comments, names
case(PG, "serial is integer pk", table(ID), "CREATE TABLE {s}t (id serial PRIMARY KEY)")
case(
    PG,
    "bigserial",
    table(sa.Column("id", sa.BigInteger, primary_key=True)),
    "CREATE TABLE {s}t (id bigserial PRIMARY KEY)",
)
case(
    PG,
    "identity by default",
    table(sa.Column("id", sa.Integer, sa.Identity(), primary_key=True)),
    "CREATE TABLE {s}t (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY)",
)
case(
    PG,
    "identity always vs by default",
    table(sa.Column("id", sa.Integer, sa.Identity(always=True), primary_key=True)),
    "CREATE TABLE {s}t (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY)",
    expect="t.id",
)
case(
    PG,
    "serial vs identity",
    table(sa.Column("id", sa.Integer, sa.Identity(), primary_key=True)),
    "CREATE TABLE {s}t (id serial PRIMARY KEY)",
    expect="t.id",
)
case(
    PG,
    "computed equal",
    table(ID, sa.Column("a", sa.Integer), sa.Column("b", sa.Integer, sa.Computed("a*2", persisted=True))),
    "CREATE TABLE {s}t (id serial PRIMARY KEY, a int, b int GENERATED ALWAYS AS (a * 2) STORED)",
)
case(
    PG,
    "computed changed",
    table(ID, sa.Column("a", sa.Integer), sa.Column("b", sa.Integer, sa.Computed("a*3", persisted=True))),
    "CREATE TABLE {s}t (id serial PRIMARY KEY, a int, b int GENERATED ALWAYS AS (a * 2) STORED)",
    expect="t.b",
)
case(
    PG,
    "table comment equal",
    table(ID, comment="people"),
    ("CREATE TABLE {s}t (id serial PRIMARY KEY)", "COMMENT ON TABLE {s}t IS 'people'"),
)
case(
    PG,
    "table comment changed",
    table(ID, comment="persons"),
    ("CREATE TABLE {s}t (id serial PRIMARY KEY)", "COMMENT ON TABLE {s}t IS 'people'"),
    expect="t",
)
case(
    PG,
    "column comment",
    table(ID, sa.Column("a", sa.Integer, comment="the a")),
    "CREATE TABLE {s}t (id serial PRIMARY KEY, a int)",
    expect="t.a",
)
LONG = "t" * 63  # PostgreSQL's limit (SQLAlchemy refuses longer names for it)
case(
    PG,
    "63-character names",
    table(ID, sa.Column("a", sa.Integer), sa.Index("i" * 63, "a"), name=LONG),
    (f"CREATE TABLE {{s}}{LONG} (id serial PRIMARY KEY, a int)", f"CREATE INDEX {'i' * 63} ON {{s}}{LONG} (a)"),
)
case(
    PG,
    "64-character name truncated by the server",
    table(ID, sa.Column("a", sa.Integer), sa.Index("i" * 63, "a"), name=LONG),
    (f"CREATE TABLE {{s}}{LONG}x (id serial PRIMARY KEY, a int)", f"CREATE INDEX {'i' * 64} ON {{s}}{LONG} (a)"),
)
case(
    PG,
    "reserved words",
    table(sa.Column("select", sa.Integer, primary_key=True), sa.Column("order", sa.Text), name="user"),
    'CREATE TABLE {s}"user" ("select" serial PRIMARY KEY, "order" text)',
)
case(
    PG,
    "column missing",
    table(ID, sa.Column("a", sa.Integer)),
    "CREATE TABLE {s}t (id serial PRIMARY KEY)",
    expect="t.a",
)
case(PG, "column extra", table(ID), "CREATE TABLE {s}t (id serial PRIMARY KEY, a int)", expect="t.a")
case(PG, "table missing", table(ID), None, live=lambda md: None, expect="t")

# ---------------------------------------------------------------------------------------------
# MariaDB / MySQL
# ---------------------------------------------------------------------------------------------
for spelling, model in [
    ("int", sa.Integer),
    ("INTEGER", sa.Integer),
    ("int(11)", sa.Integer),
    ("bigint", sa.BigInteger),
    ("smallint", sa.SmallInteger),
    ("tinyint(1)", sa.Boolean),
    ("BOOLEAN", sa.Boolean),
    ("double", sa.Double),
    ("float", sa.Float),
    ("varchar(20)", sa.String(20)),
    ("VARCHAR(20)", sa.String(20)),
    ("text", sa.Text),
    ("datetime", sa.DateTime),
    ("date", sa.Date),
    ("time", sa.Time),
    ("decimal(10,2)", sa.Numeric(10, 2)),
    ("numeric(10, 2)", sa.Numeric(10, 2)),
    ("blob", sa.LargeBinary),
    ("enum('a','b')", sa.Enum("a", "b")),
    ("json", sa.JSON),
    ("mediumtext", mysql.MEDIUMTEXT),
    ("timestamp NULL", sa.TIMESTAMP),
]:
    case(
        MY,
        f"type alias {spelling}",
        table(ID, sa.Column("a", model)),
        f"CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, a {spelling})",
    )
for spelling, model in [
    ("int", sa.BigInteger),
    ("varchar(20)", sa.String(30)),
    ("decimal(10,2)", sa.Numeric(12, 2)),
    ("enum('a','b')", sa.Enum("a", "b", "c")),
    ("text", sa.String(40)),
    ("int", sa.SmallInteger),
]:
    case(
        MY,
        f"type {spelling} -> {model!r}",
        table(ID, sa.Column("a", model)),
        f"CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, a {spelling})",
        expect="t.a",
    )
for live_default, kind, model_type, model_default, equal in [
    ("'1'", "int", sa.Integer, "1", True),
    ("1", "int", sa.Integer, sa.text("'1'"), True),
    ("1.50", "decimal(5,2)", sa.Numeric(5, 2), "1.5", True),
    ("'x'", "varchar(5)", sa.String(5), "x", True),
    ("CURRENT_TIMESTAMP", "datetime", sa.DateTime, sa.func.now(), True),
    ("current_timestamp()", "timestamp", sa.TIMESTAMP, sa.text("CURRENT_TIMESTAMP"), True),
    ("1", "int", sa.Integer, "2", False),
    ("'x'", "varchar(5)", sa.String(5), "y", False),
    ("0", "tinyint(1)", sa.Boolean, sa.false(), True),
]:
    case(
        MY,
        f"default {live_default} vs {model_default}",
        table(ID, sa.Column("a", model_type, server_default=model_default, nullable=False)),
        f"CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, a {kind} NOT NULL DEFAULT {live_default})",
        expect=None if equal else "t.a",
    )
case(
    MY,
    "default removed",
    table(ID, sa.Column("a", sa.Integer)),
    "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, a int DEFAULT 0)",
    expect="t.a",
)
case(
    MY,
    "nullability",
    table(ID, sa.Column("a", sa.Integer, nullable=False)),
    "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, a int)",
    expect="t.a",
)
MY_IX = "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, a int, b int, c varchar(20))"
case(MY, "index equal", with_index("a", "b"), (MY_IX, "CREATE INDEX ix_t ON t (a, b)"))
case(MY, "index column order", with_index("b", "a"), (MY_IX, "CREATE INDEX ix_t ON t (a, b)"), expect="t.ix_t")
case(MY, "index missing", with_index("a"), (MY_IX,), expect="t.ix_t")
case(
    MY,
    "index extra",
    table(ID, sa.Column("a", sa.Integer), sa.Column("b", sa.Integer), sa.Column("c", sa.String(20))),
    (MY_IX, "CREATE INDEX ix_t ON t (a)"),
    expect="t.ix_t",
)
case(MY, "index unique vs not", with_index("a", unique=True), (MY_IX, "CREATE INDEX ix_t ON t (a)"), expect="t.ix_t")
case(
    MY,
    "index prefix length",
    with_index("c", mysql_length={"c": 5}),
    (MY_IX, "CREATE INDEX ix_t ON t (c)"),
    expect="t.ix_t",
)
case(MY, "index prefix equal", with_index("c", mysql_length={"c": 5}), (MY_IX, "CREATE INDEX ix_t ON t (c(5))"))
case(
    MY,
    "unique constraint",
    table(ID, sa.Column("a", sa.Integer, unique=True)),
    "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, a int UNIQUE)",
)
case(
    MY,
    "unique missing",
    table(ID, sa.Column("a", sa.Integer, unique=True)),
    "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, a int)",
    expect="t",
)
case(
    MY,
    "check text vs value",
    table(ID, sa.Column("a", sa.Integer), sa.CheckConstraint("a>0", name="ck_a")),
    "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, a int, CONSTRAINT ck_a CHECK ((`a` > 0)))",
)
case(
    MY,
    "check changed",
    table(ID, sa.Column("a", sa.Integer), sa.CheckConstraint("a >= 0", name="ck_a")),
    "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, a int, CONSTRAINT ck_a CHECK (a > 0))",
    expect="t",
)
case(
    MY,
    "unnamed check",
    table(ID, sa.Column("a", sa.Integer), sa.CheckConstraint("a > 0")),
    "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, a int, CHECK (a>0))",
)
MY_P = "CREATE TABLE p (id int AUTO_INCREMENT PRIMARY KEY)"
case(
    MY,
    "fk equal",
    pair(),
    (MY_P, "CREATE TABLE c (id int AUTO_INCREMENT PRIMARY KEY, p_id int, FOREIGN KEY (p_id) REFERENCES p (id))"),
)
case(
    MY,
    "fk on delete cascade",
    pair({"ondelete": "CASCADE"}),
    (MY_P, "CREATE TABLE c (id int AUTO_INCREMENT PRIMARY KEY, p_id int, FOREIGN KEY (p_id) REFERENCES p (id))"),
    expect="c",
)
case(
    MY,
    "fk on update",
    pair({"onupdate": "CASCADE"}),
    (
        MY_P,
        "CREATE TABLE c (id int AUTO_INCREMENT PRIMARY KEY, p_id int, FOREIGN KEY (p_id) REFERENCES p (id) ON UPDATE CASCADE)",
    ),
)
case(MY, "fk missing", pair(), (MY_P, "CREATE TABLE c (id int AUTO_INCREMENT PRIMARY KEY, p_id int)"), expect="c")
case(MY, "auto_increment", table(ID), "CREATE TABLE t (id int NOT NULL AUTO_INCREMENT, PRIMARY KEY (id))")
case(MY, "auto_increment missing", table(ID), "CREATE TABLE t (id int NOT NULL, PRIMARY KEY (id))", expect="t.id")
case(
    MY,
    "computed equal",
    table(ID, sa.Column("a", sa.Integer), sa.Column("b", sa.Integer, sa.Computed("a*2", persisted=True))),
    "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, a int, b int AS (a * 2) STORED)",
)
case(
    MY,
    "computed changed",
    table(ID, sa.Column("a", sa.Integer), sa.Column("b", sa.Integer, sa.Computed("a*3", persisted=True))),
    "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, a int, b int AS (a * 2) STORED)",
    expect="t.b",
)
case(
    MY,
    "table comment",
    table(ID, comment="people"),
    "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY) COMMENT 'people'",
)
case(
    MY,
    "table comment changed",
    table(ID, comment="persons"),
    "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY) COMMENT 'people'",
    expect="t",
)
case(
    MY,
    "column comment",
    table(ID, sa.Column("a", sa.Integer, comment="the a")),
    "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, a int COMMENT 'the a')",
)
MY_LONG = "m" * 64
case(
    MY,
    "64-character table name",
    table(ID, name=MY_LONG),
    f"CREATE TABLE {MY_LONG} (id int AUTO_INCREMENT PRIMARY KEY)",
)
case(
    MY,
    "reserved words",
    table(sa.Column("select", sa.Integer, primary_key=True), sa.Column("order", sa.Text), name="user"),
    "CREATE TABLE `user` (`select` int AUTO_INCREMENT PRIMARY KEY, `order` text)",
)
case(
    MY,
    "column missing",
    table(ID, sa.Column("a", sa.Integer)),
    "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY)",
    expect="t.a",
)
case(MY, "column extra", table(ID), "CREATE TABLE t (id int AUTO_INCREMENT PRIMARY KEY, a int)", expect="t.a")

# ---------------------------------------------------------------------------------------------
# SQLite
# ---------------------------------------------------------------------------------------------
for spelling, model in [
    ("INTEGER", sa.Integer),
    ("int", sa.Integer),
    ("BIGINT", sa.BigInteger),
    ("varchar(20)", sa.String(20)),
    ("VARCHAR (20)", sa.String(20)),
    ("TEXT", sa.Text),
    ("BOOLEAN", sa.Boolean),
    ("FLOAT", sa.Float),
    ("NUMERIC(10, 2)", sa.Numeric(10, 2)),
    ("DATETIME", sa.DateTime),
    ("DATE", sa.Date),
    ("BLOB", sa.LargeBinary),
]:
    case(
        LITE,
        f"type alias {spelling}",
        table(ID, sa.Column("a", model)),
        f"CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, a {spelling})",
    )
for spelling, model in [("INTEGER", sa.Text), ("VARCHAR(20)", sa.String(30)), ("NUMERIC(10, 2)", sa.Numeric(12, 2))]:
    case(
        LITE,
        f"type {spelling} -> {model!r}",
        table(ID, sa.Column("a", model)),
        f"CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, a {spelling})",
        expect="t.a",
    )
for live_default, model_type, model_default, equal in [
    ("'x'", sa.String(5), "x", True),
    ("1", sa.Integer, "1", True),
    ("(1)", sa.Integer, "1", True),
    ("CURRENT_TIMESTAMP", sa.DateTime, sa.func.current_timestamp(), True),
    ("1.50", sa.Numeric(5, 2), "1.5", True),
    ("1", sa.Integer, "2", False),
    ("'x'", sa.String(5), "y", False),
]:
    case(
        LITE,
        f"default {live_default} vs {model_default}",
        table(ID, sa.Column("a", model_type, server_default=model_default)),
        f"CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, a {sa.types.to_instance(model_type).compile(dialect=sqlite.dialect())} DEFAULT {live_default})",
        expect=None if equal else "t.a",
    )
LITE_IX = "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, a INTEGER, b INTEGER, c VARCHAR(20))"
case(LITE, "index equal", with_index("a", "b"), (LITE_IX, "CREATE INDEX ix_t ON t(a,b)"))
case(LITE, "index column order", with_index("b", "a"), (LITE_IX, "CREATE INDEX ix_t ON t (a, b)"), expect="t.ix_t")
case(LITE, "index missing", with_index("a"), (LITE_IX,), expect="t.ix_t")
case(
    LITE, "index unique vs not", with_index("a", unique=True), (LITE_IX, "CREATE INDEX ix_t ON t (a)"), expect="t.ix_t"
)
case(
    LITE,
    "partial spelled differently",
    with_index("a", sqlite_where=sa.text("a > 1 AND b IS NULL")),
    (LITE_IX, "CREATE INDEX ix_t ON t (a) where a>1 and b is null"),
)
case(
    LITE,
    "partial (a OR b) AND c",
    with_index("a", sqlite_where=sa.text("(a > 1 OR b > 1) AND c IS NULL")),
    (LITE_IX, "CREATE INDEX ix_t ON t (a) WHERE a > 1 OR b > 1 AND c IS NULL"),
    expect="t.ix_t",
)
case(
    LITE, "expression index", with_index(lambda t: sa.func.lower(t.c.c)), (LITE_IX, "CREATE INDEX ix_t ON t (lower(c))")
)
case(
    LITE,
    "check spelled differently",
    table(ID, sa.Column("a", sa.Integer), sa.CheckConstraint("a > 0")),
    "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, a INTEGER, CHECK (a>0))",
)
case(
    LITE,
    "check changed",
    table(ID, sa.Column("a", sa.Integer), sa.CheckConstraint("a >= 0")),
    "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, a INTEGER, CHECK (a>0))",
    expect="t",
)
case(
    LITE,
    "fk equal",
    pair(),
    (
        "CREATE TABLE p (id INTEGER NOT NULL PRIMARY KEY)",
        "CREATE TABLE c (id INTEGER NOT NULL PRIMARY KEY, p_id INTEGER REFERENCES p (id))",
    ),
)
case(
    LITE,
    "fk on delete",
    pair({"ondelete": "CASCADE"}),
    (
        "CREATE TABLE p (id INTEGER NOT NULL PRIMARY KEY)",
        "CREATE TABLE c (id INTEGER NOT NULL PRIMARY KEY, p_id INTEGER REFERENCES p (id))",
    ),
    expect="c",
)
case(
    LITE,
    "unique",
    table(ID, sa.Column("a", sa.Integer, unique=True)),
    "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, a INTEGER UNIQUE)",
)
case(
    LITE,
    "nullability",
    table(ID, sa.Column("a", sa.Integer, nullable=False)),
    "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, a INTEGER)",
    expect="t.a",
)
case(
    LITE,
    "computed",
    table(ID, sa.Column("a", sa.Integer), sa.Column("b", sa.Integer, sa.Computed("a*2"))),
    "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL)",
)
case(
    LITE,
    "reserved words",
    table(sa.Column("select", sa.Integer, primary_key=True), sa.Column("order", sa.Text), name="user"),
    'CREATE TABLE "user" ("select" INTEGER NOT NULL PRIMARY KEY, "order" TEXT)',
)
# a rowid primary key is never NULL, whether or not the DDL says NOT NULL
case(LITE, "rowid primary key written without NOT NULL", table(ID), "CREATE TABLE t (id INTEGER PRIMARY KEY)")
case(
    LITE,
    "column missing",
    table(ID, sa.Column("a", sa.Integer)),
    "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY)",
    expect="t.a",
)


# each dialect's own create_all output, planned against itself
def _models(md: sa.MetaData) -> None:
    schema = md.schema + "." if md.schema else ""
    users = sa.Table(
        "users",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(255), nullable=False, unique=True),
        sa.Column("name", sa.String(100), server_default="anon"),
        sa.Column("active", sa.Boolean, server_default=sa.true()),
        sa.Column("created", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.Column("meta", sa.JSON),
    )
    docs = sa.Table(
        "docs",
        md,
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("owner_id", sa.Integer, sa.ForeignKey(f"{schema}users.id", ondelete="CASCADE")),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("price", sa.Numeric(12, 2), server_default="0"),
        sa.Column("status", sa.String(20), server_default="draft"),
        sa.CheckConstraint("price >= 0", name="ck_docs_price"),
    )
    sa.Index("ix_docs_owner_title", docs.c.owner_id, docs.c.title)
    sa.Index("ix_users_name", users.c.name)


for dialect in (PG, MY, LITE):
    case(dialect, "own create_all", _models, None)
    case(
        dialect,
        "own create_all, one index gone",
        _models,
        None,
        live=lambda md: (_models(md), md.tables[(md.schema + "." if md.schema else "") + "users"].indexes.clear()),
        expect="users.ix_users_name",
    )


def cases_for(dialect: str) -> list[Case]:
    return [c for c in CASES if c.dialect == dialect]
