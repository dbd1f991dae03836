"""The unit of work: object writes that succeed or fail together with a database transaction.

See :class:`UnitOfWork` / :class:`AsyncUnitOfWork`, :func:`recover`, and docs/unit-of-work.md.
"""

from storeroom.uow.async_unit import AsyncUnitOfWork
from storeroom.uow.journal import JOURNAL_TABLE
from storeroom.uow.recovery import DEFAULT_RECOVERY_AGE, RecoveryReport, arecover, recover
from storeroom.uow.steps import BACKUP_PREFIX
from storeroom.uow.unit import UnitOfWork

__all__ = [
    "BACKUP_PREFIX",
    "DEFAULT_RECOVERY_AGE",
    "JOURNAL_TABLE",
    "AsyncUnitOfWork",
    "RecoveryReport",
    "UnitOfWork",
    "arecover",
    "recover",
]
