"""A 512 MiB upload and download through a FastAPI app on uvicorn, next to the storage used directly.

The server is a uvicorn process of its own (this script with ``--serve``) running an app with
two routes: ``PUT /upload`` stores the raw body through an upload policy (``upload_body``) and
``GET /objects/{key}`` streams an object back (``download_response``), on storeroom-local.
The client is a raw HTTP/1.1 socket: ``sendfile`` for the upload, ``recv_into`` a reused
buffer for the download, so the client's own cost stays out of the figures.

Baselines, each in a fresh process: the same file written to the storage directly
(``AsyncLocalStorage.write``, and ``policy.aput``, which also hashes the stream as the app
does), and the object read back with ``read_stream``. For scale, a server with no HTTP library
at all (read 1 MiB, ``sendall``, repeat) shows what loopback TCP alone costs a download.
Variants run interleaved, rotating the order every round; medians are reported with the ratio
against the direct storage call.

Memory is the server's extra peak RSS, read from outside through /proc: the peak is reset
(``clear_refs``) just before each transfer, and ``VmHWM`` after it minus ``VmRSS`` before it
is what the transfer cost.

Targets: time ratio <= 1.3, extra peak RSS of the server <= 64 MiB, both ways.

    hatch run bench:python benchmarks/fastapi_stream.py                    # 512 MiB, 3 rounds
    hatch run bench:python benchmarks/fastapi_stream.py --size 128MiB --rounds 5
"""

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from _common import child_result, size_arg

MiB = 1024 * 1024
POLICY = "bench"


# -- the server (a child process) ------------------------------------------------------------


def _settings(root: str) -> dict[str, Any]:
    return {
        "databases": {"main": {"backend": "sqlite", "url": f"sqlite:///{root}/bench.db"}},
        "storages": {"files": {"backend": "local", "root": os.path.join(root, "objects")}},
        "policies": {POLICY: {"storage": "files", "key_prefix": "bench/"}},
    }


def serve(port: int, root: str, http: str, chunk: int) -> None:
    import uvicorn
    from fastapi.responses import Response

    from fastapi import FastAPI, Request
    from storeroom import Storeroom
    from storeroom_fastapi import AsyncStorageDep, RoomDep, download_response, storeroom_lifespan, upload_body

    app = FastAPI(lifespan=storeroom_lifespan(lambda: Storeroom.from_settings(_settings(root), embedded_default=False)))

    @app.put("/upload")
    async def upload(request: Request, room: RoomDep) -> dict[str, Any]:
        ref = await upload_body(request, room.policy(POLICY), key="object.bin")
        return {"size": ref.size}

    @app.get("/objects/{key:path}")
    async def download(request: Request, key: str, files: AsyncStorageDep) -> Response:
        return await download_response(request, files, key, chunk_size=chunk)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", http=http, access_log=False)


def raw_serve(port: int, root: str) -> None:
    """A download over loopback TCP from Python without any HTTP library, ASGI server or
    framework: read 1 MiB blocks of the file and ``sendall`` them after a minimal head."""
    path = os.path.join(root, "objects", "bench", "object.bin")
    with socket.create_server(("127.0.0.1", port)) as listener:
        while True:
            conn, _ = listener.accept()
            with conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    more = conn.recv(65536)
                    if not more:
                        break  # a readiness probe
                    request += more
                else:
                    with open(path, "rb") as f:
                        size = os.fstat(f.fileno()).st_size
                        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode())
                        block = bytearray(MiB)
                        while n := f.readinto(block):
                            conn.sendall(memoryview(block)[:n])


# -- the raw client ----------------------------------------------------------------------------


def _read_head(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        if not more:
            raise ConnectionError("the server closed the connection")
        data += more
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), headers, rest


