"""Plugin discovery over the ``storeroom`` entry-point group, and class registries.

Modelled on fsspec's registry (install hints for known names) and hatchling's
plugin manager (one broken plugin is reported by name instead of breaking the rest).
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy

from storeroom import hookspecs
from storeroom._markers import PROJECT
from storeroom._spelling import close_match
from storeroom.errors import PluginError, PluginLoadError, PluginNotFoundError
from storeroom.logs import get_logger

__all__ = [
    "DISABLE_ENV",
    "KNOWN_PLUGINS",
    "PROJECT",
    "BackendRegistry",
    "PluginInfo",
    "PluginManager",
    "get_plugin_manager",
    "install_hint",
]

DISABLE_ENV = "STOREROOM_DISABLE_PLUGINS"
_log = get_logger(__name__)

#: first-party backend names -> the extra that installs them
KNOWN_PLUGINS: dict[str, str] = {
    "sqlite": "sqlite",
    "postgres": "postgres",
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mssql": "mssql",
    "local": "local",
    "s3": "s3",
    "azure": "azure",
}


def install_hint(name: str) -> str:
    extra = KNOWN_PLUGINS.get(name)
    if extra:
        return f'pip install "storeroom[{extra}]"'
    return f"install the distribution that provides the {name!r} backend (it registers a 'storeroom' entry point)"


@dataclass(slots=True)
class PluginInfo:
    """One entry point: where it came from and whether it loaded."""

    name: str
    distribution: str
    version: str
    module: str
    error: PluginLoadError | None = None
    provides: list[str] = field(default_factory=list)


class BackendRegistry:
    """Classes by ``PLUGIN_NAME``, keeping a sync and an async flavour per name."""

    def __init__(self, kind: str, sync_base: type[Any], async_base: type[Any] | None) -> None:
        self.kind = kind
        self._sync_base = sync_base
        self._async_base = async_base
        self._classes: dict[str, dict[str, type[Any]]] = {}
        self._broken: dict[str, PluginLoadError] = {}
        self._disabled: dict[str, str] = {}  # entry-point name -> its distribution

    def _flavour(self, cls: type[Any]) -> str:
        if self._async_base is not None and isinstance(cls, type) and issubclass(cls, self._async_base):
            return "async"
        if isinstance(cls, type) and issubclass(cls, self._sync_base):
            return "sync"
        bases = self._sync_base.__name__ + (f" or {self._async_base.__name__}" if self._async_base else "")
        raise PluginError(f"{cls!r} registered as a {self.kind} backend is not a subclass of {bases}")

    def register(self, cls: type[Any]) -> None:
        name = getattr(cls, "PLUGIN_NAME", None)
        if not isinstance(name, str) or not name:
            raise PluginError(f"{self.kind} class {cls.__module__}.{cls.__qualname__} does not declare PLUGIN_NAME")
        flavour = self._flavour(cls)
        slot = self._classes.setdefault(name, {})
        existing = slot.get(flavour)
        if existing is not None and existing is not cls:
            raise PluginError(
                f"two {flavour} {self.kind} backends are named {name!r}: "
                f"{existing.__module__}.{existing.__qualname__} and {cls.__module__}.{cls.__qualname__}; "
                f"uninstall one or disable it with {DISABLE_ENV}"
            )
        slot[flavour] = cls

    def mark_broken(self, name: str, error: PluginLoadError) -> None:
        self._broken[name] = error

    def mark_disabled(self, name: str, distribution: str) -> None:
        """``name`` is installed but switched off: asking for it must say so, not "not installed"."""
        self._disabled[name] = distribution

    def names(self) -> list[str]:
        return sorted(self._classes)

    def url_schemes(self, name: str) -> tuple[str, ...]:
        """The URL schemes backend ``name`` reads (``url_schemes``, else its SQLAlchemy dialect)."""
        schemes: set[str] = set()
        for cls in self._classes.get(name, {}).values():
            declared = getattr(cls, "url_schemes", ()) or ()
            dialect = getattr(cls, "dialect_name", None)
            schemes.update(declared or ((dialect,) if isinstance(dialect, str) and dialect else ()))
        return tuple(sorted(schemes))

    def names_for_scheme(self, scheme: str) -> list[str]:
        """Registered backends reading ``scheme://`` URLs (usually one)."""
        return [name for name in self.names() if scheme in self.url_schemes(name)]

    def _lookup(self, name: str) -> dict[str, type[Any]]:
        slot = self._classes.get(name)
        if slot:
            return slot
        if name in self._broken:
            raise self._broken[name]
        installed = ", ".join(self.names()) or "none"
        if name in self._disabled:
            raise PluginNotFoundError(
                f"the {self.kind} backend {name!r} is disabled by {DISABLE_ENV} (plugin {name!r} from "
                f"distribution {self._disabled[name]}); remove {name!r} from {DISABLE_ENV} to use it "
                f"(enabled: {installed})",
                kind=self.kind,
                name=name,
                install_hint=None,
                disabled=True,
            )
        suggestion = close_match(name, self.names())  # a typo of an installed backend: no install hint
        if suggestion is None and name not in KNOWN_PLUGINS:
            suggestion = close_match(name, KNOWN_PLUGINS)  # a typo of one that is not installed
        if suggestion in self._classes:
            advice = f"did you mean {suggestion!r}?"
        elif suggestion is not None:
            advice = f"did you mean {suggestion!r}? {install_hint(suggestion)}"
        else:
            advice = install_hint(name)
        raise PluginNotFoundError(
            f"no {self.kind} backend named {name!r} is installed (installed: {installed}); {advice}",
            kind=self.kind,
            name=name,
            install_hint=install_hint(suggestion or name),
            suggestion=suggestion,
        )

    def get(self, name: str) -> type[Any] | None:
        """The sync class for ``name`` (None when only an async one exists)."""
        return self._lookup(name).get("sync")

    def get_async(self, name: str) -> type[Any] | None:
        """The async class for ``name`` (None when only a sync one exists)."""
        return self._lookup(name).get("async")

    def any_class(self, name: str) -> type[Any]:
        slot = self._lookup(name)
        return slot.get("sync") or slot["async"]

    def __contains__(self, name: object) -> bool:
        return name in self._classes


