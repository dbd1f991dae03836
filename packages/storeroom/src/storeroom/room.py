"""The ``Storeroom``: named databases, storages and policies built from settings."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Self

from storeroom.database import check_connection_allowed
from storeroom.errors import ConfigurationError, StoreroomError
from storeroom.health import HealthResult, HealthStatus

if TYPE_CHECKING:
    from storeroom.database import AsyncDatabaseInterface, DatabaseInterface
    from storeroom.plugins import BackendRegistry, PluginManager
    from storeroom.policy import StoragePolicy
    from storeroom.storage import AsyncObjectStorage, ObjectStorage
    from storeroom.uow import AsyncUnitOfWork, RecoveryReport, UnitOfWork

__all__ = ["Storeroom", "from_config"]


def _pick_default(namespace: str, entries: Mapping[str, Any]) -> str | None:
    defaults = [name for name, entry in entries.items() if getattr(entry, "default", False)]
    if len(defaults) > 1:
        raise ConfigurationError(
            f"{namespace}: several entries say default = true ({', '.join(sorted(defaults))}); keep one",
            key=f"{namespace}.{defaults[1]}.default",
        )
    if defaults:
        return defaults[0]
    if len(entries) == 1:
        return next(iter(entries))
    return None


class Storeroom:
    """Holds the validated settings and lazily builds one client per named resource.

    Resources are created on first use and cached; ``close()`` (or the ``with`` /
    ``async with`` block) releases every pool and client that was opened.
    """

    def __init__(self, settings: Mapping[str, Any], *, plugins: PluginManager | None = None) -> None:
        from storeroom.config.loader import check_namespaces
        from storeroom.config.models import PolicySettings, validate_model
        from storeroom.plugins import get_plugin_manager

        check_namespaces(settings)
        self.plugins = plugins or get_plugin_manager()
        self._raw = settings
        self._lock = threading.RLock()
        self._databases = self._validate("databases", self.plugins.databases)
        self._storages = self._validate("storages", self.plugins.storages)
        self._policies = {
            name: validate_model(PolicySettings, raw, f"policies.{name}")
            for name, raw in (settings.get("policies") or {}).items()
        }
        for name, policy in self._policies.items():
            if policy.storage not in self._storages:
                raise ConfigurationError(
                    f"policies.{name}.storage: no storage named {policy.storage!r} "
                    f"(configured: {', '.join(sorted(self._storages)) or 'none'})",
                    key=f"policies.{name}.storage",
                )
        self._default_database = _pick_default("databases", self._databases)
        self._default_storage = _pick_default("storages", self._storages)
        self._open: dict[tuple[str, str], Any] = {}
        self._closed = False

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, Any], *, plugins: PluginManager | None = None, embedded_default: bool = True
    ) -> Self:
        """Build from a plain mapping ``{"databases": {...}, "storages": {...}, "policies": {...}}``."""
        from storeroom.config.loader import normalise_settings

        return cls(normalise_settings(settings, embedded_default=embedded_default), plugins=plugins)

    @classmethod
    def from_config(
        cls,
        settings_files: Sequence[str | os.PathLike[str]] | None = None,
        *,
        environment: str | None = None,
        plugins: PluginManager | None = None,
    ) -> Self:
        """Load settings with Dynaconf (files, environment, ``STOREROOM_*`` overrides) and validate them."""
        from storeroom.config.loader import load_settings

        return cls(load_settings(settings_files, environment=environment), plugins=plugins)

    def _validate(self, namespace: str, registry: BackendRegistry) -> dict[str, Any]:
        from storeroom.config.backends import resolve_backend
        from storeroom.config.models import BackendSettings, validate_model
        from storeroom.errors import PluginNotFoundError

        out: dict[str, Any] = {}
        for name, raw in (self._raw.get(namespace) or {}).items():
            key = f"{namespace}.{name}"
            if not isinstance(raw, dict):
                raise ConfigurationError(f"{key}: expected a table of settings", key=key)
            backend = resolve_backend(raw, key, registry, from_url=namespace == "databases")
            try:
                cls = registry.any_class(backend)
            except PluginNotFoundError as exc:
                raise PluginNotFoundError(
                    f"{key}.backend: {exc.message}",
                    kind=exc.kind,
                    name=exc.name,
                    install_hint=exc.install_hint,
                    disabled=exc.disabled,
                    suggestion=exc.suggestion,
                    key=f"{key}.backend",
                ) from None
            model = getattr(cls, "settings_model", None) or BackendSettings
            out[name] = validate_model(model, {**raw, "backend": backend}, key)
        return out

    # -- settings views ------------------------------------------------------------------------

    @property
    def database_names(self) -> list[str]:
        return sorted(self._databases)

    @property
    def storage_names(self) -> list[str]:
        return sorted(self._storages)

    @property
    def policy_names(self) -> list[str]:
        return sorted(self._policies)

    def _resolve(self, namespace: str, name: str | None, entries: Mapping[str, Any], default: str | None) -> str:
        if name is None:
            if default is None:
                raise ConfigurationError(
                    f"several {namespace} are configured ({', '.join(sorted(entries))}) and none has default = true; "
                    "name one or mark a default",
                    key=namespace,
                )
            return default
        if name not in entries:
            raise ConfigurationError(
                f"no {namespace[:-1]} named {name!r} is configured (configured: {', '.join(sorted(entries)) or 'none'})",
                key=f"{namespace}.{name}",
            )
        return name

    def _get_or_create(self, kind: str, name: str, factory: Any) -> Any:
        if self._closed:
            raise StoreroomError("this Storeroom is closed")
        with self._lock:
            obj = self._open.get((kind, name))
            if obj is None:
                obj = factory()
                self._open[(kind, name)] = obj
            return obj

    def _backend(self, kind: str, registry: BackendRegistry, name: str, settings: Any, *, want_async: bool) -> Any:
        """The cached client for ``name``: the plugin's own class for the wanted side, else the
        other side wrapped in the core adapter (thread offload / blocking portal)."""

        def build() -> Any:
            from storeroom import adapters

            native = registry.get_async(settings.backend) if want_async else registry.get(settings.backend)
            if native is not None:
                return native.from_settings(name, settings)
            other = registry.get(settings.backend) if want_async else registry.get_async(settings.backend)
            assert other is not None  # a registered name always has at least one side
            wrap = {
                ("database", False): adapters.SyncDatabaseFromAsync,
                ("database", True): adapters.AsyncDatabaseFromSync,
                ("storage", False): adapters.SyncStorageFromAsync,
                ("storage", True): adapters.AsyncStorageFromSync,
            }[(kind, want_async)]
            return wrap(other.from_settings(name, settings))

        return self._get_or_create(f"async_{kind}" if want_async else kind, name, build)

    # -- databases -------------------------------------------------------------------------------

    def database(self, name: str | None = None) -> DatabaseInterface:
        """The sync database named ``name`` (default: the one marked default, or the only one)."""
        name = self._resolve("databases", name, self._databases, self._default_database)
        check_connection_allowed(name)
        db: DatabaseInterface = self._backend(
            "database", self.plugins.databases, name, self._databases[name], want_async=False
        )
        return db

    def async_database(self, name: str | None = None) -> AsyncDatabaseInterface:
        name = self._resolve("databases", name, self._databases, self._default_database)
        check_connection_allowed(name)
        adb: AsyncDatabaseInterface = self._backend(
            "database", self.plugins.databases, name, self._databases[name], want_async=True
        )
        return adb

    # -- storages ----------------------------------------------------------------------------------

    def storage(self, name: str | None = None) -> ObjectStorage:
        name = self._resolve("storages", name, self._storages, self._default_storage)
        st: ObjectStorage = self._backend(
            "storage", self.plugins.storages, name, self._storages[name], want_async=False
        )
        return st

    def async_storage(self, name: str | None = None) -> AsyncObjectStorage:
        name = self._resolve("storages", name, self._storages, self._default_storage)
        ast: AsyncObjectStorage = self._backend(
            "storage", self.plugins.storages, name, self._storages[name], want_async=True
        )
        return ast

    def policy(self, name: str) -> StoragePolicy:
        from storeroom.policy import StoragePolicy

        if name not in self._policies:
            raise ConfigurationError(
                f"no policy named {name!r} is configured (configured: {', '.join(self.policy_names) or 'none'})",
                key=f"policies.{name}",
            )
        p = self._policies[name]

        def build() -> StoragePolicy:
            storage = self.storage(p.storage)
            return StoragePolicy(
                name,
                storage,
                p.key_prefix,
                p.max_size,
                p.content_types,
                async_storage=self.async_storage(p.storage),
                storage_name=p.storage,
            )

        return self._get_or_create("policy", name, build)  # type: ignore[no-any-return]

    # -- units of work -----------------------------------------------------------------------------

    def _journal_database(self, journal: str | bool, want_async: bool) -> Any:
        if isinstance(journal, bool):
            return journal
        return self.async_database(journal) if want_async else self.database(journal)

    def unit_of_work(
        self, database: str | None = None, *, journal: str | bool = True, isolation_level: str | None = None
    ) -> UnitOfWork:
        """A :class:`~storeroom.UnitOfWork` over this room's storages (by name).

        ``database``: the named database whose transaction the unit owns (``uow.tx``);
        None attaches none. ``journal``: True journals in that database, a name in another
        one (crash recovery on SQLite, see docs/unit-of-work.md), False not at all.
        """
        from storeroom.uow import UnitOfWork

        db = self.database(database) if database is not None else None
        return UnitOfWork(
            self.storage,
            db,
            journal=self._journal_database(journal, want_async=False),
            isolation_level=isolation_level,
            policies=self.policy,
        )

    def async_unit_of_work(
        self, database: str | None = None, *, journal: str | bool = True, isolation_level: str | None = None
    ) -> AsyncUnitOfWork:
        """The async twin of :meth:`unit_of_work` (``async with room.async_unit_of_work(...) as uow``)."""
        from storeroom.uow import AsyncUnitOfWork

        db = self.async_database(database) if database is not None else None
        return AsyncUnitOfWork(
            self.async_storage,
            db,
            journal=self._journal_database(journal, want_async=True),
            isolation_level=isolation_level,
            policies=self.policy,
        )

    def recover(self, database: str | None = None, *, older_than: float | None = None) -> list[RecoveryReport]:
        """Finish or undo units a crash left journaled; every database, or just ``database``.

        Only units idle for ``older_than`` seconds (default 600) are touched.
        """
        from storeroom.uow import DEFAULT_RECOVERY_AGE, recover

        age = DEFAULT_RECOVERY_AGE if older_than is None else older_than
        names = [database] if database is not None else self.database_names
        return [recover(self.database(name), self.storage, databases=self.database, older_than=age) for name in names]

    async def arecover(self, database: str | None = None, *, older_than: float | None = None) -> list[RecoveryReport]:
        """The async twin of :meth:`recover`."""
        from storeroom.uow import DEFAULT_RECOVERY_AGE, arecover

        age = DEFAULT_RECOVERY_AGE if older_than is None else older_than
        names = [database] if database is not None else self.database_names
        return [
            await arecover(self.async_database(name), self.async_storage, databases=self.async_database, older_than=age)
            for name in names
        ]

    # -- health ------------------------------------------------------------------------------------

    def health(self, timeout: float = 5.0) -> dict[str, HealthResult]:
        """Check every configured database and storage; never raises."""
        report: dict[str, HealthResult] = {}
        for name in self.database_names:
            report[f"databases.{name}"] = self._checked(
                f"databases.{name}", lambda n=name: self.database(n).health_check(timeout)
            )
        for name in self.storage_names:
            report[f"storages.{name}"] = self._checked(
                f"storages.{name}", lambda n=name: self.storage(n).health_check(timeout)
            )
        return report

    @staticmethod
    def _checked(component: str, check: Any) -> HealthResult:
        try:
            return check()  # type: ignore[no-any-return]
        except Exception as exc:  # noqa: BLE001 - building the client failed (bad driver, etc.)
            return HealthResult(component, HealthStatus.UNHEALTHY, f"{type(exc).__name__}: {exc}")

    async def ahealth(self, timeout: float = 5.0) -> dict[str, HealthResult]:
        async def one(component: str, factory: Any) -> tuple[str, HealthResult]:
            try:
                return component, await factory().health_check(timeout)
            except Exception as exc:  # noqa: BLE001
                return component, HealthResult(component, HealthStatus.UNHEALTHY, f"{type(exc).__name__}: {exc}")

        jobs = [one(f"databases.{n}", lambda n=n: self.async_database(n)) for n in self.database_names]
        jobs += [one(f"storages.{n}", lambda n=n: self.async_storage(n)) for n in self.storage_names]
        return dict(await asyncio.gather(*jobs))

    # -- lifecycle -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Close every sync resource (async ones need ``aclose``; closing them here is best effort)."""
        with self._lock:
            items, self._open = list(self._open.items()), {}
            self._closed = True
        errors: list[BaseException] = []
        for (kind, _), obj in reversed(items):
            if kind.startswith("async_"):
                _close_async_blocking(obj)
            elif kind != "policy":
                try:
                    obj.close()
                except Exception as exc:  # noqa: BLE001
                    errors.append(exc)
        if errors:
            raise errors[0]

    async def aclose(self) -> None:
        with self._lock:
            items, self._open = list(self._open.items()), {}
            self._closed = True
        for (kind, _), obj in reversed(items):
            if kind.startswith("async_"):
                await obj.close()
            elif kind != "policy":
                await asyncio.to_thread(obj.close)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<Storeroom databases={self.database_names} storages={self.storage_names} policies={self.policy_names}>"


def _close_async_blocking(obj: Any) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(obj.close())
        return
    raise StoreroomError("close() was called with async resources open inside an event loop; use 'await room.aclose()'")


def from_config(
    settings_files: Sequence[str | os.PathLike[str]] | None = None, *, environment: str | None = None
) -> Storeroom:
    """Load settings with Dynaconf and return a :class:`Storeroom` (use it as a context manager)."""
    return Storeroom.from_config(settings_files, environment=environment)
