"""PostgreSQL row-level security for tenant tables: defence in depth under the repositories.

``policies(metadata)`` returns the DDL to run once (by a migration, as the table owner):
ENABLE and FORCE row level security, and one policy per command. The policies read the
tenant from the transaction-local setting ``storeroom.tenant_id``, which a repository
created with ``rls=True`` sets at the start of each of its transactions with
``set_config('storeroom.tenant_id', ..., true)``: it ends with the transaction, so it can
never leak to the next user of a pooled connection. No setting (or an empty one) matches no
row: fail closed. Several tenants (``tenant(["a", "b"])``) arrive comma-separated: reads see
all of them; inserts, updates and deletes only the first, as in the repositories.

The application must connect as a role that does not own the tables and has no
``BYPASSRLS`` (FORCE makes even the owner subject to the policies; superusers always bypass).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from storeroom_orm.model import Model

__all__ = ["READ_CHECK", "WRITE_CHECK", "policies"]

_SETTING = "NULLIF(current_setting('storeroom.tenant_id', true), '')"
#: a row is visible when its tenant is one of the transaction's tenants
READ_CHECK = f"(tenant_id)::text = ANY (string_to_array({_SETTING}, ','))"
#: a row may be written when its tenant is the transaction's (first) tenant
WRITE_CHECK = f"(tenant_id)::text = split_part({_SETTING}, ',', 1)"


def _tables(source: sa.MetaData | Iterable[Any]) -> list[sa.Table]:
    if isinstance(source, sa.MetaData):
        return list(source.sorted_tables)
    tables = []
    for item in source:
        if isinstance(item, sa.Table):
            tables.append(item)
        elif isinstance(item, type) and issubclass(item, Model) and item.__orm__ is not None:
            tables.append(item.__orm__.table)
        else:
            raise TypeError(f"policies() takes a MetaData, Tables or table models, got {item!r}")
    return tables


def policies(source: sa.MetaData | Iterable[Any]) -> list[str]:
    """The RLS statements for every table with a ``tenant_id`` column, in dependency order."""
    preparer = postgresql.dialect().identifier_preparer
    statements: list[str] = []
    for table in _tables(source):
        if "tenant_id" not in table.c:
            continue
        name = preparer.format_table(table)
        statements += [
            f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS storeroom_tenant_select ON {name}",
            f"CREATE POLICY storeroom_tenant_select ON {name} FOR SELECT USING ({READ_CHECK})",
            f"DROP POLICY IF EXISTS storeroom_tenant_insert ON {name}",
            f"CREATE POLICY storeroom_tenant_insert ON {name} FOR INSERT WITH CHECK ({WRITE_CHECK})",
            f"DROP POLICY IF EXISTS storeroom_tenant_update ON {name}",
            f"CREATE POLICY storeroom_tenant_update ON {name} FOR UPDATE USING ({WRITE_CHECK}) WITH CHECK ({WRITE_CHECK})",
            f"DROP POLICY IF EXISTS storeroom_tenant_delete ON {name}",
            f"CREATE POLICY storeroom_tenant_delete ON {name} FOR DELETE USING ({WRITE_CHECK})",
        ]
    return statements
