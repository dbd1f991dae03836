"""Configuration: Dynaconf loading and pydantic validation."""

from storeroom.config.loader import (
    DEFAULT_SETTINGS_FILES,
    EMBEDDED_DEFAULT,
    ENVVAR_PREFIX,
    NAMESPACES,
    check_namespaces,
    load_settings,
    normalise_settings,
)

__all__ = [
    "DEFAULT_SETTINGS_FILES",
    "EMBEDDED_DEFAULT",
    "ENVVAR_PREFIX",
    "NAMESPACES",
    "check_namespaces",
    "load_settings",
    "normalise_settings",
]
