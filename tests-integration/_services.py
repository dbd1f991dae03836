"""Finding the real servers the integration tests talk to.

For each service, in order:

1. an explicit URL in the environment (``STOREROOM_TEST_POSTGRES_URL``, ...);
2. a server already listening on loopback at the default port, recognised by its wire protocol;
3. a *starter*: something that can bring one up for the session — a Docker container through
   testcontainers when a Docker engine is reachable, or a local process on a free loopback port
   (moto's server; Azurite and s3rver, installed from npm into the cache folder on first use);
4. nothing: the test is skipped, or, with ``CI=true``, fails — a missing service in CI is a
   broken pipeline, not a reason to go green.

The module is stdlib-only at import time so ``.ci/run`` can call it with a bare interpreter::

    python3 tests-integration/_services.py wait postgres mariadb --timeout 60
    python3 tests-integration/_services.py show
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import socket
import struct
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

__all__ = [
    "AZURITE_STARTER",
    "MOTO_STARTER",
    "S3RVER_STARTER",
    "SERVICES",
    "ContainerStarter",
    "Loopback",
    "ProcessStarter",
    "Resolution",
    "ServiceSpec",
    "Starter",
    "docker_unavailable_reason",
    "free_port",
    "install_azurite",
    "install_s3rver",
    "is_ci",
    "missing_action",
    "provide",
    "resolve",
    "wait_until_ready",
]

LOOPBACK = "127.0.0.1"

Probe = Callable[[str, int, float], bool]
"""``probe(host, port, timeout) -> True`` when the expected server answers there."""


# ---------------------------------------------------------------------------------------------
# wire-protocol probes: a bare TCP accept is not enough (Docker's port proxy accepts before the
# server inside is up, and another program may own the port), so each probe reads a real reply.
# ---------------------------------------------------------------------------------------------


def _connect(host: str, port: int, timeout: float) -> socket.socket | None:
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return None
    sock.settimeout(timeout)
    return sock


def tcp_probe(host: str, port: int, timeout: float = 1.0) -> bool:
    """The port accepts a TCP connection."""
    sock = _connect(host, port, timeout)
    if sock is None:
        return False
    sock.close()
    return True


def postgres_probe(host: str, port: int, timeout: float = 1.0) -> bool:
    """A PostgreSQL server answers an SSLRequest with ``S`` or ``N``."""
    sock = _connect(host, port, timeout)
    if sock is None:
        return False
    with sock:
        try:
            sock.sendall(struct.pack("!ii", 8, 80877103))
            return sock.recv(1) in (b"S", b"N")
        except OSError:
            return False


def mysql_probe(host: str, port: int, timeout: float = 1.0) -> bool:
    """A MySQL/MariaDB server greets first with a handshake packet (protocol version 10).

    An error packet (0xff: "host is blocked", "too many connections") counts as not ready.
    """
    sock = _connect(host, port, timeout)
    if sock is None:
        return False
    with sock:
        try:
            header = sock.recv(5)
        except OSError:
            return False
        return len(header) == 5 and header[4] == 10


def http_probe(host: str, port: int, timeout: float = 1.0) -> bool:
    """Something answers HTTP there (S3 servers, Azurite)."""
    sock = _connect(host, port, timeout)
    if sock is None:
        return False
    with sock:
        try:
            sock.sendall(f"GET / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
            return sock.recv(5) == b"HTTP/"
        except OSError:
            return False


def wait_until_ready(probe: Probe, host: str, port: int, *, timeout: float = 60.0, interval: float = 0.5) -> bool:
    """Poll ``probe`` until it succeeds or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        if probe(host, port, min(2.0, max(timeout, 0.1))):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


# ---------------------------------------------------------------------------------------------
# starters: ways to bring a service up for the session
# ---------------------------------------------------------------------------------------------


class Starter(Protocol):
    """Brings a service up for the test session and returns its URL.

    ``unavailable_reason()`` is checked first (cheaply, without side effects); ``start`` registers
    its own teardown on ``stack``, which the session closes at the end.
    """

    name: str

    def unavailable_reason(self) -> str | None: ...

    def start(self, stack: contextlib.ExitStack) -> str: ...


_DOCKER_SOCKETS = ("/var/run/docker.sock", "~/.docker/run/docker.sock", "~/.colima/default/docker.sock")


