"""Running a plan of :class:`~storeroom.uow.steps.Action` against the storages.

Shared by live compensation and by crash recovery. Every action is attempted even when
an earlier one failed (undoing as much as possible); what failed comes back as text,
one line per action, for :class:`~storeroom.errors.CompensationError`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from storeroom.errors import ObjectNotFoundError
from storeroom.logs import get_logger
from storeroom.redaction import redact
from storeroom.uow.steps import Action

__all__ = ["apply_actions", "apply_actions_async"]

logger = get_logger("storeroom.uow")


def _failure(action: Action, exc: BaseException) -> str:
    return redact(f"{action.describe()}: {type(exc).__name__}: {exc}")


def _changed(action: Action, etag: str | None) -> None:
    logger.warning(
        "unit of work: %s:%s changed after the unit wrote it (etag %s, expected %s); left as it is",
        action.storage,
        action.key,
        etag,
        action.expect_etag,
    )


def apply_actions(actions: Sequence[Action], resolve: Callable[[str], Any]) -> list[str]:
    failures: list[str] = []
    for action in actions:
        try:
            storage = resolve(action.storage)
            if action.kind == "restore":
                assert action.source is not None
                try:
                    storage.copy(action.source, action.key, overwrite=True)
                except ObjectNotFoundError:
                    continue  # no backup: never taken (a crash came first), or already restored by a run before
                storage.delete(action.source)
            elif action.kind == "remove" and action.expect_etag is not None:
                try:
                    etag = storage.stat(action.key).etag
                except ObjectNotFoundError:
                    continue
                if etag != action.expect_etag:
                    _changed(action, etag)
                    continue
                storage.delete(action.key)
            else:
                storage.delete(action.key)
        except Exception as exc:  # noqa: BLE001 - keep undoing; report what is left
            failures.append(_failure(action, exc))
    return failures


async def apply_actions_async(actions: Sequence[Action], resolve: Callable[[str], Any]) -> list[str]:
    failures: list[str] = []
    for action in actions:
        try:
            storage = resolve(action.storage)
            if action.kind == "restore":
                assert action.source is not None
                try:
                    await storage.copy(action.source, action.key, overwrite=True)
                except ObjectNotFoundError:
                    continue  # no backup: never taken (a crash came first), or already restored by a run before
                await storage.delete(action.source)
            elif action.kind == "remove" and action.expect_etag is not None:
                try:
                    etag = (await storage.stat(action.key)).etag
                except ObjectNotFoundError:
                    continue
                if etag != action.expect_etag:
                    _changed(action, etag)
                    continue
                await storage.delete(action.key)
            else:
                await storage.delete(action.key)
        except Exception as exc:  # noqa: BLE001
            failures.append(_failure(action, exc))
    return failures
