"""A loopback TCP proxy that drops the network path, for fault tests.

Shared by the S3, Azure and unit-of-work tests. Once ``cut_after`` client-to-server bytes
(counted over all connections) have passed, the connection carrying them is reset (RST, as a
dropped path looks to the client), and so is every connection that sends anything next,
``times`` cuts in all; after that the network is "back" and later connections (an abort, a
retry) pass untouched. ``times=None`` never brings it back, so SDK retries fail too.
``cut_after=None`` never cuts requests; ``response_limit`` ends every server-to-client
stream after that many bytes instead (a download cut off mid-body, on every connection).
``rewrite=(old, new)`` replaces bytes in what clients send (a header the server should not
see, for a server that ignores it; only where the request's signature does not cover it).

``cut_on`` cuts on one client message instead (its exact bytes, such as
:data:`POSTGRES_COMMIT`), ``times`` times, once armed (at once, or from :meth:`CuttingProxy.arm`
with ``armed=False``: the moment the test chooses, when one COMMIT among many is the one to
cut); ``deliver`` says whether it reaches the server:

- ``"never"``: the connection is reset in its place; the server sees its client vanish;
- ``"reply-lost"``: the server gets it, and its reply is dropped with the connection: the
  server did the work, the client never hears of it;
- ``"late"``: the client's connection is reset at once and the message reaches the server
  ``delay`` seconds later (its reply dropped too): still in flight when the client moves on.

With ``offline_after_cut`` the network then stays down - every connection, open or new, is
reset - until :meth:`CuttingProxy.online`; :meth:`CuttingProxy.offline` takes it down by hand.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Literal

__all__ = ["MYSQL_COMMIT", "POSTGRES_COMMIT", "CuttingProxy", "Deliver"]

_LINGER_ZERO = b"\x01\x00\x00\x00\x00\x00\x00\x00"  # struct linger {on, 0 s}: close sends RST

#: PostgreSQL simple Query message ('Q', int32 length, "COMMIT\0"), as psycopg 3 commits
POSTGRES_COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"
#: MySQL COM_QUERY (0x03) "COMMIT" as a new command (3-byte length, sequence id 0), as PyMySQL and asyncmy commit
MYSQL_COMMIT = b"\x07\x00\x00\x00\x03COMMIT"

Deliver = Literal["never", "reply-lost", "late"]


class _Link:
    """One proxied connection: whether the server's next reply is to be dropped, and the
    client's last bytes (a ``cut_on`` message split across two reads is still seen)."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.swallow = False
        self.tail = b""


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
        cut_on: bytes | None = None,
        deliver: Deliver = "never",
        delay: float = 0.5,
        offline_after_cut: bool = False,
        armed: bool = True,
    ) -> None:
        self.upstream = upstream
        self.remaining = cut_after if cut_after is not None else float("inf")
        self.response_limit = response_limit
        self.rewrite = rewrite
        self.times = times
        self.cut_on = cut_on
        self.deliver = deliver
        self.delay = delay
        self.offline_after_cut = offline_after_cut
        self.armed = armed
        self.cuts = 0
        self.url = f"http://127.0.0.1:{{port}}{path}"
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._offline = False
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.url = self.url.format(port=self.port)
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    # -- the network going down and coming back -----------------------------------------------------

    def arm(self) -> None:
        """From now on, ``cut_on`` cuts."""
        self.armed = True

    def offline(self) -> None:
        """Reset every open connection, and every new one until :meth:`online`."""
        with self._lock:
            self._offline = True
            sockets = list(self._sockets)
        self._reset(*sockets)

    def online(self) -> None:
        with self._lock:
            self._offline = False

    def _after_cut(self) -> None:
        if self.offline_after_cut:
            self.offline()

    # -- pumping -----------------------------------------------------------------------------------

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
                refused = self._offline
                self._sockets += [client, upstream]
            if refused:
                self._reset(client, upstream)
                continue
            link = _Link(client, upstream)
            threading.Thread(target=self._pump, args=(link, client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(link, upstream, client, False), daemon=True).start()

    def _pump(self, link: _Link, src: socket.socket, dst: socket.socket, counted: bool) -> None:
        sent = 0
        shut = True
        try:
            while data := src.recv(65536):
                if not counted and link.swallow:  # the reply to a delivered cut_on message: dropped
                    self._reset(src, dst)
                    self._after_cut()
                    return
                if not counted and self.response_limit is not None and sent + len(data) > self.response_limit:
                    dst.sendall(data[: self.response_limit - sent])
                    for sock in (src, dst):  # shutdown wakes the other direction's blocked recv at once
                        with contextlib.suppress(OSError):
                            sock.shutdown(socket.SHUT_RDWR)
                    return
                sent += len(data)
                if counted and self._message_cut(link, data):
                    shut = False
                    return
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
            if shut:
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)

    def _message_cut(self, link: _Link, data: bytes) -> bool:
        """Whether ``data`` completes a ``cut_on`` message, and if so, cut as ``deliver`` says."""
        if self.cut_on is None or not self.armed:
            return False
        window = link.tail + data
        link.tail = window[len(window) - len(self.cut_on) + 1 :]
        with self._lock:
            hit = self.cut_on in window and (self.times is None or self.cuts < self.times)
            if hit:
                self.cuts += 1
        if not hit:
            return False
        if self.deliver == "never":
            self._reset(link.client, link.upstream)
            self._after_cut()
            return True

        def deliver() -> None:
            link.swallow = True  # before sending: the reply must not slip through first
            with contextlib.suppress(OSError):
                link.upstream.sendall(data)

        if self.deliver == "reply-lost":
            deliver()
        else:
            self._reset(link.client)
            threading.Timer(self.delay, deliver).start()
        return True

    @staticmethod
    def _reset(*socks: socket.socket) -> None:
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
            # Wake the other pump's recv on it: a socket read by a blocked thread is not really
            # closed (no RST) until that recv returns - a server that says nothing never learns.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RD)
            sock.close()

    def close(self) -> None:
        self._closed = True
        self._server.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # really closed, even while a pump blocks on it (see _reset)
                sock.close()

    def __enter__(self) -> CuttingProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
