"""A loopback TCP proxy that drops the network path after N bytes, for upload fault tests.

Shared by the S3 and Azure tests. Once ``cut_after`` client-to-server bytes (counted over
all connections) have passed, the connection carrying them is reset (RST, as a dropped
path looks to the client), and so is every connection that sends anything next, ``times``
cuts in all; after that the network is "back" and later connections (an abort, a retry)
pass untouched. ``times=None`` never brings it back, so SDK retries fail too.
``cut_after=None`` never cuts requests; ``response_limit`` ends every server-to-client
stream after that many bytes instead (a download cut off mid-body, on every connection).
``rewrite=(old, new)`` replaces bytes in what clients send (a header the server should not
see, for a server that ignores it; only where the request's signature does not cover it).
"""

from __future__ import annotations

import contextlib
import socket
import threading

__all__ = ["CuttingProxy"]

_LINGER_ZERO = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # struct linger {on, 0 s}: close sends RST


class CuttingProxy:
    def __init__(
        self,
        upstream: tuple[str, int],
        cut_after: int | None,
        *,
        times: int | None = 1,
        path: str = "",
        response_limit: int | None = None,
        rewrite: tuple[bytes, bytes] | None = None,
    ) -> None:
        self.upstream = upstream
        self.remaining = cut_after if cut_after is not None else float("inf")
        self.response_limit = response_limit
        self.rewrite = rewrite
        self.times = times
        self.cuts = 0
        self.url = f"http://127.0.0.1:{{port}}{path}"
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.url = self.url.format(port=self.port)
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, counted: bool) -> None:
        sent = 0
        try:
            while data := src.recv(65536):
                if not counted and self.response_limit is not None and sent + len(data) > self.response_limit:
                    dst.sendall(data[: self.response_limit - sent])
                    for sock in (src, dst):  # shutdown wakes the other direction's blocked recv at once
                        with contextlib.suppress(OSError):
                            sock.shutdown(socket.SHUT_RDWR)
                    return
                sent += len(data)
                if counted:
                    with self._lock:
                        cut = (self.times is None or self.cuts < self.times) and len(data) >= self.remaining
                        self.remaining -= len(data)
                        if cut:
                            self.cuts += 1
                    if cut:
                        self._reset(src, dst)
                        return
                    if self.rewrite is not None:
                        data = data.replace(*self.rewrite)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

    @staticmethod
    def _reset(*socks: socket.socket) -> None:
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
                sock.close()

    def close(self) -> None:
        self._closed = True
        self._server.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()

    def __enter__(self) -> CuttingProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
