"""One ``ssl.SSLContext`` from the ``ssl`` settings, handed to PyMySQL and asyncmy alike.

Building the context ourselves (rather than passing the drivers' option dicts) gives
both drivers the same verification rules and reports a missing or unreadable
certificate file as a configuration error naming the key, before any connection.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from storeroom.errors import ConfigurationError
from storeroom.redaction import redact
from storeroom_mysql.settings import MySQLSslSettings

__all__ = ["build_ssl_context"]


def _file(path: str | None, key: str) -> str | None:
    if path is None:
        return None
    resolved = Path(path).expanduser()
    if not resolved.is_file():
        raise ConfigurationError(f"ssl.{key}: no such file {str(resolved)!r}", key=f"ssl.{key}")
    return str(resolved)


def build_ssl_context(settings: MySQLSslSettings) -> ssl.SSLContext:
    """A client context: TLS 1.2+, chain and hostname checks unless switched off."""
    ca = _file(settings.ca, "ca")
    cert = _file(settings.cert, "cert")
    key = _file(settings.key, "key")
    if key and not cert:
        raise ConfigurationError("ssl.key: a client key needs ssl.cert as well", key="ssl.cert")
    check_hostname = settings.verify if settings.verify_hostname is None else settings.verify_hostname
    if check_hostname and not settings.verify:
        raise ConfigurationError(
            "ssl.verify_hostname: cannot check the host name without verifying the certificate; "
            "drop verify_hostname or set it to false",
            key="ssl.verify_hostname",
        )
    try:
        context = ssl.create_default_context(cafile=ca)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.check_hostname = check_hostname
        context.verify_mode = ssl.CERT_REQUIRED if settings.verify else ssl.CERT_NONE
        if cert:
            context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError, ValueError) as exc:
        which = "ssl.cert" if cert and "cert" in str(exc).lower() else ("ssl.ca" if ca else "ssl")
        raise ConfigurationError(f"{which}: cannot load TLS material: {redact(exc)}", key=which) from None
    return context