@functools.cache
def docker_unavailable_reason() -> str | None:
    """None when a Docker engine answers and testcontainers is installed; otherwise why not."""
    if not os.environ.get("DOCKER_HOST") and not any(os.path.exists(os.path.expanduser(p)) for p in _DOCKER_SOCKETS):
        return "no Docker engine (DOCKER_HOST unset, no docker.sock)"
    try:
        import docker  # type: ignore[import-untyped]  # comes with testcontainers
        import testcontainers  # noqa: F401
    except ImportError:
        return "a Docker engine may be there, but testcontainers is not installed (pip install testcontainers)"
    try:
        client = docker.from_env(timeout=5)
        client.ping()
        client.close()
    except Exception as exc:  # noqa: BLE001 - any failure means: no usable engine
        return f"Docker engine not reachable ({type(exc).__name__}: {exc})"
    return None


@dataclass(frozen=True)
class ContainerStarter:
    """A throwaway container through testcontainers' generic ``DockerContainer``."""

    image: str
    port: int
    url: str  # template with {host} and {port}
    probe: Probe
    env: Mapping[str, str] = field(default_factory=dict)
    ready_log: str | None = None  # a line the server logs once it accepts clients
    timeout: float = 120.0
    name: str = "container"

    def unavailable_reason(self) -> str | None:
        return docker_unavailable_reason()

    def start(self, stack: contextlib.ExitStack) -> str:
        from testcontainers.core.container import DockerContainer  # type: ignore[import-untyped]

        container = DockerContainer(self.image)
        for key, value in self.env.items():
            container.with_env(key, value)
        container.with_exposed_ports(self.port)
        container.start()
        stack.callback(container.stop)
        host = container.get_container_host_ip()
        port = int(container.get_exposed_port(self.port))
        deadline = time.monotonic() + self.timeout
        if self.ready_log is not None:
            marker = self.ready_log.encode()
            while not any(marker in part for part in container.get_logs()):
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"{self.image} did not log {self.ready_log!r} within {self.timeout:.0f}s")
                time.sleep(0.5)
        if not wait_until_ready(self.probe, host, port, timeout=max(deadline - time.monotonic(), 1.0)):
            raise TimeoutError(f"{self.image} on {host}:{port} did not answer within {self.timeout:.0f}s")
        return self.url.format(host=host, port=port)


