"""Sync benchmark: ``make bench`` (or ``python -m tests.benchmarks.bench_sync``).

Server throughput: 50 concurrent clients syncing (push one record, pull) against SQLite and PostgreSQL.
The 2G link figures (reconnects, delivery latency, link back) are in bench_reconnect.py.
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
from sync.protocol import SyncRequest
from tests.benchmarks.report import row
from tests.clients import make_client
from tests.servers import ProcessServer

RECORDS = 100
BODY = 400
LATENCY = 0.300
BANDWIDTH = 64_000
CLIENTS = 50
THROUGHPUT_SECONDS = 6.0
FOLLOW_UP_S = 2.0
RECEIPT = 100


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
