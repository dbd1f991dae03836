"""Settings for a ``backend = "sqlite"`` entry."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from storeroom.config.models import DatabaseSettings

__all__ = ["JournalMode", "SQLiteSettings"]

JournalMode = Literal["wal", "delete", "truncate", "persist", "memory", "off"]


class SQLiteSettings(DatabaseSettings):
    """``url`` (``sqlite:///path``, ``sqlite:///:memory:``, or with an explicit driver),
    ``busy_timeout`` (seconds to wait for a lock held by another connection) and
    ``journal_mode`` (default ``wal`` for file databases)."""

    url: str = "sqlite:///var/storeroom.db"
    busy_timeout: float = Field(5.0, ge=0)
    journal_mode: JournalMode | None = None

    @field_validator("url")
    @classmethod
    def _sqlite_url(cls, value: str) -> str:
        scheme = value.split(":", 1)[0].lower()
        if scheme != "sqlite" and not scheme.startswith("sqlite+"):
            raise ValueError("expected a sqlite URL such as sqlite:///var/storeroom.db or sqlite:///:memory:")
        return value

    @field_validator("journal_mode", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value
