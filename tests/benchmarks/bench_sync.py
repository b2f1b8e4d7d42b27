"""Sync benchmark: ``make bench`` (or ``python -m tests.benchmarks.bench_sync``).

1. A 2G link, issue 11's model: 100 records up and 100 down (400 random bytes each, as ciphertext would be)
   through the fault proxy at 64 kbit/s each way with 300 ms one-way delay, 2 RTT charged for each new
   connection (TCP + TLS), from a cold start (a new engine: no token, no connection). Prints bytes each way,
   HTTP requests (sign-in included), connections and wall time ÷ the issue's bound; then a follow-up sync 2 s
   later (one receipt up): whether it opened a new connection, and its bytes.
2. Server throughput: 50 concurrent clients syncing (push one record, pull) against SQLite and PostgreSQL.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from sync import PROTOCOL_VERSION
from sync.client.transport import Transport
from sync.protocol import SyncRequest
from tests.benchmarks.report import row
from tests.clients import make_client
from tests.faultproxy import FaultProxy
from tests.servers import ProcessServer

RECORDS = 100
BODY = 400
LATENCY = 0.300
BANDWIDTH = 64_000
CLIENTS = 50
THROUGHPUT_SECONDS = 6.0
FOLLOW_UP_S = 2.0
RECEIPT = 100


def _count_requests(transport: Transport, counts: list[int]) -> None:
    """Count every HTTP request ``transport`` and its forks send (sign-in included), by a ``requests`` hook."""
    transport._session.hooks["response"].append(lambda response, *args, **kwargs: counts.append(1))
    fork = transport.fork

    def counted_fork() -> Transport:
        side = fork()
        _count_requests(side, counts)
        return side

    transport.fork = counted_fork  # type: ignore[method-assign]


def two_g_link(tmp: Path) -> None:
    rtt = 2 * LATENCY
    link = f"{BANDWIDTH // 1000} kbit/s, {LATENCY * 1000:.0f} ms one way, {2 * rtt:.1f} s (2 RTT) per new connection"
    print(f"2G link, cold start (token expired): {RECORDS} up + {RECORDS} down, {BODY}-byte bodies, {link}")
    server = ProcessServer(tmp / "server").start()
    try:
        student = make_client(tmp / "student", server.url, server.invite())
        mentor = make_client(tmp / "mentor", server.url, server.invite("mentor"))
        for _ in range(RECORDS):
            mentor.send(os.urandom(BODY), [student.account])
        mentor.engine().sync_once()
        for _ in range(RECORDS):
            student.send(os.urandom(BODY), [mentor.account])
        with FaultProxy(
            "127.0.0.1", server.port, latency_s=LATENCY, bandwidth_bps=BANDWIDTH, connect_delay_s=2 * rtt
        ) as proxy:
            engine = student.engine(url=proxy.url)  # a new engine: no token, no connection (back after hours away)
            counts: list[int] = []
            _count_requests(engine.transport, counts)
            started = time.perf_counter()
            progress = engine.sync_once()
            wall = time.perf_counter() - started
            up, down, connections, requests_sent = proxy.bytes_up, proxy.bytes_down, proxy.connections, len(counts)
            time.sleep(FOLLOW_UP_S)  # the receipts of what was just pulled, a moment later
            student.send(os.urandom(RECEIPT), [mentor.account])
            proxy.reset_counters()
            counts.clear()
            started = time.perf_counter()
            engine.sync_once()
            follow_wall = time.perf_counter() - started
            follow = (proxy.bytes_up, proxy.bytes_down, proxy.connections, len(counts))
        assert progress.records_up == RECORDS and progress.records_down == RECORDS
    finally:
        server.stop()
    body = RECORDS * BODY
    transfer = max(up, down) * 8 / BANDWIDTH
    bound = 2 * rtt + rtt + transfer
    row("HTTP requests, sign-in included", requests_sent, "", 2, fmt=".0f")
    row("TCP connections (each charged 2 RTT)", connections, "", 2, fmt=".0f")
    row("bytes up (headers + gzip bodies, on the wire)", up, "B", 1.10 * body + 48 * RECORDS, fmt=".0f")
    row("bytes down", down, "B", 1.10 * body + 48 * RECORDS, fmt=".0f")
    row("  overhead per record up, beyond its body", (up - body) / RECORDS, "B", fmt=".1f")
    row("  overhead per record down, beyond its body", (down - body) / RECORDS, "B", fmt=".1f")
    row("wall time", wall, "s", 1.3 * bound)
    row("  bound: 2 RTT setup + 1 RTT + larger direction ÷ bandwidth", bound, "s")
    row("  wall ÷ bound", wall / bound, "×", 1.3, fmt=".2f")
    print(f"follow-up sync {FOLLOW_UP_S:.0f} s later (one {RECEIPT}-byte receipt up)")
    row("  new TCP connections (0: the first one was kept)", follow[2], "", fmt=".0f")
    row("  HTTP requests", follow[3], "", 1, fmt=".0f")
    row("  bytes up + down", follow[0] + follow[1], "B", fmt=".0f")
    row("  wall time", follow_wall, "s", rtt + 0.5, fmt=".3f")


def throughput(tmp: Path, label: str, database: str | None, processes: int) -> None:
    servers = [ProcessServer(tmp / f"{label}{i}", database=database).start() for i in range(processes)]
    try:
        invites = [servers[0].invite() for _ in range(CLIENTS)]
        clients = [make_client(tmp / f"{label}-c{i}", servers[0].url, invites[i]) for i in range(CLIENTS)]
        counts = [0] * CLIENTS
        latencies: list[float] = []
        stop = threading.Event()

        def run(index: int) -> None:
            client = clients[index]
            engine = client.engine(url=servers[index % processes].url)
            token = engine._token_value(engine.transport)
            peer = clients[(index + 1) % CLIENTS].account
            while not stop.is_set():
                record = client.send(os.urandom(BODY), [peer])
                t0 = time.perf_counter()
                engine.transport.sync(SyncRequest(v=PROTOCOL_VERSION, p=[record], c=client.cursor()), token)
                latencies.append(time.perf_counter() - t0)
                counts[index] += 1

        threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)  # warm-up
        before = sum(counts)
        time.sleep(THROUGHPUT_SECONDS)
        done = sum(counts) - before
        stop.set()
        for thread in threads:
            thread.join()
    finally:
        for server in servers:
            server.stop()
    row(
        f"{label}: syncs/s, {CLIENTS} clients, {processes} server process(es)",
        done / THROUGHPUT_SECONDS,
        "/s",
        fmt=".0f",
    )
    row(f"{label}: median latency of one sync", statistics.median(latencies) * 1000, "ms", fmt=".1f")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        two_g_link(Path(tmp))
    print("server throughput (push one 400-byte record + pull, per sync; client threads share one process)")
    with tempfile.TemporaryDirectory() as tmp:
        throughput(Path(tmp), "SQLite", None, 1)
    try:
        from tests.pg import postgres_url, reset_database
    except ImportError:
        postgres_url = None
    url, reason = postgres_url() if postgres_url else (None, "tests/pg.py missing")
    if url is None:
        print(f"  PostgreSQL: skipped ({reason})")
        return
    reset_database(url)
    with tempfile.TemporaryDirectory() as tmp:
        throughput(Path(tmp), "PostgreSQL", url, 2)


if __name__ == "__main__":
    main()
