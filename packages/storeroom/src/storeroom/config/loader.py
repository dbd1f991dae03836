"""Reading settings with Dynaconf: files, environments, secrets and env overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from storeroom.errors import ConfigurationError

__all__ = [
    "DEFAULT_SETTINGS_FILES",
    "EMBEDDED_DEFAULT",
    "ENVVAR_PREFIX",
    "NAMESPACES",
    "load_settings",
    "normalise_settings",
]

ENVVAR_PREFIX = "STOREROOM"
DEFAULT_SETTINGS_FILES = ("config/settings.toml", "config/.secrets.toml")
NAMESPACES = ("databases", "storages", "policies")

#: used for a namespace the configuration leaves empty: no server needed
EMBEDDED_DEFAULT: dict[str, dict[str, dict[str, Any]]] = {
    "databases": {"main": {"backend": "sqlite", "url": "sqlite:///var/storeroom.db", "default": True}},
    "storages": {"files": {"backend": "local", "root": "var/objects", "default": True}},
}


def _lower_keys(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k).lower(): _lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    return value


def normalise_settings(raw: Mapping[str, Any], *, embedded_default: bool = True) -> dict[str, Any]:
    """Lower-case keys (env overrides arrive upper-case), check namespaces, add embedded defaults."""
    out: dict[str, Any] = {}
    lowered = _lower_keys(raw)
    for namespace in NAMESPACES:
        section = lowered.get(namespace) or {}
        if not isinstance(section, dict):
            raise ConfigurationError(f"{namespace}: expected a table of named entries", key=namespace)
        for name, entry in section.items():
            if not isinstance(entry, dict):
                raise ConfigurationError(
                    f"{namespace}.{name}: expected a table like [default.{namespace}.{name}]", key=f"{namespace}.{name}"
                )
        if not section and embedded_default and namespace in EMBEDDED_DEFAULT:
            section = {k: dict(v) for k, v in EMBEDDED_DEFAULT[namespace].items()}
        out[namespace] = section
    return out


def _settings_files(settings_files: Sequence[str | os.PathLike[str]] | None) -> list[str]:
    if settings_files is not None:
        return [os.fspath(f) for f in settings_files]
    env = os.environ.get(f"{ENVVAR_PREFIX}_SETTINGS_FILES")
    if env:
        return [p.strip() for p in env.replace(";", ",").split(",") if p.strip()]
    return list(DEFAULT_SETTINGS_FILES)


def load_settings(
    settings_files: Sequence[str | os.PathLike[str]] | None = None,
    *,
    environment: str | None = None,
    embedded_default: bool = True,
) -> dict[str, Any]:
    """Plain settings from Dynaconf, with the embedded default filling empty namespaces.

    Files are resolved against the working directory; ``STOREROOM_SETTINGS_FILES``
    (comma separated) replaces the default list; ``STOREROOM_ENV`` or ``environment``
    selects the environment; ``STOREROOM_DATABASES__MAIN__URL`` style variables override.
    """
    from dynaconf import Dynaconf  # heavy: only when config is actually read

    files = _settings_files(settings_files)
    explicit = settings_files is not None or f"{ENVVAR_PREFIX}_SETTINGS_FILES" in os.environ
    if explicit:
        missing = [f for f in files if not Path(f).exists() and not Path(f).name.startswith(".secrets")]
        if missing:
            raise ConfigurationError(f"settings file not found: {', '.join(missing)}", key="settings_files")
    try:
        settings = Dynaconf(
            envvar_prefix=ENVVAR_PREFIX,
            environments=True,
            env_switcher=f"{ENVVAR_PREFIX}_ENV",
            settings_files=files,
            merge_enabled=True,
            load_dotenv=False,
        )
        if environment:  # an explicit argument beats STOREROOM_ENV
            settings = settings.from_env(environment)
        raw = settings.as_dict()
    except ConfigurationError:
        raise
    except Exception as exc:  # a TOML syntax error, an unreadable file ...
        raise ConfigurationError(f"could not read settings ({', '.join(files)}): {exc}", key="settings_files") from exc
    return normalise_settings(raw, embedded_default=embedded_default)
