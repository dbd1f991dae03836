"""Construction shared by the sync and async local storages."""

from __future__ import annotations

import os
from typing import Any, ClassVar, Self

from storeroom_local._files import LocalFiles
from storeroom_local.settings import LocalStorageSettings

__all__ = ["LocalBase"]


class LocalBase:
    PLUGIN_NAME: ClassVar[str] = "local"
    settings_model: ClassVar[type[Any] | None] = LocalStorageSettings

    def __init__(
        self, root: str | os.PathLike[str] = "var/objects", *, fsync: bool = True, name: str = "default"
    ) -> None:
        self.name = name
        self._files = LocalFiles(root, fsync=fsync, setting=f"storages.{name}.root")

    @classmethod
    def from_settings(cls, name: str, settings: Any) -> Self:
        return cls(settings.root, fsync=settings.fsync, name=name)

    @property
    def root(self) -> str:
        """The absolute root folder."""
        return self._files.root
