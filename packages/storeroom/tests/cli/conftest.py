"""Fixtures for CLI tests: a clean environment and small, real test plugins.

The test plugins are registered through ``PluginManager.register`` exactly as an
entry-point plugin would be; nothing in storeroom itself is mocked.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from storeroom import hookimpl
from storeroom.cli import StoreroomGroup, create_cli
from storeroom.config.models import ServerDatabaseSettings, StorageSettings
from storeroom.database import DatabaseInterface, Transaction
from storeroom.errors import ConnectionFailedError, ObjectExistsError, ObjectNotFoundError
from storeroom.health import HealthResult, HealthStatus
from storeroom.objects import ObjectInfo
from storeroom.plugins import PluginManager
from storeroom.pool import PoolInfo
from storeroom.storage import ObjectStorage
from storeroom.streams import ByteSource

_ENV_PREFIXES = ("STOREROOM_", "DYNACONF_")
_ENV_NAMES = ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS", "TERM")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No STOREROOM_* variables or colour forcing leak in; run in an empty directory."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) or name in _ENV_NAMES:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- a small in-memory storage whose health is configurable -----------------------------


class DictStorageSettings(StorageSettings):
    health: Literal["healthy", "degraded", "unhealthy"] = "healthy"
    probe_delay: float = 0.0
    secret_access_key: SecretStr | None = None
    account_key: SecretStr | None = None
    connection_string: SecretStr | None = None


class DictStorage(ObjectStorage):
    """Objects in a dict; ``health`` in its settings decides what health checks report."""

    PLUGIN_NAME: ClassVar[str] = "dict-test"
    settings_model: ClassVar[type[Any] | None] = DictStorageSettings

    def __init__(self, name: str = "default", settings: DictStorageSettings | None = None) -> None:
        self.name = name
        self.settings = settings or DictStorageSettings(backend=self.PLUGIN_NAME)
        self._objects: dict[str, tuple[bytes, ObjectInfo]] = {}
        self._lock = threading.Lock()
        self.closed = False

    @classmethod
    def from_settings(cls, name: str, settings: Any) -> DictStorage:
        return cls(name, settings)

    def _write(
        self, key: str, source: ByteSource, *, content_type: str | None, metadata: dict[str, str], overwrite: bool
    ) -> ObjectInfo:
        data = b"".join(source)
        info = ObjectInfo(key, len(data), None, content_type, metadata)
        with self._lock:
            if not overwrite and key in self._objects:
                raise ObjectExistsError(f"{key!r} exists", key=key)
            self._objects[key] = (data, info)
        return info

    def _get(self, key: str) -> tuple[bytes, ObjectInfo]:
        try:
            return self._objects[key]
        except KeyError:
            raise ObjectNotFoundError(f"no object {key!r}", key=key) from None

    def _read_stream(self, key: str, chunk_size: int) -> Iterator[bytes]:
        data = self._get(key)[0]
        return iter([data[i : i + chunk_size] for i in range(0, len(data), chunk_size)])

    def _read_range(self, key: str, start: int, end: int) -> bytes:
        return self._get(key)[0][start:end]

    def _stat(self, key: str) -> ObjectInfo:
        return self._get(key)[1]

    def _delete(self, key: str) -> bool:
        with self._lock:
            return self._objects.pop(key, None) is not None

    def _list(self, prefix: str, start_after: str | None) -> Iterator[ObjectInfo]:
        keys = sorted(k for k in self._objects if k.startswith(prefix) and (start_after is None or k > start_after))
        return iter([self._objects[k][1] for k in keys])

    def _health_probe(self) -> dict[str, Any]:
        time.sleep(self.settings.probe_delay)
        if self.settings.health == "unhealthy":
            raise ConnectionError("the store is down")
        return {"objects": len(self._objects)}

    def health_check(self, timeout: float = 5.0) -> HealthResult:
        result = super().health_check(timeout)
        if self.settings.health == "degraded" and result.status is HealthStatus.HEALTHY:
            return HealthResult(result.component, HealthStatus.DEGRADED, "slow", result.latency_ms, result.details)
        return result

    def close(self) -> None:
        self.closed = True


# -- a client/server database stand-in: it answers health checks only -----------------------


class ServerTestSettings(ServerDatabaseSettings):
    reachable: bool = True


class ServerTestDatabase(DatabaseInterface):
    """Validates settings like a real server backend; ``reachable = false`` plays a server that is down.

    Queries always fail to connect: the CLI only needs settings and health.
    """

    PLUGIN_NAME: ClassVar[str] = "server-test"
    settings_model: ClassVar[type[Any] | None] = ServerTestSettings

    def __init__(self, name: str, settings: ServerTestSettings) -> None:
        self.name = name
        self.settings = settings

    @classmethod
    def from_settings(cls, name: str, settings: Any) -> ServerTestDatabase:
        return cls(name, settings)

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionFailedError(f"database {self.name!r}: connection refused")

    fetch_all = fetch_one = fetch_value = execute = execute_many = stream = bulk_insert = _fail
    session = _fail

    @property
    def engine(self) -> Any:
        return self._fail()

    @contextmanager
    def transaction(self, isolation_level: str | None = None, read_only: bool = False) -> Iterator[Transaction]:
        self._fail()
        yield  # type: ignore[misc]

    def health_check(self, timeout: float = 5.0) -> HealthResult:
        component = f"databases.{self.name}"
        if not self.settings.reachable:
            return HealthResult(component, HealthStatus.UNHEALTHY, "ConnectionFailedError: connection refused", 1.0)
        return HealthResult(component, HealthStatus.HEALTHY, "ok", 1.0)

    def pool_info(self) -> PoolInfo:
        return PoolInfo(5, 0, 0, 15)

    def server_version(self) -> str | None:
        return "1.0"

    def close(self) -> None:
        pass


class BackendsPlugin:
    """What a plugin's ``plugin.py`` module does, as an object."""

    @hookimpl
    def storeroom_register_object_storages(self) -> list[type[Any]]:
        return [DictStorage]

    @hookimpl
    def storeroom_register_databases(self) -> list[type[Any]]:
        return [ServerTestDatabase]


@pytest.fixture
def plugins() -> PluginManager:
    """A plugin manager with only the test backends (no installed entry points)."""
    manager = PluginManager(load_entry_points=False, disabled=set())
    manager.register(BackendsPlugin(), name="test-backends")
    return manager


@pytest.fixture
def app(plugins: PluginManager) -> StoreroomGroup:
    return create_cli(plugins=plugins)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


#: a healthy database entry, so tests of storages do not fall back to the embedded SQLite default
DATABASE = '[default.databases.main]\nbackend = "server-test"\nurl = "postgresql://app@db.internal/app"\n'


@pytest.fixture
def write_settings(tmp_path: Path) -> Callable[..., Path]:
    """Write a settings file into the test's directory and return its path.

    ``with_database=True`` prepends a healthy ``databases.main`` entry.
    """

    def write(text: str, name: str = "settings.toml", *, with_database: bool = False) -> Path:
        path = tmp_path / name
        path.write_text((DATABASE if with_database else "") + text, encoding="utf-8")
        return path

    return write
