"""A reference to stored content that lives in a database row (a JSON column)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["StoredObjectRef"]


class StoredObjectRef(BaseModel):
    """Where an upload went and what it was; round-trips through ``model_dump_json``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    storage: str
    key: str
    size: int = Field(ge=0)
    content_type: str | None = None
    checksum: str | None = Field(None, description="'sha256:<hex>' of the stored bytes")
    filename: str | None = Field(None, description="the uploader's original file name, for display only")
