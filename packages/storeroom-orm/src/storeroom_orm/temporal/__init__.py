"""Temporal models: ``copy_on_change`` (an audit trail of field changes) and ``scd2`` (versions).

See docs/temporal.md. The strategies are further step generators over the same statement
builder as every repository operation, so sync and async repositories share all of it.
"""

from storeroom_orm.temporal.changes import FieldChange, FieldDiff

__all__ = ["FieldChange", "FieldDiff"]
