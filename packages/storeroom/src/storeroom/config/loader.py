"""Reading settings with Dynaconf: files, environments, secrets and env overrides."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from storeroom._spelling import did_you_mean
from storeroom.config.layers import LayerRecorder, mark_inherited_backends, replace_lists, split_top_key
from storeroom.errors import ConfigurationError

__all__ = [
    "DEFAULT_SETTINGS_FILES",
    "EMBEDDED_DEFAULT",
    "ENVVAR_PREFIX",
    "NAMESPACES",
    "check_namespaces",
    "load_settings",
    "normalise_settings",
]

ENVVAR_PREFIX = "STOREROOM"
DEFAULT_SETTINGS_FILES = ("config/settings.toml", "config/.secrets.toml")
NAMESPACES = ("databases", "storages", "policies")
_DYNACONF_TOKEN = re.compile(r"\s*(@[A-Za-z_]+)")

#: used for a namespace the configuration leaves empty: no server needed
EMBEDDED_DEFAULT: dict[str, dict[str, dict[str, Any]]] = {
    "databases": {"main": {"backend": "sqlite", "url": "sqlite:///var/storeroom.db", "default": True}},
    "storages": {"files": {"backend": "local", "root": "var/objects", "default": True}},
}


def _lower_keys(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k).lower(): _lower_keys(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_lower_keys(v) for v in value]
    return value


def check_namespaces(settings: Mapping[str, Any], sources: Mapping[str, str] | None = None) -> None:
    """Every top-level key is a namespace storeroom reads: a typo must not fall back to a default.

    ``sources`` says where each key was set (a file section, an environment variable).
    """
    for key in settings:
        if key not in NAMESPACES:
            where = f" (set in {sources[key]})" if sources and key in sources else ""
            raise ConfigurationError(
                f"{key}: unknown namespace{where}{did_you_mean(key, NAMESPACES)} "
                f"(storeroom reads {', '.join(NAMESPACES)})",
                key=key,
            )


def normalise_settings(raw: Mapping[str, Any], *, embedded_default: bool = True) -> dict[str, Any]:
    """Lower-case keys (env overrides arrive upper-case), check namespaces, add embedded defaults.

    Unknown top-level keys are kept, for :func:`check_namespaces` (and ``config --no-validate``).
    """
    lowered = _lower_keys(raw)
    out: dict[str, Any] = {k: v for k, v in lowered.items() if k not in NAMESPACES}
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


def _ours(recorder: LayerRecorder) -> dict[str, str]:
    """Top-level keys the user set, each with where: every file key, every nested variable.

    A flat variable (``STOREROOM_ENV``, ``STOREROOM_SETTINGS_FILES``, ``STOREROOM_TEST_...``)
    that names no namespace is a switch for storeroom or a tool, not a setting: Dynaconf
    loads it like any other, so it is dropped here instead of tripping the namespace check.
    """
    keys: dict[str, str] = {}
    for layer in recorder.layers:
        for raw_key in layer.top_keys:
            top = split_top_key(raw_key)[:1]
            if not top:
                continue
            nested = "__" in raw_key or "." in raw_key
            if layer.source == "env" and not nested and top[0] not in NAMESPACES:
                continue
            keys.setdefault(top[0], f"${ENVVAR_PREFIX}_{raw_key}" if layer.source == "env" else "a settings file")
    return keys


def _file_sources(settings: Any, keys: dict[str, str]) -> dict[str, str]:
    """``a settings file`` made precise (``config/settings.toml [default]``) from Dynaconf's history."""
    try:
        from dynaconf.utils.inspect import get_history

        history = get_history(settings)
    except Exception:  # noqa: BLE001 - labels only; an older Dynaconf may lack the history API
        return keys
    out = dict(keys)
    for entry in history:
        value = entry.get("value")
        if not isinstance(value, Mapping) or str(entry.get("loader", "")).startswith(("env", "set_method")):
            continue
        for key in value:
            lowered = str(key).lower()
            if out.get(lowered) == "a settings file":
                out[lowered] = f"{entry.get('identifier')} [{entry.get('env')}]"
    return out


