"""Keeping secrets out of messages, logs and reprs.

Redaction is pattern based (URL passwords, ``password=``/``AccountKey=``/SAS
signatures, bearer tokens) plus an explicit registry: every secret a config model
loads is registered, so it is masked wherever it later appears verbatim.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

__all__ = ["MASK", "SECRET_NAME_PATTERN", "is_secret_name", "redact", "redact_mapping", "register_secret"]

MASK = "***"

# user:password@ in any URL-ish string (scheme://user:password@host).
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/?#@\s]*:)(?P<secret>[^\s/]*)(?P<tail>@)")
# key=value pairs whose key names a secret (connection strings, DSNs, query strings); the
# value may be an ODBC braced value (``PWD={a;b}}c}``, ``}}`` escapes a brace) and the ``=``
# may be percent-encoded (``odbc_connect=...PWD%3Dsecret`` inside a URL).
_KEY_VALUE = re.compile(
    r"(?P<head>(?:(?<=%3B)|\b)(?:password|passwd|pwd|secret|secret_access_key|session_token|token|"
    r"accountkey|sharedaccesssignature|access_key|sig|signature|x-amz-signature|"
    r"x-amz-security-token|x-amz-credential|api_key|apikey)\s*(?:[=:]|%3D)\s*['\"]?)"
    r"(?P<secret>\{(?:[^}]|\}\})*\}?|%7B(?:(?!%7D).)*(?:%7D)?|[^\s;&'\",)]+)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?P<head>\bBearer\s+)(?P<secret>[A-Za-z0-9._~+/=\-]+)")

SECRET_NAME_PATTERN = re.compile(
    r"(password|passwd|pwd|secret|token|account_key|accountkey|credential|sas|private_key|api_key|connection_string|"
    r"odbc_connect)",
    re.IGNORECASE,
)

_lock = threading.Lock()
_registered: set[str] = set()
_MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it appears in anything redacted later."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _registered.add(value)


def is_secret_name(name: str) -> bool:
    """Whether a settings key names a secret (``password``, ``secret_access_key`` ...)."""
    return bool(SECRET_NAME_PATTERN.search(name))


def redact(text: object) -> str:
    """Return ``str(text)`` with every known or recognisable secret replaced by ``***``."""
    out = str(text)
    if not out:
        return out
    with _lock:
        secrets = sorted(_registered, key=len, reverse=True)
    for secret in secrets:
        if secret in out:
            out = out.replace(secret, MASK)
    out = _URL_PASSWORD.sub(lambda m: m["head"] + (MASK if m["secret"] else "") + m["tail"], out)
    out = _KEY_VALUE.sub(lambda m: m["head"] + MASK, out)
    return _BEARER.sub(lambda m: m["head"] + MASK, out)


def redact_mapping(value: Any, *, _name: str = "") -> Any:
    """Deep-copy a settings tree with secret-named values masked and strings redacted."""
    if isinstance(value, Mapping):
        return {k: redact_mapping(v, _name=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_mapping(v, _name=_name) for v in value]
    if value is not None and _name and is_secret_name(_name):
        return MASK
    if isinstance(value, str):
        return redact(value)
    return value
