"""The decision logic of ``_services``: env URL, then loopback, then a starter, then skip/fail."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import _services
from _services import (
    SERVICES,
    Loopback,
    ServiceSpec,
    is_ci,
    missing_action,
    mysql_probe,
    postgres_probe,
    provide,
    resolve,
    tcp_probe,
)


@dataclass
class FakeStarter:
    name: str = "fake"
    reason: str | None = None
    started: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)

    def unavailable_reason(self) -> str | None:
        return self.reason

    def start(self, stack: contextlib.ExitStack) -> str:
        self.started.append("x")
        stack.callback(self.stopped.append, "x")
        return "fake://started"


Serve = Callable[[Callable[[socket.socket], None]], int]


def _spec(
    *,
    answers: bool = False,
    starters: tuple[FakeStarter, ...] = (),
    required: bool = True,
    calls: list[object] | None = None,
) -> ServiceSpec:
    def probe(host: str, port: int, timeout: float) -> bool:
        if calls is not None:
            calls.append((host, port))
        return answers

    return ServiceSpec(
        name="db",
        env_vars=("TEST_DB_URL", "TEST_DB_URL_ALIAS"),
        loopback=Loopback(1234, "db://{host}:{port}/x", probe),
        starters=starters,
        required_in_ci=required,
        hint="set TEST_DB_URL",
    )


def test_env_url_wins_without_probing() -> None:
    calls: list[object] = []
    res = resolve(_spec(answers=True, calls=calls), environ={"TEST_DB_URL": "db://from-env"})
    assert (res.source, res.url) == ("env", "db://from-env")
    assert calls == []


def test_second_env_var_is_an_alias_and_blank_values_are_ignored() -> None:
    res = resolve(_spec(), environ={"TEST_DB_URL": "  ", "TEST_DB_URL_ALIAS": "db://alias"})
    assert (res.source, res.url) == ("env", "db://alias")
    assert "TEST_DB_URL_ALIAS" in res.detail


def test_loopback_when_the_default_port_answers() -> None:
    calls: list[object] = []
    res = resolve(_spec(answers=True, starters=(FakeStarter(),), calls=calls), environ={})
    assert (res.source, res.url) == ("loopback", "db://127.0.0.1:1234/x")
    assert calls == [("127.0.0.1", 1234)]


def test_first_available_starter_when_nothing_listens() -> None:
    broken, ok = FakeStarter("container", reason="no Docker engine"), FakeStarter("process")
    res = resolve(_spec(starters=(broken, ok)), environ={})
    assert res.source == "starter"
    assert res.starter is ok


def test_missing_names_everything_that_was_tried() -> None:
    res = resolve(_spec(starters=(FakeStarter("container", reason="no Docker engine"),)), environ={})
    assert res.source == "missing"
    assert res.url is None
    for part in ("$TEST_DB_URL is not set", "127.0.0.1:1234", "container: no Docker engine", "set TEST_DB_URL"):
        assert part in res.detail


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("1", True), ("TRUE", True), ("yes", True), ("", False), ("false", False), ("0", False)],
)
def test_is_ci(value: str, expected: bool) -> None:
    assert is_ci({"CI": value}) is expected
    assert is_ci({}) is False


def test_missing_service_fails_in_ci_and_skips_elsewhere() -> None:
    required, optional = _spec(), _spec(required=False)
    assert missing_action(required, {"CI": "true"}) == "fail"
    assert missing_action(required, {}) == "skip"
    assert missing_action(optional, {"CI": "true"}) == "skip"  # e.g. SQL Server without Docker


def test_provide_fails_in_ci_skips_outside_and_starts_starters() -> None:
    with contextlib.ExitStack() as stack:
        with pytest.raises(pytest.fail.Exception, match="CI=true and db is not available"):
            provide(_spec(), stack, environ={"CI": "true"})
        with pytest.raises(pytest.skip.Exception, match="db is not available"):
            provide(_spec(), stack, environ={})
        assert provide(_spec(answers=True), stack, environ={"CI": "true"}) == "db://127.0.0.1:1234/x"
        starter = FakeStarter()
        assert provide(_spec(starters=(starter,)), stack, environ={}) == "fake://started"
        assert starter.stopped == []
    assert starter.stopped == ["x"]  # torn down with the session's stack


def test_registry_covers_the_planned_services() -> None:
    assert {"postgres", "mariadb", "mssql", "s3", "s3rver", "azurite"} <= set(SERVICES)
    assert SERVICES["mssql"].required_in_ci is False  # DESIGN §7: compiled SQL without a server
    assert SERVICES["postgres"].env_vars[0] == "STOREROOM_TEST_POSTGRES_URL"
    assert SERVICES["mariadb"].env_vars[0] == "STOREROOM_TEST_MYSQL_URL"
    assert SERVICES["mssql"].env_vars[0] == "STOREROOM_TEST_MSSQL_URL"


def test_s3rver_comes_from_npm_and_is_required_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    spec = SERVICES["s3rver"]
    assert spec.env_vars == ("STOREROOM_TEST_S3RVER_ENDPOINT",)
    assert missing_action(spec, {"CI": "true"}) == "fail"
    assert missing_action(spec, {}) == "skip"
    # not installed, and no node/npm to install it: the reason says what to install
    monkeypatch.setenv("STOREROOM_S3RVER_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    found = resolve(spec, environ={})
    assert found.source == "missing"
    assert "s3rver is not installed" in found.detail and "apt-get install nodejs npm" in found.detail
    assert "STOREROOM_TEST_S3RVER_ENDPOINT" in found.detail
    # installed: the starter runs it from the install folder
    script = tmp_path / "node_modules" / "s3rver" / "bin" / "s3rver.js"
    script.parent.mkdir(parents=True)
    script.write_text("")
    found = resolve(spec, environ={})
    assert found.source == "starter"
    argv = _services.S3RVER_STARTER.command(4568, "/scratch")
    assert str(script) in argv and "--openssl-legacy-provider" in argv
    assert argv[argv.index("--directory") + 1] == "/scratch" and argv[argv.index("--port") + 1] == "4568"


def test_docker_unavailable_without_host_or_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setattr(_services, "_DOCKER_SOCKETS", ("/nonexistent/docker.sock",))
    _services.docker_unavailable_reason.cache_clear()
    try:
        assert "no Docker engine" in (_services.docker_unavailable_reason() or "")
    finally:
        _services.docker_unavailable_reason.cache_clear()


# --- wire probes against tiny fake servers on loopback ---------------------------------------


@pytest.fixture
def fake_server() -> Iterator[Serve]:
    servers: list[socket.socket] = []

    def serve(handler: Callable[[socket.socket], None]) -> int:
        srv = socket.create_server(("127.0.0.1", 0))
        servers.append(srv)

        def loop() -> None:
            with contextlib.suppress(OSError):
                conn, _ = srv.accept()
                with conn:
                    handler(conn)

        threading.Thread(target=loop, daemon=True).start()
        return srv.getsockname()[1]

    yield serve
    for srv in servers:
        srv.close()


def _postgres(conn: socket.socket) -> None:
    length, code = struct.unpack("!ii", conn.recv(8))
    if (length, code) == (8, 80877103):
        conn.sendall(b"N")


def _mysql(conn: socket.socket) -> None:
    payload = b"\x0a" + b"10.11.0-MariaDB\x00" + b"\x00" * 40
    conn.sendall(len(payload).to_bytes(3, "little") + b"\x00" + payload)


def _mysql_error(conn: socket.socket) -> None:
    payload = b"\xff" + (1040).to_bytes(2, "little") + b"Too many connections"
    conn.sendall(len(payload).to_bytes(3, "little") + b"\x00" + payload)


def test_postgres_probe_recognises_postgres(fake_server: Serve) -> None:
    assert postgres_probe("127.0.0.1", fake_server(_postgres), 2.0)


def test_mysql_probe_recognises_a_handshake(fake_server: Serve) -> None:
    assert mysql_probe("127.0.0.1", fake_server(_mysql), 2.0)


def test_mysql_probe_rejects_an_error_greeting(fake_server: Serve) -> None:
    assert not mysql_probe("127.0.0.1", fake_server(_mysql_error), 2.0)


def test_postgres_probe_rejects_something_else(fake_server: Serve) -> None:
    assert not postgres_probe("127.0.0.1", fake_server(lambda conn: conn.close()), 2.0)


def test_probes_are_false_on_a_closed_port() -> None:
    with socket.create_server(("127.0.0.1", 0)) as srv:
        port = srv.getsockname()[1]
    for probe in (tcp_probe, postgres_probe, mysql_probe):
        assert not probe("127.0.0.1", port, 0.5)