def free_port(host: str = LOOPBACK) -> int:
    """A port nobody listens on right now (the kernel's pick; a tiny race is acceptable in tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "storeroom-ci")


@dataclass(frozen=True)
class ProcessStarter:
    """A local server process on a free loopback port, stopped when the session ends.

    ``command(port, scratch)`` builds the argv (``scratch``: an empty folder of its own, removed
    afterwards); ``prepare()`` (optional) installs the program first, and ``available()`` says
    why it cannot (then the starter is unavailable). The server's output goes to a log file
    under the cache folder, quoted when it fails to come up.
    """

    name: str
    command: Callable[[int, str], list[str]]
    url: str  # template with {host} and {port}
    probe: Probe
    available: Callable[[], str | None] = lambda: None
    prepare: Callable[[], object] = lambda: None
    timeout: float = 60.0

    def unavailable_reason(self) -> str | None:
        return self.available()

    def start(self, stack: contextlib.ExitStack) -> str:
        import shutil
        import subprocess
        import tempfile

        self.prepare()
        port = free_port()
        os.makedirs(_cache_dir(), exist_ok=True)
        label = self.name.replace(" ", "-")
        log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by the stack
            prefix=f"{label}-", suffix=".log", dir=_cache_dir(), delete=False
        )
        stack.callback(os.unlink, log.name)
        stack.callback(log.close)
        scratch = tempfile.mkdtemp(prefix=f"{label}-data-", dir=_cache_dir())
        stack.callback(shutil.rmtree, scratch, ignore_errors=True)
        proc = subprocess.Popen(
            self.command(port, scratch),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

        def stop() -> None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

        stack.callback(stop)
        deadline = time.monotonic() + self.timeout
        while not self.probe(LOOPBACK, port, 1.0):
            if proc.poll() is not None or time.monotonic() >= deadline:
                with open(log.name, errors="replace") as fh:
                    tail = fh.read()[-2000:]
                raise RuntimeError(f"{self.name} did not come up on {LOOPBACK}:{port}; its output:\n{tail}")
            time.sleep(0.2)
        return self.url.format(host=LOOPBACK, port=port)


def _moto_available() -> str | None:
    import importlib.util

    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
        return "moto's server mode is not installed (pip install 'moto[server]')"
    return None


MOTO_STARTER = ProcessStarter(
    name="moto server",
    command=lambda port, _: [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)],
    url="http://{host}:{port}",
    probe=http_probe,
    available=_moto_available,
)


@dataclass(frozen=True)
class NpmTool:
    """A server from an npm package, installed on demand into the cache folder (npm's registry is reachable)."""

    name: str
    spec: str  # what ``npm install`` gets, e.g. "azurite@3"
    entry: str  # the program inside the install folder
    home_env: str  # an environment variable that points at an existing install instead

    @property
    def home(self) -> str:
        return os.environ.get(self.home_env) or os.path.join(_cache_dir(), self.name)

    @property
    def path(self) -> str:
        return os.path.join(self.home, *self.entry.split("/"))

    def unavailable_reason(self) -> str | None:
        import shutil

        if os.path.exists(self.path):
            return None
        if shutil.which("npm") is None or shutil.which("node") is None:
            return f"{self.name} is not installed and there is no node/npm to install it (apt-get install nodejs npm)"
        return None

    def install(self) -> str:
        """``npm install`` the package into the cache folder unless it is there; the program's path."""
        import subprocess

        if not os.path.exists(self.path):
            os.makedirs(self.home, exist_ok=True)
            subprocess.run(
                ["npm", "install", "--prefix", self.home, "--no-audit", "--no-fund", "--loglevel=error", self.spec],
                check=True,
                stdin=subprocess.DEVNULL,
            )
        return self.path


AZURITE_NPM = NpmTool("azurite", "azurite@3", "node_modules/.bin/azurite-blob", "STOREROOM_AZURITE_HOME")
#: a second S3 implementation beside moto: it ignores If-None-Match and answers bytes=0-0 with the
#: whole object, which is what the guarantee checks need a server for
S3RVER_NPM = NpmTool("s3rver", "s3rver@3", "node_modules/s3rver/bin/s3rver.js", "STOREROOM_S3RVER_HOME")


def install_azurite() -> str:
    """Install Azurite with npm into the cache folder unless it is there; its azurite-blob path."""
    return AZURITE_NPM.install()


def install_s3rver() -> str:
    """Install s3rver with npm into the cache folder unless it is there; its s3rver.js path."""
    return S3RVER_NPM.install()


AZURITE_STARTER = ProcessStarter(
    name="azurite (npm)",
    command=lambda port, _: [
        AZURITE_NPM.path,
        "--inMemoryPersistence",
        "--skipApiVersionCheck",
        "--loose",
        "--disableTelemetry",  # it would try to reach a collector on the internet
        "--blobHost",
        LOOPBACK,
        "--blobPort",
        str(port),
    ],
    url="http://{host}:{port}/devstoreaccount1",
    probe=http_probe,
    available=AZURITE_NPM.unavailable_reason,
    prepare=install_azurite,
    timeout=120.0,
)

S3RVER_STARTER = ProcessStarter(
    name="s3rver (npm)",
    command=lambda port, scratch: [
        "node",
        # s3rver 3 encrypts its listing continuation tokens with DES, which OpenSSL 3 keeps in its
        # legacy provider: without it every paginated listing fails with InternalError
        "--openssl-legacy-provider",
        S3RVER_NPM.path,
        "--directory",
        scratch,
        "--address",
        LOOPBACK,
        "--port",
        str(port),
        "--silent",
    ],
    url="http://{host}:{port}",
    probe=http_probe,
    available=S3RVER_NPM.unavailable_reason,
    prepare=install_s3rver,
    timeout=120.0,
)

# ---------------------------------------------------------------------------------------------
# services
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loopback:
    """A server on 127.0.0.1 at its default port, and the URL to reach it there."""

    port: int
    url: str  # template with {host} and {port}
    probe: Probe


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    env_vars: tuple[str, ...]  # the first one set wins
    loopback: Loopback | None = None
    starters: tuple[Starter, ...] = ()
    required_in_ci: bool = True  # CI=true: a missing service fails the test instead of skipping it
    hint: str = ""


Source = Literal["env", "loopback", "starter", "missing"]


@dataclass(frozen=True)
class Resolution:
    service: str
    source: Source
    url: str | None = None
    starter: Starter | None = None
    detail: str = ""


def is_ci(environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    return environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def resolve(
    spec: ServiceSpec,
    *,
    environ: Mapping[str, str] | None = None,
    probe_loopback: bool = True,
    use_starters: bool = True,
) -> Resolution:
    """Decide where ``spec`` comes from, without starting anything."""
    environ = os.environ if environ is None else environ
    for var in spec.env_vars:
        value = environ.get(var, "").strip()
        if value:
            return Resolution(spec.name, "env", url=value, detail=f"from ${var}")
    tried = [f"${spec.env_vars[0]} is not set" if spec.env_vars else "no environment variable"]
    if spec.loopback is not None and probe_loopback:
        lb = spec.loopback
        if lb.probe(LOOPBACK, lb.port, 1.0):
            url = lb.url.format(host=LOOPBACK, port=lb.port)
            return Resolution(spec.name, "loopback", url=url, detail=f"listening on {LOOPBACK}:{lb.port}")
        tried.append(f"no {spec.name} server answers on {LOOPBACK}:{lb.port}")
    if use_starters:
        for starter in spec.starters:
            reason = starter.unavailable_reason()
            if reason is None:
                return Resolution(spec.name, "starter", starter=starter, detail=f"starting a {starter.name}")
            tried.append(f"{starter.name}: {reason}")
    detail = "; ".join(tried)
    if spec.hint:
        detail += f". {spec.hint}"
    return Resolution(spec.name, "missing", detail=detail)


def missing_action(spec: ServiceSpec, environ: Mapping[str, str] | None = None) -> Literal["fail", "skip"]:
    """What a test needing a missing service does: fail in CI (for required services), else skip."""
    return "fail" if spec.required_in_ci and is_ci(environ) else "skip"


def provide(spec: ServiceSpec, stack: contextlib.ExitStack, *, environ: Mapping[str, str] | None = None) -> str:
    """The service's URL, starting it on ``stack`` if need be; else ``pytest.skip`` / ``pytest.fail``."""
    import pytest

    found = resolve(spec, environ=environ)
    if found.url is not None:
        return found.url
    if found.starter is not None:
        return found.starter.start(stack)
    message = f"{spec.name} is not available: {found.detail}"
    if missing_action(spec, environ) == "fail":
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


POSTGRES = ServiceSpec(
    name="postgres",
    env_vars=("STOREROOM_TEST_POSTGRES_URL",),
    loopback=Loopback(5432, "postgresql://postgres@{host}:{port}/test", postgres_probe),
    starters=(
        ContainerStarter(
            image="postgres:16-alpine",
            port=5432,
            url="postgresql://postgres@{host}:{port}/test",
            probe=postgres_probe,
            env={"POSTGRES_HOST_AUTH_METHOD": "trust", "POSTGRES_DB": "test"},
        ),
    ),
    hint="Set STOREROOM_TEST_POSTGRES_URL=postgresql://user:password@host:5432/db or start PostgreSQL locally",
)

MARIADB = ServiceSpec(
    name="mariadb",
    env_vars=("STOREROOM_TEST_MYSQL_URL", "STOREROOM_TEST_MARIADB_URL"),
    loopback=Loopback(3306, "mysql://root@{host}:{port}/test", mysql_probe),
    starters=(
        ContainerStarter(
            image="mariadb:11",
            port=3306,
            url="mysql://root@{host}:{port}/test",
            probe=mysql_probe,
            env={"MARIADB_ALLOW_EMPTY_ROOT_PASSWORD": "1", "MARIADB_DATABASE": "test"},
        ),
    ),
    hint="Set STOREROOM_TEST_MYSQL_URL=mysql://user:password@host:3306/db or start MariaDB locally",
)

MSSQL_PASSWORD = "Storeroom-t3st!"  # only ever for a throwaway container on this machine

MSSQL = ServiceSpec(
    name="mssql",
    env_vars=("STOREROOM_TEST_MSSQL_URL",),
    loopback=None,  # no well-known credentials: set the URL instead
    starters=(
        ContainerStarter(
            image="mcr.microsoft.com/mssql/server:2022-latest",
            port=1433,
            url="mssql://sa:" + MSSQL_PASSWORD + "@{host}:{port}/master?TrustServerCertificate=yes",
            probe=tcp_probe,
            env={"ACCEPT_EULA": "Y", "MSSQL_SA_PASSWORD": MSSQL_PASSWORD},
            ready_log="SQL Server is now ready for client connections",
            timeout=240.0,
        ),
    ),
    required_in_ci=False,  # DESIGN §7: live when available, compiled SQL otherwise
    hint="Set STOREROOM_TEST_MSSQL_URL=mssql://sa:password@host:1433/master to test SQL Server live",
)

S3 = ServiceSpec(
    name="s3",
    env_vars=("STOREROOM_TEST_S3_ENDPOINT",),
    loopback=None,  # no well-known port: moto's server is started on a free one
    starters=(MOTO_STARTER,),
    hint="Set STOREROOM_TEST_S3_ENDPOINT=http://127.0.0.1:PORT (moto_server -p PORT)",
)

S3RVER = ServiceSpec(
    name="s3rver",
    env_vars=("STOREROOM_TEST_S3RVER_ENDPOINT",),
    loopback=None,  # started on a free port
    starters=(S3RVER_STARTER,),
    hint="Install Node.js with npm (the tests npm-install s3rver themselves), or set "
    "STOREROOM_TEST_S3RVER_ENDPOINT=http://127.0.0.1:PORT of a running `s3rver -d DIR -p PORT`",
)

AZURITE = ServiceSpec(
    name="azurite",
    env_vars=("STOREROOM_TEST_AZURITE_URL",),
    loopback=Loopback(10000, "http://{host}:{port}/devstoreaccount1", http_probe),
    starters=(
        AZURITE_STARTER,
        ContainerStarter(
            image="mcr.microsoft.com/azure-storage/azurite",
            port=10000,
            url="http://{host}:{port}/devstoreaccount1",
            probe=http_probe,
        ),
    ),
    hint="Set STOREROOM_TEST_AZURITE_URL=http://127.0.0.1:10000/devstoreaccount1 or run azurite-blob",
)

SERVICES: dict[str, ServiceSpec] = {spec.name: spec for spec in (POSTGRES, MARIADB, MSSQL, S3, S3RVER, AZURITE)}


# ---------------------------------------------------------------------------------------------
# command line, for .ci/run
# ---------------------------------------------------------------------------------------------


def _host_port(url: str, default_port: int | None) -> tuple[str, int | None]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.hostname or LOOPBACK, parts.port or default_port


def _probe_for(spec: ServiceSpec) -> tuple[Probe, int | None]:
    if spec.loopback is not None:
        return spec.loopback.probe, spec.loopback.port
    return tcp_probe, None


def _cmd_wait(names: Sequence[str], timeout: float) -> int:
    status = 0
    for name in names:
        spec = SERVICES[name]
        probe, default_port = _probe_for(spec)
        deadline = time.monotonic() + timeout
        while True:
            found = resolve(spec, use_starters=False)
            if found.url is not None:
                host, port = _host_port(found.url, default_port)
                if port is not None and wait_until_ready(
                    probe, host, port, timeout=max(deadline - time.monotonic(), 0)
                ):
                    print(f"services: {name} ready at {host}:{port} ({found.detail})")
                    break
            if time.monotonic() >= deadline:
                print(f"services: {name} NOT ready after {timeout:.0f}s: {found.detail}", file=sys.stderr)
                status = 1
                break
            time.sleep(1.0)
    return status


def _cmd_show() -> int:
    for spec in SERVICES.values():
        found = resolve(spec)
        print(f"{spec.name:9} {found.source:8} {found.detail}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="_services.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    wait = sub.add_parser("wait", help="wait until each named service answers (env URL or loopback)")
    wait.add_argument("names", nargs="+", choices=sorted(SERVICES))
    wait.add_argument("--timeout", type=float, default=60.0)
    sub.add_parser("show", help="where each service would come from")
    sub.add_parser("install-azurite", help="npm-install Azurite into the cache folder (no-op when present)")
    sub.add_parser("install-s3rver", help="npm-install s3rver into the cache folder (no-op when present)")
    args = parser.parse_args(argv)
    if args.command == "wait":
        return _cmd_wait(args.names, args.timeout)
    if args.command == "install-azurite":
        print(f"services: azurite-blob at {install_azurite()}")
        return 0
    if args.command == "install-s3rver":
        print(f"services: s3rver at {install_s3rver()}")
        return 0
    return _cmd_show()


if __name__ == "__main__":
    sys.exit(main())
