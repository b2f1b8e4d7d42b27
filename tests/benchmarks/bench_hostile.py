"""Hostile-client benchmark: ``make bench`` (or ``python -m tests.benchmarks.bench_hostile``).

A real server process on loopback takes what an attacker sends before and after signing in: bodies that declare
100 MB, 100 MB bodies streamed without a length (4 at once, on the sign-in endpoints and on /v1/sync), deeply
nested JSON and MessagePack. Prints how each was answered, how long the answers took, how many bytes the server
let in before refusing, and the server's RSS (psutil) before and after beside the bound it should stay under.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import select
import socket
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from sync.client.transport import Transport
from sync.envelope import DeviceKey
from sync.protocol import MEDIA_MSGPACK
from tests.benchmarks.report import row
from tests.servers import ProcessServer

HUGE = 100 * 1024 * 1024
CONCURRENT = 4
RSS_GROWTH_MB = 64  # the bound: the body limits keep a flood of huge bodies from growing the server by more
BLOCK = b"A" * 65536


def _status_of(sock: socket.socket) -> int:
    received = b""
    while b"\r\n" not in received:
        piece = sock.recv(4096)
        if not piece:
            return 0  # closed without an answer
        received += piece
    return int(received.split(b" ", 2)[1])


def declared(port: int, path: str, headers: str = "") -> tuple[int, float]:
    """Declare a 100 MB body, send one byte, and wait for the answer."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: {HUGE}\r\n\r\n{{".encode())
        status = _status_of(sock)
    return status, time.perf_counter() - started


def streamed(port: int, path: str, headers: str = "") -> tuple[int, int, float]:
    """Stream up to 100 MB chunked, stopping as soon as the server answers or hangs up."""
    started, sent, status = time.perf_counter(), 0, 0
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n{headers}Transfer-Encoding: chunked\r\n\r\n".encode())
        try:
            while sent < HUGE:
                sock.sendall(b"10000\r\n" + BLOCK + b"\r\n")
                sent += len(BLOCK)
                if select.select([sock], [], [], 0)[0]:
                    break
            else:
                sock.sendall(b"0\r\n\r\n")
            status = _status_of(sock)
        except (BrokenPipeError, ConnectionResetError):
            status = 0
    return status, sent, time.perf_counter() - started


def deep(port: int, path: str, body: bytes, headers: str = "") -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: {len(body)}\r\n\r\n"
        sock.sendall(head.encode() + body)
        return _status_of(sock)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = ProcessServer(Path(tmp) / "server").start()
        try:
            process = psutil.Process(server.process.pid)
            key = DeviceKey.generate()
            transport = Transport(server.url)
            token = transport.sign_in(transport.register(server.invite(), "bench", key).device, key)[0]
            auth = f"Authorization: Bearer {token}\r\n"
            json_type, msgpack_type = "Content-Type: application/json\r\n", f"Content-Type: {MEDIA_MSGPACK}\r\n"
            before = process.memory_info().rss
            print(f"Hostile bodies against a server process (pid {process.pid}), {CONCURRENT} at a time")
            targets = [("/v1/register", json_type), ("/v1/auth/token", json_type), ("/v1/sync", auth + json_type)]
            with ThreadPoolExecutor(CONCURRENT) as pool:
                for path, headers in targets:
                    answers = list(
                        pool.map(lambda _n, p=path, h=headers: declared(server.port, p, h), range(CONCURRENT))
                    )
                    codes = sorted({status for status, _ in answers})
                    row(f"declared 100 MB to {path}: answered {codes} in (max)", max(s for _, s in answers), "s")
                for path, headers in targets:
                    answers = list(
                        pool.map(lambda _n, p=path, h=headers: streamed(server.port, p, h), range(CONCURRENT))
                    )
                    codes = sorted({status for status, _, _ in answers})
                    row(
                        f"streamed 100 MB to {path}: answered {codes}, sent (max)",
                        max(b for _, b, _ in answers) / 2**20,
                        "MiB",
                    )
                    row(f"streamed 100 MB to {path}: answered in (max)", max(s for _, _, s in answers), "s")
            nested = {
                "deep JSON to /v1/sync": deep(
                    server.port, "/v1/sync", b"[" * 500_000 + b"]" * 500_000, auth + json_type
                ),
                "deep MessagePack to /v1/sync": deep(
                    server.port, "/v1/sync", b"\x91" * 1_000_000 + b"\xc0", auth + msgpack_type
                ),
                "deep JSON to /v1/register": deep(server.port, "/v1/register", b"[" * 8000 + b"]" * 8000, json_type),
            }
            for name, status in nested.items():
                row(f"{name}: status", status, "", fmt="d")
            after = process.memory_info().rss
            alive = server.process.poll() is None
        finally:
            server.stop()
    row("server RSS before", before / 2**20, "MiB", fmt=".1f")
    row("server RSS after", after / 2**20, "MiB", fmt=".1f")
    row("server RSS growth", (after - before) / 2**20, "MiB", target=RSS_GROWTH_MB, fmt=".1f")
    print(f"  server still serving afterwards: {'yes' if alive else 'NO'}")


if __name__ == "__main__":
    main()