class PluginManager:
    """Loads plugins once and fills the registries from their hooks."""

    def __init__(self, *, load_entry_points: bool = True, disabled: set[str] | None = None) -> None:
        from storeroom.database import AsyncDatabaseInterface, DatabaseInterface
        from storeroom.schema import SchemaProvider
        from storeroom.storage import AsyncObjectStorage, ObjectStorage

        self.hooks = pluggy.PluginManager(PROJECT)
        self.hooks.add_hookspecs(hookspecs)
        if disabled is None:
            disabled = {n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()}
        self.disabled = disabled
        self.plugins: list[PluginInfo] = []
        self.databases = BackendRegistry("database", DatabaseInterface, AsyncDatabaseInterface)
        self.storages = BackendRegistry("object storage", ObjectStorage, AsyncObjectStorage)
        self.schema_providers = BackendRegistry("schema provider", SchemaProvider, None)
        if load_entry_points:
            self._load_entry_points()

    def _entry_points(self) -> Iterator[importlib.metadata.EntryPoint]:
        seen: set[tuple[str, str]] = set()
        for ep in importlib.metadata.entry_points(group=PROJECT):
            if (ep.name, ep.value) not in seen:  # editable installs can list a dist twice
                seen.add((ep.name, ep.value))
                yield ep

    def _load_entry_points(self) -> None:
        for ep in sorted(self._entry_points(), key=lambda e: e.name):
            dist = ep.dist.name if ep.dist else "unknown"
            version = ep.dist.version if ep.dist else "?"
            if ep.name in self.disabled:
                for registry in (self.databases, self.storages, self.schema_providers):
                    registry.mark_disabled(ep.name, dist)
                continue
            info = PluginInfo(ep.name, dist, version, ep.value)
            self.plugins.append(info)
            try:
                module = ep.load()
                self.register(module, name=ep.name, info=info)
            except Exception as exc:  # noqa: BLE001 - reported per plugin, never fatal for the others
                error = PluginLoadError(
                    f"plugin {ep.name!r} from distribution {dist} {version} failed to load: "
                    f"{type(exc).__name__}: {exc}; reinstall or upgrade it, or disable it with {DISABLE_ENV}={ep.name}",
                    distribution=dist,
                )
                error.__cause__ = exc
                info.error = error
                _log.warning("%s", error)
                for registry in (self.databases, self.storages, self.schema_providers):
                    registry.mark_broken(ep.name, error)

    def register(self, plugin: ModuleType | object, *, name: str | None = None, info: PluginInfo | None = None) -> None:
        """Register a plugin module or object (also used by tests and embedding apps)."""
        name = name or getattr(plugin, "__name__", None) or repr(plugin)
        if self.hooks.is_registered(plugin):
            return
        self.hooks.register(plugin, name=name)
        provided: list[str] = []
        try:
            for hook, registry in (
                (self.hooks.hook.storeroom_register_databases, self.databases),
                (self.hooks.hook.storeroom_register_object_storages, self.storages),
                (self.hooks.hook.storeroom_register_schema_providers, self.schema_providers),
            ):
                for classes in _call_one(hook, plugin):
                    for cls in classes or ():
                        registry.register(cls)
                        provided.append(f"{registry.kind}:{cls.PLUGIN_NAME}")
        except Exception:
            self.hooks.unregister(plugin)
            raise
        if info is not None:
            info.provides = sorted(set(provided))


def _call_one(hook: Any, plugin: object) -> list[Any]:
    """Call ``hook`` on one plugin only, so registering plugin N never re-registers 1..N-1."""
    impls = [impl for impl in hook.get_hookimpls() if impl.plugin is plugin]
    return [impl.function() for impl in impls]


_manager: PluginManager | None = None
_manager_lock = threading.Lock()


def get_plugin_manager(*, reload: bool = False) -> PluginManager:
    """The process-wide plugin manager, loaded on first use."""
    global _manager
    with _manager_lock:
        if _manager is None or reload:
            _manager = PluginManager()
        return _manager
