"""Shared values for the tests (an unreachable server and its password) and the pyodbc gate."""

from __future__ import annotations

import functools
import importlib
from types import ModuleType

import pytest

from _services import is_ci

#: nothing listens on port 1, and this machine has no SQL Server ODBC driver either
PASSWORD = "Pa55;w0rd-xyz"
UNREACHABLE_URL = f"mssql://app:{PASSWORD}@127.0.0.1:1/appdb?TrustServerCertificate=yes"

#: what to do when pyodbc cannot load its C library (libodbc.so.2 on Linux)
UNIXODBC_HINT = (
    "install unixODBC, the system library pyodbc links against: "
    "apt-get install unixodbc (Debian/Ubuntu), dnf install unixODBC (Fedora/RHEL), brew install unixodbc (macOS)"
)


@functools.cache
def pyodbc_unavailable_reason() -> str | None:
    """None when ``import pyodbc`` works; otherwise why not and what to install."""
    try:
        importlib.import_module("pyodbc")
    except ImportError as exc:
        return f"pyodbc cannot be imported ({str(exc).splitlines()[0]}); {UNIXODBC_HINT}"
    return None


def require_pyodbc() -> ModuleType:
    """``pyodbc``, or skip the caller (a module or a test); with ``CI=true`` fail instead.

    A missing system library is a setup gap on a developer's machine, but a broken
    pipeline in CI, which installs unixODBC.
    """
    reason = pyodbc_unavailable_reason()
    if reason is not None:
        if is_ci():
            pytest.fail(f"CI=true and {reason}", pytrace=False)
        pytest.skip(reason, allow_module_level=True)
    return importlib.import_module("pyodbc")
