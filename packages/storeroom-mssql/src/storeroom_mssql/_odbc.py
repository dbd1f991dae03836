"""ODBC connection strings: parsing, secret registration and masking.

An ODBC string is ``key=value;`` pairs where a value may be braced (``PWD={a;b}}c}``,
``}}`` standing for ``}``). Core's pattern-based redaction stops a ``PWD=`` value at
the first ``;``, which leaks the rest of a braced password, so every secret value is
also registered verbatim, and strings shown to users are rebuilt with the value masked.
"""

from __future__ import annotations

from urllib.parse import quote, quote_plus

from storeroom.errors import ConfigurationError
from storeroom.redaction import MASK, is_secret_name, register_secret

__all__ = ["format_odbc", "mask_odbc", "parse_odbc", "register_odbc_secrets"]


def parse_odbc(text: str) -> list[tuple[str, str]]:
    """``"DRIVER={x};PWD={a;b}"`` -> ``[("DRIVER", "x"), ("PWD", "a;b")]`` (braces removed)."""
    pairs: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in "; \t\r\n":
            i += 1
        if i >= n:
            break
        eq = text.find("=", i)
        if eq < 0:  # its text is not quoted: it may be a piece of a password
            raise ConfigurationError(
                f"odbc_connect: attribute {len(pairs) + 1} has no '='; write key=value pairs separated by ';'",
                key="odbc_connect",
            )
        key = text[i:eq].strip()
        i = eq + 1
        if i < n and text[i] == "{":
            value, i = _braced(text, i + 1)
        else:
            end = text.find(";", i)
            end = n if end < 0 else end
            value, i = text[i:end].strip(), end
        if not key:
            raise ConfigurationError("odbc_connect: an attribute has an empty name", key="odbc_connect")
        pairs.append((key, value))
    return pairs


def _braced(text: str, i: int) -> tuple[str, int]:
    out: list[str] = []
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "}":
            if i + 1 < n and text[i + 1] == "}":
                out.append("}")
                i += 2
                continue
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise ConfigurationError("odbc_connect: a braced value is not closed with '}'", key="odbc_connect")


def _quote_value(value: str) -> str:
    if any(ch in value for ch in ";{}=") or value != value.strip():
        return "{" + value.replace("}", "}}") + "}"
    return value


def format_odbc(pairs: list[tuple[str, str]]) -> str:
    return ";".join(f"{key}={_quote_value(value)}" for key, value in pairs)


def register_odbc_secrets(text: str) -> None:
    """Register each secret-named value (``PWD``, ``Password`` ...) in every form it may be shown."""
    try:
        pairs = parse_odbc(text)
    except ConfigurationError:
        return
    for key, value in pairs:
        if value and is_secret_name(key):
            for form in {value, _quote_value(value), quote(value, safe=""), quote_plus(value)}:
                register_secret(form)


def mask_odbc(text: str) -> str:
    """The connection string with every secret-named value replaced by ``***``."""
    try:
        pairs = parse_odbc(text)
    except ConfigurationError:
        return MASK
    return format_odbc([(k, MASK if is_secret_name(k) and v else v) for k, v in pairs])
