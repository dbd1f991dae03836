"""What a failed commit means for a unit of work: finish it, undo it, or leave it to ``recover()``.

A COMMIT that fails may still have committed: the connection can drop after the server
received it and before its reply arrived. Undoing then would delete objects that committed
rows point at. So once COMMIT may have been sent, the unit asks a fresh connection for its
commit marker (:meth:`~storeroom.uow.journal.Journal.check_commit`) and :func:`settle`
decides here, free of I/O; the sync and async units only ask and act.

Without a marker (``journal=False``) only a refusal from the server itself (a constraint
checked at commit, a serialization failure) proves a rollback. Anything else leaves the
outcome unknown, and then nothing is touched: deleting objects that committed rows may
point at would lose data, while objects kept by mistake are only orphans.
"""

from __future__ import annotations

import enum

from storeroom.errors import CommitOutcomeUnknownError, IntegrityError, TransactionError
from storeroom.logs import get_logger
from storeroom.uow.state import UnitState
from storeroom.uow.steps import finish_actions, undo_actions

__all__ = ["Outcome", "refused", "settle"]

logger = get_logger("storeroom.uow")


class Outcome(enum.Enum):
    COMMITTED = "committed"  # finish it: deferred deletes, drop backups, clear the journal
    ROLLED_BACK = "rolled back"  # undo it


def refused(error: BaseException) -> bool:
    """Whether the server answered the COMMIT with a refusal, which always rolls the transaction back."""
    return isinstance(error, IntegrityError) or (
        isinstance(error, TransactionError) and bool(getattr(error, "retryable", False))
    )


def settle(state: UnitState, error: BaseException, check: bool | Exception | None, *, journal_in_tx: bool) -> Outcome:
    """How a unit whose commit raised ``error`` ends; raises when that cannot be told.

    ``check``: the marker check's answer (True: there, False: not there), what made it fail, or
    None when there was nothing to check (no marker, or COMMIT was never sent). Unknown raises
    :class:`CommitOutcomeUnknownError` chained to ``error`` - or, for a cancellation or an
    interrupt, re-raises that with a note, so it still propagates.
    """
    if not state.commit_sent or check is False:
        return Outcome.ROLLED_BACK
    if check is True:
        logger.warning(
            "unit of work %s: the COMMIT failed (%s) but its marker is there: it committed; finishing it",
            state.unit_id,
            type(error).__name__,
        )
        return Outcome.COMMITTED
    if refused(error):
        return Outcome.ROLLED_BACK
    unknown = _unknown(state, error, check, recoverable=check is not None and not journal_in_tx)
    if isinstance(error, Exception):
        raise unknown from error
    error.add_note(str(unknown))
    logger.error("%s", unknown)
    raise error


def _unknown(
    state: UnitState, error: BaseException, check: Exception | None, *, recoverable: bool
) -> CommitOutcomeUnknownError:
    if_committed = [action.describe() for action in finish_actions(state.steps)]
    if_rolled_back = [action.describe() for action in undo_actions(state.steps)]
    why = f"the check failed: {type(check).__name__}" if check is not None else "it has no commit marker (no journal)"
    if recoverable:
        then = (
            "nothing was undone or finished; room.recover() (storeroom uow recover) settles it once its "
            "database is reachable: it finishes the unit if it committed and undoes it if not"
        )
    else:
        then = (
            "nothing was undone or finished, and no journal outside the transaction lets recover() settle it: "
            f"if it committed, {'; '.join(if_committed) or 'nothing is left to do'}; "
            f"if not, {'; '.join(if_rolled_back) or 'nothing is left to do'}"
        )
    return CommitOutcomeUnknownError(
        f"unit of work {state.unit_id}: the COMMIT failed ({type(error).__name__}) and whether it took effect "
        f"is unknown ({why}); {then}",
        unit_id=state.unit_id,
        recoverable=recoverable,
        if_committed=tuple(if_committed),
        if_rolled_back=tuple(if_rolled_back),
    )
