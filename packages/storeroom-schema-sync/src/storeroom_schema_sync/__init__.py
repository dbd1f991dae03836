"""Declarative schema sync: plan, apply and check a SQLAlchemy MetaData against a live database.

The desired schema is rendered into scratch space on the same server and both sides are read
with the same bulk catalog queries, so the server spells them alike and nothing drifts falsely.
"""

from storeroom_schema_sync.apply import ApplyReport, apply
from storeroom_schema_sync.operations import Operation
from storeroom_schema_sync.plan import Plan, check, plan

__all__ = ["ApplyReport", "Operation", "Plan", "apply", "check", "plan"]
