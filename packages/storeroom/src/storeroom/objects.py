"""Value types returned by object storage backends."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

__all__ = ["ObjectInfo"]

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What a backend knows about one stored object.

    ``stat()`` fills every field; ``list()`` may leave ``content_type`` as ``None``
    and ``metadata`` empty where the service does not return them in listings (S3).
    """

    key: str
    size: int
    etag: str | None = None
    content_type: str | None = None
    metadata: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    last_modified: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.metadata, MappingProxyType):
            object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))
