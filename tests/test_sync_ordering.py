"""No skipped records: many writers commit concurrently (threads on SQLite; several server processes on one
PostgreSQL) while a reader pulls by cursor the whole time. The reader ends with every record exactly once, and
its cursor only moves forward."""

from __future__ import annotations

import threading
from pathlib import Path

from sync import PROTOCOL_VERSION
from sync.client.engine import SyncEngine
from sync.protocol import SyncRequest
from tests.clients import Client, make_client
from tests.pg import require_postgres, reset_database
from tests.servers import ProcessServer, ThreadServer

WRITERS = 4
BATCHES = 15
PER_BATCH = 4


def _race(writers: list[Client], reader: Client, urls: list[str]) -> None:
    expected: set[bytes] = set()
    done = threading.Event()
    failures: list[BaseException] = []

    def write(index: int, client: Client) -> None:
        try:
            engine = client.engine(url=urls[index % len(urls)])
            for batch in range(BATCHES):
                for n in range(PER_BATCH):
                    expected.add(client.send(f"w{index} b{batch} n{n}".encode(), [reader.account]).i)
                engine.sync_once()
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(i, c)) for i, c in enumerate(writers)]
    reader_engine: SyncEngine = reader.engine(url=urls[-1])
    token = reader_engine._token_value(reader_engine.transport)
    received: list[bytes] = []
    cursors = [0]

    def pull_once() -> bool:
        exchange = reader_engine.transport.sync(SyncRequest(v=PROTOCOL_VERSION, c=cursors[-1], l=4096), token)
        received.extend(r.i for r in exchange.response.r)
        cursors.append(exchange.response.c)
        return exchange.response.m

    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        pull_once()
    for thread in threads:
        thread.join()
    done.set()
    while pull_once():
        pass
    assert not failures, failures
    assert len(expected) == WRITERS * BATCHES * PER_BATCH
    assert len(received) == len(set(received)), "no record delivered twice"
    assert set(received) == expected, f"{len(expected - set(received))} records skipped"
    assert cursors == sorted(cursors), "the cursor never moves backwards"


def test_concurrent_writers_on_sqlite(tmp_path: Path):
    with ThreadServer(tmp_path / "server") as server:
        reader = make_client(tmp_path / "reader", server.url, server.invite("mentor"))
        writers = [make_client(tmp_path / f"w{i}", server.url, server.invite()) for i in range(WRITERS)]
        _race(writers, reader, [server.url])


def test_several_server_processes_on_one_postgresql(tmp_path: Path):
    url = require_postgres()
    reset_database(url)
    servers = [ProcessServer(tmp_path / f"srv{i}", database=url) for i in range(3)]
    for server in servers:
        server.start()
    try:
        reader = make_client(tmp_path / "reader", servers[0].url, servers[0].invite("mentor"))
        writers = [make_client(tmp_path / f"w{i}", servers[0].url, servers[0].invite()) for i in range(WRITERS)]
        _race(writers, reader, [s.url for s in servers])
    finally:
        for server in servers:
            server.stop()
