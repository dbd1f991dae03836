"""Which backend an entry uses: its ``backend`` key, or the scheme of its ``url``.

The rule, for a database entry:

- ``backend`` absent: the backend that reads the url's scheme (``postgresql://`` -> ``postgres``).
- ``backend`` set in the same layer as the url, or a higher one: it is explicit. A url it does not
  read is one error naming both keys; nothing is guessed.
- ``backend`` only from a lower layer than the url (a file says ``backend = "sqlite"``,
  ``STOREROOM_DATABASES__MAIN__URL=postgresql://...`` overrides the url): the url wins, because
  that is the value the user changed last. See :class:`~storeroom.config.layers.InheritedBackend`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from storeroom._spelling import close_match
from storeroom.config.layers import InheritedBackend
from storeroom.errors import ConfigurationError, PluginNotFoundError

if TYPE_CHECKING:
    from storeroom.plugins import BackendRegistry

__all__ = ["resolve_backend", "resolve_backends", "url_scheme"]

_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.\-]*)://")


def url_scheme(url: object) -> str | None:
    """``"postgresql+psycopg://..."`` -> ``"postgresql"``; None for anything that is not a URL."""
    match = _SCHEME.match(url) if isinstance(url, str) else None
    return match[1].lower().partition("+")[0] if match else None


def _for_scheme(scheme: str, key: str, registry: BackendRegistry) -> str:
    from storeroom.plugins import install_hint

    names = registry.names_for_scheme(scheme)
    if len(names) == 1:
        return names[0]
    if names:
        raise ConfigurationError(
            f"{key}.url: {scheme}:// URLs are read by several installed backends ({', '.join(names)}); "
            f"name one with {key}.backend",
            key=f"{key}.backend",
        )
    raise PluginNotFoundError(
        f"{key}.url: no installed {registry.kind} backend reads {scheme}:// URLs "
        f"(installed: {', '.join(registry.names()) or 'none'}); {install_hint(scheme)}, "
        f"or name the backend with {key}.backend",
        kind=registry.kind,
        name=scheme,
        install_hint=install_hint(scheme),
        key=f"{key}.url",
    )


def resolve_backend(raw: Mapping[str, Any], key: str, registry: BackendRegistry, *, from_url: bool) -> str:
    """The backend name for the entry at ``key``; ``from_url``: its ``url`` may name it."""
    backend = raw.get("backend")
    scheme = url_scheme(raw.get("url")) if from_url else None
    if backend is not None and not isinstance(backend, str):
        raise ConfigurationError(f"{key}.backend: must be a plugin name string", key=f"{key}.backend")
    if not backend:
        if scheme is not None:
            return _for_scheme(scheme, key, registry)
        typo = next((k for k in raw if close_match(str(k), ["backend"]) == "backend"), None)
        if typo is not None:
            raise ConfigurationError(f"{key}.{typo}: unknown key; did you mean 'backend'?", key=f"{key}.{typo}")
        example = ' or a url whose scheme names it (url = "sqlite:///var/app.db")' if from_url else ""
        raise ConfigurationError(
            f'{key}.backend: missing; name the plugin, e.g. backend = "sqlite"{example}', key=f"{key}.backend"
        )
    if scheme is None:
        return str(backend)
    inherited = isinstance(backend, InheritedBackend)
    if backend not in registry:
        # an inherited backend need not even be installed when the url names another one
        return _for_scheme(scheme, key, registry) if inherited and registry.names_for_scheme(scheme) else str(backend)
    accepted = registry.url_schemes(backend)
    if not accepted or scheme in accepted:  # a backend declaring no schemes reads any url
        return str(backend)
    if inherited:
        return _for_scheme(scheme, key, registry)
    readers = registry.names_for_scheme(scheme)
    reader = f" (read by backend {readers[0]!r})" if len(readers) == 1 else ""
    raise ConfigurationError(
        f"{key}.backend = {str(backend)!r} does not read {key}.url, a {scheme}:// URL{reader}; "
        f"{str(backend)!r} reads {', '.join(f'{s}://' for s in accepted)}. Change one of the two keys, "
        f"or set both in the same place",
        key=f"{key}.url",
    )


def resolve_backends(settings: Mapping[str, Any], registry: BackendRegistry, *, strict: bool = True) -> dict[str, Any]:
    """``settings`` with every database entry's ``backend`` decided (a copy; for display).

    ``strict=False`` leaves an entry as it is when its backend cannot be decided.
    """
    out = dict(settings)
    entries = settings.get("databases")
    if not isinstance(entries, Mapping):
        return out
    resolved: dict[str, Any] = {}
    for name, raw in entries.items():
        if isinstance(raw, Mapping):
            try:
                backend = resolve_backend(raw, f"databases.{name}", registry, from_url=True)
                raw = {"backend": backend, **{k: v for k, v in raw.items() if k != "backend"}}
            except (ConfigurationError, PluginNotFoundError):
                if strict:
                    raise
        resolved[name] = raw
    out["databases"] = resolved
    return out
