"""The database servers the integration tests rely on are found and answer."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from _services import Probe, mysql_probe, postgres_probe


def _host_port(url: str, default: int) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname, f"no host in {url!r}"
    return parts.hostname, parts.port or default


@pytest.mark.parametrize(
    ("fixture", "scheme", "default_port", "probe"),
    [
        ("postgres_url", "postgresql", 5432, postgres_probe),
        ("mariadb_url", "mysql", 3306, mysql_probe),
    ],
)
def test_server_is_found_and_answers(
    request: pytest.FixtureRequest, fixture: str, scheme: str, default_port: int, probe: Probe
) -> None:
    url = request.getfixturevalue(fixture)
    assert urlsplit(url).scheme.split("+")[0] == scheme
    host, port = _host_port(url, default_port)
    with socket.create_connection((host, port), timeout=5):
        pass  # the port accepts TCP connections
    assert probe(host, port, 5.0), f"{host}:{port} accepts TCP but does not speak the {scheme} protocol"
