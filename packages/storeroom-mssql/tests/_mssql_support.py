"""Shared values for the tests: an unreachable server and its password."""

from __future__ import annotations

#: nothing listens on port 1, and this machine has no SQL Server ODBC driver either
PASSWORD = "Pa55;w0rd-xyz"
UNREACHABLE_URL = f"mssql://app:{PASSWORD}@127.0.0.1:1/appdb?TrustServerCertificate=yes"
