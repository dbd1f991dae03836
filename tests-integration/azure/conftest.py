"""Azurite fixtures: account settings, and a fresh container per test (removed afterwards)."""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

#: Azurite's well-known development account (public, documented by Microsoft)
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@dataclass(frozen=True)
class Azurite:
    url: str  # http://127.0.0.1:PORT/devstoreaccount1

    @property
    def connection_string(self) -> str:
        return f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};BlobEndpoint={self.url};"

    def key_config(self, **extra: Any) -> dict[str, Any]:
        return {"account_url": self.url, "account_key": ACCOUNT_KEY, **extra}

    def cs_config(self, **extra: Any) -> dict[str, Any]:
        return {"connection_string": self.connection_string, **extra}

    def service(self) -> Any:
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient.from_connection_string(self.connection_string)


@pytest.fixture(scope="session")
def azurite(azurite_url: str) -> Azurite:
    return Azurite(azurite_url.rstrip("/"))


def new_container_name() -> str:
    return f"t-{uuid.uuid4().hex[:20]}"


@pytest.fixture
def container(azurite: Azurite) -> Iterator[str]:
    """A new, empty container, deleted after the test."""
    name = new_container_name()
    with azurite.service() as service:
        service.create_container(name)
        yield name
        service.delete_container(name)


@pytest.fixture
def blob_names(azurite: Azurite, container: str) -> Any:
    """Every committed blob name in the test's container, straight from the SDK."""

    def names() -> list[str]:
        with azurite.service() as service:
            return [b.name for b in service.get_container_client(container).list_blobs()]

    return names


# -- a connection that drops mid-request --------------------------------------------------


class CuttingProxy:
    """A loopback TCP proxy that forwards to a server and cuts every connection after N bytes.

    Used to drop an upload mid-request: once ``cut_after`` bytes have gone upstream (in
    total, over all connections), every open connection is closed and new ones are
    closed on accept, so SDK retries fail too.
    """

    def __init__(self, target_host: str, target_port: int, cut_after: int) -> None:
        self.target = (target_host, target_port)
        self.cut_after = cut_after
        self.forwarded = 0
        self.cut = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self.cut.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, counted: bool) -> None:
        try:
            while data := src.recv(65536):
                if counted:
                    with self._lock:
                        room = self.cut_after - self.forwarded
                        self.forwarded += len(data)
                    if room <= len(data):
                        dst.sendall(data[: max(room, 0)])
                        self._cut()
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _cut(self) -> None:
        self.cut.set()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def close(self) -> None:
        self._server.close()
        self._cut()


@pytest.fixture
def cutting_proxy(azurite: Azurite) -> Iterator[Any]:
    """``cutting_proxy(n)`` -> a :class:`CuttingProxy` to Azurite; its URL is ``proxy.url``."""
    from urllib.parse import urlsplit

    target = urlsplit(azurite.url)
    made: list[CuttingProxy] = []

    def make(cut_after: int) -> CuttingProxy:
        proxy = CuttingProxy(target.hostname or "127.0.0.1", target.port or 10000, cut_after)
        proxy.url = f"http://127.0.0.1:{proxy.port}{target.path}"  # type: ignore[attr-defined]
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.close()