def http_upload(port: int, path: str, size: int) -> float:
    with socket.create_connection(("127.0.0.1", port)) as sock, open(path, "rb") as f:
        started = time.perf_counter()
        sock.sendall(
            f"PUT /upload HTTP/1.1\r\nHost: bench\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Length: {size}\r\n\r\n".encode()
        )
        sock.sendfile(f, 0, size)
        status, headers, body = _read_head(sock)
        while len(body) < int(headers.get("content-length", 0)):
            body += sock.recv(65536)
        elapsed = time.perf_counter() - started
    if status != 200 or json.loads(body)["size"] != size:
        raise SystemExit(f"upload failed: {status} {body[:200]!r}")
    return elapsed


def http_download(port: int, key: str, size: int) -> float:
    buffer = bytearray(4 * MiB)
    view = memoryview(buffer)
    with socket.create_connection(("127.0.0.1", port)) as sock:
        started = time.perf_counter()
        sock.sendall(f"GET /objects/{key} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
        status, headers, rest = _read_head(sock)
        length = int(headers["content-length"])
        got = len(rest)
        while got < length:
            n = sock.recv_into(view)
            if not n:
                break
            got += n
        elapsed = time.perf_counter() - started
    if status != 200 or got != size or length != size:
        raise SystemExit(f"download failed: {status}, {got} of {size} bytes")
    return elapsed


# -- the direct baselines (a child process each) ---------------------------------------------------


def direct(variant: str, path: str, root: str) -> float:
    from storeroom import Storeroom

    async def run() -> float:
        async with Storeroom.from_settings(_settings(root), embedded_default=False) as room:
            store = room.async_storage("files")
            policy = room.policy(POLICY)
            await store.write("warm.bin", b"x")  # clients and folders made before the clock starts
            with open(path, "rb") as f:
                started = time.perf_counter()
                if variant == "write":
                    await store.write("bench/object.bin", f, content_type="application/octet-stream")
                elif variant == "aput":
                    await policy.aput(f, content_type="application/octet-stream", key="object.bin")
                else:
                    async for _ in store.read_stream("bench/object.bin"):
                        pass
                return time.perf_counter() - started

    return asyncio.run(run())


def run_direct(variant: str, path: str, root: str) -> float:
    return float(child_result(__file__, f"direct {variant}", "--direct", variant, "--src", path, "--root", root))


# -- measuring the server from outside ------------------------------------------------------------


def _status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def measured(pid: int, work: Callable[[], float]) -> tuple[float, int]:
    """``work()``'s seconds and the server's extra peak RSS in bytes during it."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current RSS
    before = _status_kib(pid, "VmRSS")
    seconds = work()
    return seconds, max(0, _status_kib(pid, "VmHWM") - before) * 1024


class Server:
    def __init__(self, root: str, *options: str) -> None:
        from _services import free_port  # type: ignore[import-not-found]

        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, __file__, *[o.format(port=self.port) for o in options], "--root", root],
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.1)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


# -- the driver ----------------------------------------------------------------------------------


def make_source(path: str, size: int) -> None:
    block = os.urandom(MiB)
    with open(path, "wb") as f:
        for start in range(0, size, MiB):
            f.write(block[: min(MiB, size - start)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=size_arg, default=size_arg(os.environ.get("STOREROOM_BENCH_SIZE", "512MiB")))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("STOREROOM_BENCH_ROUNDS", "3")))
    parser.add_argument("--http", default="auto", help="uvicorn's HTTP implementation: auto, h11, httptools")
    parser.add_argument("--chunk", type=size_arg, default=size_arg("1MiB"), help="download_response's chunk_size")
    parser.add_argument("--dir", default=os.environ.get("STOREROOM_BENCH_DIR"), help="where to write")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--direct", help=argparse.SUPPRESS)
    parser.add_argument("--raw-serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--src", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.root, args.http, args.chunk)
        return 0
    if args.raw_serve:
        raw_serve(args.raw_serve, args.root)
        return 0
    if args.direct:
        print(direct(args.direct, args.src, args.root))
        return 0

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests-integration"))
    base = tempfile.mkdtemp(prefix="storeroom-bench-fastapi-", dir=args.dir)
    server_root = os.path.join(base, "server")
    direct_root = os.path.join(base, "direct")
    server = raw = None
    try:
        src = os.path.join(base, "source.bin")
        make_source(src, args.size)
        os.makedirs(server_root)
        server = Server(server_root, "--serve={port}", f"--http={args.http}", f"--chunk={args.chunk}")
        http_upload(server.port, src, MiB)  # warm-up: imports, first request, folders
        http_download(server.port, "bench/object.bin", MiB)
        raw = Server(direct_root, "--raw-serve={port}")
        print(
            f"object {args.size / MiB:.0f} MiB, {args.rounds} interleaved rounds, uvicorn http={args.http}, chunks of {args.chunk / MiB:g} MiB, in {base}"
        )
        times: dict[str, list[float]] = {}
        rss: dict[str, list[int]] = {"upload through the app": [], "download through the app": []}

        def app_upload() -> None:
            seconds, extra = measured(server.proc.pid, lambda: http_upload(server.port, src, args.size))
            times.setdefault("upload through the app", []).append(seconds)
            rss["upload through the app"].append(extra)

        def app_download() -> None:
            seconds, extra = measured(
                server.proc.pid, lambda: http_download(server.port, "bench/object.bin", args.size)
            )
            times.setdefault("download through the app", []).append(seconds)
            rss["download through the app"].append(extra)

        def direct_variant(label: str, variant: str) -> Callable[[], None]:
            return lambda: times.setdefault(label, []).append(run_direct(variant, src, direct_root))

        uploads = {
            "upload through the app": app_upload,
            "storage.write directly": direct_variant("storage.write directly", "write"),
            "policy.aput directly": direct_variant("policy.aput directly", "aput"),
        }

        def raw_download() -> None:
            times.setdefault("raw socket read + sendall", []).append(
                http_download(raw.port, "bench/object.bin", args.size)
            )

        downloads = {
            "download through the app": app_download,
            "storage.read_stream directly": direct_variant("storage.read_stream directly", "read"),
            "raw socket read + sendall": raw_download,
        }
        for round_no in range(args.rounds):
            for group in (uploads, downloads):
                labels = list(group)
                for label in labels[round_no % len(labels) :] + labels[: round_no % len(labels)]:
                    os.makedirs(direct_root, exist_ok=True)
                    if group is downloads and not os.path.exists(os.path.join(direct_root, "objects")):
                        run_direct("write", src, direct_root)
                    group[label]()
                    if hasattr(os, "sync"):
                        os.sync()
            shutil.rmtree(direct_root, ignore_errors=True)
        report(times, rss, args.size)
    finally:
        for proc in (server, raw):
            if proc is not None:
                proc.close()
        shutil.rmtree(base, ignore_errors=True)
    return 0


def report(times: dict[str, list[float]], rss: dict[str, list[int]], size: int) -> None:
    medians = {label: statistics.median(values) for label, values in times.items()}
    rows = [
        ("upload through the app", "storage.write directly"),
        ("policy.aput directly", "storage.write directly"),
        ("upload through the app", "policy.aput directly"),
        ("download through the app", "storage.read_stream directly"),
        ("raw socket read + sendall", "storage.read_stream directly"),
        ("download through the app", "raw socket read + sendall"),
    ]
    print(f"\n{'variant':30} {'median s':>9} {'MiB/s':>8}   all runs (s)")
    for label, values in times.items():
        runs = " ".join(f"{v:.2f}" for v in values)
        print(f"{label:30} {medians[label]:9.3f} {size / MiB / medians[label]:8.0f}   {runs}")
    print()
    for label, baseline in rows:
        print(f"{label} / {baseline}: x{medians[label] / medians[baseline]:.2f}")
    for label, values in rss.items():
        print(f"server extra peak RSS, {label}: {max(values) / MiB:.1f} MiB (max of {len(values)} runs)")


if __name__ == "__main__":
    sys.exit(main())
