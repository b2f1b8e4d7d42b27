"""Sync over a link that breaks: every byte offset of a small exchange, random offsets of a large one, a server
killed mid-sync, a client killed mid-apply. Afterwards: nothing lost, nothing duplicated, cursors monotonic."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from sync.client.errors import SyncError
from tests.clients import Client, make_client
from tests.faultproxy import FaultProxy
from tests.servers import ProcessServer, ThreadServer

ROOT = Path(__file__).resolve().parent.parent


def _sync_until_done(engine, attempts: int = 5) -> None:
    for _ in range(attempts):
        try:
            engine.sync_once()
            return
        except SyncError:
            time.sleep(0.01)
    raise AssertionError("the link is healed but sync keeps failing")


def _server_record_ids(url_or_storage) -> list[bytes]:
    with url_or_storage.reader.connect() as conn:
        return [row[0] for row in conn.execute(sa.text("SELECT id FROM records ORDER BY seq"))]


def _check(writer: Client, reader: Client, sent: list[bytes], server_ids: list[bytes], cursors: list[int]) -> None:
    assert writer.vault.records.outbox_totals()[0] == 0
    assert len(server_ids) == len(set(server_ids)) == len(sent), "the server stored each record once"
    inbound = [r.i for r in reader.inbound()]
    assert len(inbound) == len(set(inbound)) and set(inbound) == set(sent), "the reader has each record once"
    assert cursors == sorted(cursors), "the reader's cursor never moved backwards"


def _cut_and_heal(proxy: FaultProxy, engine, offset: int) -> None:
    proxy.configure(cut_after_bytes=offset, cut_once=True)
    with contextlib.suppress(SyncError):
        engine.sync_once()
    proxy.configure(cut_after_bytes=None)
    _sync_until_done(engine)


def test_small_exchange_cut_at_every_byte_offset(tmp_path: Path):
    with ThreadServer(tmp_path / "server") as server, FaultProxy("127.0.0.1", server.port) as proxy:
        writer = make_client(tmp_path / "w", server.url, server.invite())
        reader = make_client(tmp_path / "r", server.url, server.invite("mentor"))
        push, pull = writer.engine(url=proxy.url), reader.engine(url=proxy.url)
        sent = [writer.send(b"warm-up", [reader.account]).i]
        push.sync_once()
        pull.sync_once()
        # Measure one exchange: push one record and pull, on a fresh connection.
        push.transport.close()
        proxy.reset_counters()
        sent.append(writer.send(b"measure", [reader.account]).i)
        push.sync_once()
        size = proxy.bytes_up + proxy.bytes_down
        assert 300 < size < 2000, size
        cursors = [reader.cursor()]
        for offset in range(size + 1):
            sent.append(writer.send(f"message {offset}".encode(), [reader.account]).i)
            push.transport.close()  # each exchange on a fresh connection, so the cut lands in it
            _cut_and_heal(proxy, push, offset)
            pull.transport.close()
            _cut_and_heal(proxy, pull, offset)
            cursors.append(reader.cursor())
        _check(writer, reader, sent, _server_record_ids(server.storage), cursors)


def test_large_exchange_cut_at_random_offsets(tmp_path: Path):
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    with ThreadServer(tmp_path / "server") as server, FaultProxy("127.0.0.1", server.port) as proxy:
        writer = make_client(tmp_path / "w", server.url, server.invite())
        reader = make_client(tmp_path / "r", server.url, server.invite("mentor"))
        push, pull = writer.engine(url=proxy.url), reader.engine(url=proxy.url)
        sent: list[bytes] = []
        cursors = [0]
        for _ in range(100):  # 100 cuts on the push side and 100 on the pull side
            sent += [writer.send(os.urandom(400), [reader.account]).i for _ in range(100)]
            push.transport.close()
            _cut_and_heal(proxy, push, rng.randrange(0, 48_000))
            pull.transport.close()
            _cut_and_heal(proxy, pull, rng.randrange(0, 48_000))
            cursors.append(reader.cursor())
        _check(writer, reader, sent, _server_record_ids(server.storage), cursors)


@pytest.mark.slow
def test_server_killed_mid_sync_and_restarted(tmp_path: Path):
    server = ProcessServer(tmp_path / "server").start()
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    try:
        writer = make_client(tmp_path / "w", server.url, server.invite())
        reader = make_client(tmp_path / "r", server.url, server.invite("mentor"))
        sent: list[bytes] = []
        for _round in range(5):
            sent += [writer.send(os.urandom(400), [reader.account]).i for _ in range(400)]

            def run(client: Client) -> None:
                with contextlib.suppress(SyncError):  # the server dies under it: expected
                    client.engine(push_budget=16 * 1024, pull_budget=16 * 1024).sync_once()

            threads = [threading.Thread(target=run, args=(c,)) for c in (writer, reader)]
            for thread in threads:
                thread.start()
            time.sleep(rng.uniform(0.05, 0.4))
            server.kill()
            for thread in threads:
                thread.join()
            server.start()
            _sync_until_done(writer.engine())
            _sync_until_done(reader.engine())
        from sync.server.storage import Storage

        storage = Storage.for_data_dir(tmp_path / "server")
        try:
            ids = _server_record_ids(storage)
        finally:
            storage.dispose()
        _check(writer, reader, sent, ids, [reader.cursor()])
    finally:
        server.stop()


CHILD = """
import sys
from desktop.domain.sync_adapter import VaultSyncStore, load_program
from desktop.vault import Vault
from sync.client.engine import SyncEngine
from sync.client.transport import Transport
vault = Vault.open(sys.argv[1]); vault.unlock("client passphrase")
program = load_program(vault)
engine = SyncEngine(Transport(program.server_url), VaultSyncStore(vault, program.server_url,
                    program.credentials.account), program.credentials, pull_budget=8 * 1024)
print("ready", flush=True)
engine.sync_once()
print("done", flush=True)
"""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_client_killed_mid_apply(tmp_path: Path):
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    with ThreadServer(tmp_path / "server") as server:
        writer = make_client(tmp_path / "w", server.url, server.invite())
        reader = make_client(tmp_path / "r", server.url, server.invite("mentor"))
        reader_dir = Path(reader.vault.folder)
        reader.vault.close()
        sent = [writer.send(os.urandom(400), [reader.account]).i for _ in range(1500)]
        writer.engine().sync_once()
        finished = 0
        for _ in range(12):
            child = subprocess.Popen([sys.executable, "-c", CHILD, str(reader_dir)], stdout=subprocess.PIPE, cwd=ROOT)
            assert child.stdout.readline().strip() == b"ready"
            time.sleep(rng.uniform(0.0, 0.5))
            child.send_signal(signal.SIGKILL)
            child.wait()
            finished += b"done" in child.stdout.read()
            child.stdout.close()
        reader.vault.unlock("client passphrase")
        cursor_before = reader.cursor()
        print(f"\nkills=12 finished-before-kill={finished} applied-before-heal={len(reader.inbound())}/{len(sent)}")
        _sync_until_done(reader.engine())
        assert reader.cursor() >= cursor_before
        _check(writer, reader, sent, _server_record_ids(server.storage), [cursor_before, reader.cursor()])