def _check_environment_names(files: Sequence[str]) -> None:
    """A namespace written at a file's top (``[databases.main]``) is silently ignored by Dynaconf.

    With environments on, every top-level table is an environment: ``[databases.main]``
    would be the entry ``main`` of an environment named ``databases``, never loaded.
    """
    import json
    import tomllib

    for name in files:
        path = Path(name)
        if path.suffix not in (".toml", ".json") or not path.is_file():
            continue
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh) if path.suffix == ".toml" else json.load(fh)
        except (OSError, ValueError):
            continue  # Dynaconf has already reported a file it could not read
        for key in data if isinstance(data, dict) else ():
            if str(key).lower() in NAMESPACES:
                raise ConfigurationError(
                    f"{name}: [{key}...] at the top of the file is read as an environment named {key!r} "
                    f"and ignored; write [default.{key}.<name>] (or [<environment>.{key}.<name>])",
                    key=str(key).lower(),
                )


def _read_failure(exc: Exception) -> str:
    """What went wrong reading the settings, without any value (it may be a secret).

    TOML syntax errors give only a position, and OS errors a file name: those are shown. Any
    other error (``@int abc``, ``@json {``, ``@format {this.x}``) quotes the value it could not
    parse, so only its kind is shown, with the variables holding a Dynaconf ``@`` token.
    """
    if type(exc).__name__ == "TOMLDecodeError":
        return f"TOML syntax error: {exc}"
    if isinstance(exc, OSError):
        return f"{exc.strerror or type(exc).__name__}: {exc.filename}"
    tokens = sorted(
        f"${name} ({token[1]} ...)"
        for name, value in os.environ.items()
        if name.startswith(f"{ENVVAR_PREFIX}_") and (token := _DYNACONF_TOKEN.match(value))
    )
    where = f"; check {', '.join(tokens)}" if tokens else "; check the values written with a Dynaconf @ token"
    return f"a value could not be parsed ({type(exc).__name__}; the value is not shown, it may be a secret){where}"


def load_settings(
    settings_files: Sequence[str | os.PathLike[str]] | None = None,
    *,
    environment: str | None = None,
    embedded_default: bool = True,
    strict: bool = True,
) -> dict[str, Any]:
    """Plain settings from Dynaconf, with the embedded default filling empty namespaces.

    Files are resolved against the working directory; ``STOREROOM_SETTINGS_FILES``
    (comma separated) replaces the default list; ``STOREROOM_ENV`` or ``environment``
    selects the environment; ``STOREROOM_DATABASES__MAIN__URL`` style variables override.
    Tables merge key by key, lists replace (see :mod:`storeroom.config.layers`).
    ``strict=False`` keeps unknown namespaces instead of raising (for ``config --no-validate``).
    """
    from dynaconf import Dynaconf  # heavy: only when config is actually read
    from dynaconf.loaders import env_loader

    files = _settings_files(settings_files)
    explicit = settings_files is not None or f"{ENVVAR_PREFIX}_SETTINGS_FILES" in os.environ
    if explicit:
        missing = [f for f in files if not Path(f).exists() and not Path(f).name.startswith(".secrets")]
        if missing:
            raise ConfigurationError(f"settings file not found: {', '.join(missing)}", key="settings_files")
    recorder = LayerRecorder()
    failure: str | None = None
    try:
        settings = Dynaconf(
            envvar_prefix=ENVVAR_PREFIX,
            environments=True,
            env_switcher=f"{ENVVAR_PREFIX}_ENV",
            settings_files=files,
            merge_enabled=True,
            load_dotenv=False,
            filter_strategy=recorder,
            loaders=[],  # the environment variables are loaded below, as a layer of their own
            **({"force_env": environment} if environment else {}),  # an explicit argument beats STOREROOM_ENV
        )
        settings.get("ENVVAR_PREFIX_FOR_DYNACONF")  # loads the settings files
        recorder.source = "env"
        env_loader.load(settings)
        raw = settings.as_dict()
    except ConfigurationError:
        raise
    except Exception as exc:  # noqa: BLE001 - a TOML syntax error, an unreadable file, an unparsable value ...
        failure = _read_failure(exc)
    if failure is not None:  # raised unchained: Dynaconf's errors quote the values they could not parse
        raise ConfigurationError(f"could not read settings ({', '.join(files)}): {failure}", key="settings_files")
    ours = _ours(recorder)
    lowered: dict[str, Any] = _lower_keys({k: v for k, v in raw.items() if str(k).lower() in ours})
    replace_lists(lowered, recorder)
    mark_inherited_backends(lowered, recorder)
    if strict:
        _check_environment_names(files)
        check_namespaces(lowered, _file_sources(settings, ours))
    return normalise_settings(lowered, embedded_default=embedded_default)
