"""Serving an application on a real uvicorn server on loopback, for tests.

``with serve(app) as base_url: httpx.get(base_url + "/health")`` runs the application's
lifespan, answers over real HTTP and shuts down cleanly at the end of the block. Needs
``uvicorn`` (``pip install uvicorn``).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["free_port", "serve"]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any, *, host: str = "127.0.0.1", timeout: float = 30.0, **options: Any) -> Iterator[str]:
    """Run ``app`` on uvicorn in a thread; yields ``http://host:port``. ``options`` go to ``uvicorn.Config``."""
    import uvicorn

    options.setdefault("log_level", "warning")
    options.setdefault("lifespan", "on")
    config = uvicorn.Config(app, host=host, port=free_port(host), **options)
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread below
            failure.append(exc)

    thread = threading.Thread(target=run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if failure or not thread.is_alive():
            raise RuntimeError("uvicorn did not start (see its log)") from (failure[0] if failure else None)
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError(f"uvicorn did not start within {timeout} s")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
