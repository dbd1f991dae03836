"""Settings of the ``local`` backend (``[default.storages.<name>]`` with ``backend = "local"``)."""

from __future__ import annotations

from pydantic import Field

from storeroom.config.models import StorageSettings

__all__ = ["LocalStorageSettings"]


class LocalStorageSettings(StorageSettings):
    """``root`` is made if missing; relative roots are relative to the working directory."""

    root: str = Field("var/objects", min_length=1)
    #: flush data and folders to disk before a write returns; turn off only for throwaway data (tests)
    fsync: bool = True
