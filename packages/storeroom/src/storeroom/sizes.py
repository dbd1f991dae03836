"""Human-readable byte sizes in config (``"2 MiB"``, ``"500kb"``, ``1048576``)."""

from __future__ import annotations

import re

from storeroom.errors import ConfigurationError

__all__ = ["format_size", "parse_size"]

_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
    "t": 1000**4, "tb": 1000**4,
    "ki": 1024, "kib": 1024, "mi": 1024**2, "mib": 1024**2, "gi": 1024**3, "gib": 1024**3,
    "ti": 1024**4, "tib": 1024**4,
}  # fmt: skip
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(value: int | str, *, key: str | None = None) -> int:
    """Bytes in ``value``; decimal (kB, MB) and binary (KiB, MiB) units are both accepted."""
    if isinstance(value, bool):
        raise ConfigurationError(f"{key or 'size'}: expected a size such as '2 MiB', got a boolean", key=key)
    if isinstance(value, int):
        if value < 0:
            raise ConfigurationError(f"{key or 'size'}: size must not be negative", key=key)
        return value
    match = _PATTERN.match(str(value))
    unit = match[2].lower() if match else None
    if not match or unit not in _UNITS:
        raise ConfigurationError(
            f"{key or 'size'}: {value!r} is not a size; use bytes or a unit like '512 KiB', '2 MiB', '1 GB'",
            key=key,
        )
    return int(float(match[1]) * _UNITS[unit])


def format_size(n: int) -> str:
    """``2097152`` -> ``'2 MiB'`` (exact binary units when they divide evenly)."""
    for unit, factor in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= factor:
            value = n / factor
            return f"{value:.0f} {unit}" if value.is_integer() else f"{value:.1f} {unit}"
    return f"{n} B"
