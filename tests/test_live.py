"""Live delivery while online (sync/client/live.py, ``GET /v1/wait``): a message sent while both people are online
reaches the reader in seconds, not at the next periodic sync (300 s here). Real server, real clients, the fault
proxy as the link. Waits are generous guards against hanging, never measures."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
import requests

from sync.client.scheduler import SyncScheduler
from sync.client.transport import Transport
from tests.clients import Client, make_client
from tests.faultproxy import FaultProxy
from tests.servers import ThreadServer
from tests.waiting import eventually

INTERVAL = 300.0


def _has(client: Client, body: bytes) -> bool:
    return any(r.b == body for r in client.inbound())


@pytest.fixture
def pair(tmp_path: Path):
    with ThreadServer(tmp_path / "server") as server:
        a = make_client(tmp_path / "a", server.url, server.invite())
        b = make_client(tmp_path / "b", server.url, server.invite())
        yield server, a, b
        a.vault.close()
        b.vault.close()


def _live_scheduler(client: Client, url: str | None = None, **options) -> SyncScheduler:
    options = {"interval": INTERVAL, "probe_every": None, "debounce": 0, "rng": lambda: 0.5, **options}
    scheduler = SyncScheduler(client.engine(url=url), live=True, **options)
    scheduler.start()
    assert eventually(lambda: scheduler.live.running and scheduler.status.last_success is not None)
    return scheduler


def test_a_message_reaches_an_online_reader_long_before_the_periodic_sync(pair):
    _server, a, b = pair
    scheduler = _live_scheduler(b)
    try:
        first = scheduler.status.last_success
        a.send(b"are you free at 3?", [b.account])
        sent = time.monotonic()
        a.engine().sync_once()
        assert eventually(lambda: _has(b, b"are you free at 3?"), timeout=30.0)  # the periodic sync is 300 s away
        print(f"live delivery on loopback: {time.monotonic() - sent:.2f} s")
        assert eventually(lambda: scheduler.status.last_success != first)  # by a sync the wait started
        assert eventually(lambda: scheduler.live.running)  # and the next wait is open again
        a.send(b"and a second one", [b.account])
        a.engine().sync_once()
        assert eventually(lambda: _has(b, b"and a second one"), timeout=30.0)
    finally:
        scheduler.stop()


def test_the_wait_answers_nothing_new_at_its_timeout(pair):
    _server, _a, b = pair
    engine = b.engine()
    engine.sync_once()
    transport = engine.transport.fork()
    before = transport.wire_bytes()
    news = [engine.authorized(lambda t: transport.wait(b.cursor(), 1, t), transport) for _ in range(3)]
    assert news == [False, False, False]
    per_request = (transport.wire_bytes() - before) / 3
    print(f"idle wait: {per_request:.0f} bytes per request, {per_request * 3600 / 50 / 1024:.1f} KiB per hour")
    assert per_request < 1500


def test_the_wait_refuses_bad_parameters_with_422(pair):
    server, a, b = pair
    transport = Transport(server.url)
    token, _ = transport.sign_in(b.program.credentials.device, b.program.credentials.key)
    auth = {"Authorization": f"Bearer {token}"}
    for query in ("c=-1", "c=x", "t=51", "c=0&t=-1", "c=99999999999999999999", ""):
        answer = requests.get(f"{server.url}/v1/wait?{query}", headers=auth, timeout=30)
        assert answer.status_code == 422, query
        assert answer.json()["code"] == "invalid"
    assert requests.get(f"{server.url}/v1/wait?c=0&t=0", timeout=30).status_code == 401
    nothing = requests.get(f"{server.url}/v1/wait?c=0&t=0", headers=auth, timeout=30)
    assert nothing.status_code == 200 and nothing.json() == {"more": False}
    a.send(b"hello", [b.account])
    a.engine().sync_once()
    waiting = requests.get(f"{server.url}/v1/wait?c=0&t=50", headers=auth, timeout=30)
    assert waiting.status_code == 200 and waiting.json() == {"more": True}  # at once: it already waits


def test_cuts_at_random_offsets_lose_nothing(pair):
    server, a, b = pair
    rng = random.Random(11)
    with FaultProxy("127.0.0.1", server.port) as proxy:
        scheduler = _live_scheduler(b, url=proxy.url, backoff_base=0.2, backoff_cap=0.5, live_seconds=1)
        try:
            for n in range(6):
                offset = rng.randrange(0, 700)
                proxy.configure(cut_after_bytes=offset)
                body = f"message {n} (cut at {offset})".encode()
                a.send(body, [b.account])
                a.engine().sync_once()
                time.sleep(1.5)  # the wait and the syncs it starts meet the cut links
                proxy.configure(cut_after_bytes=None)
                assert eventually(lambda body=body: _has(b, body)), offset  # no manual step, no lost record
                assert eventually(lambda: scheduler.live.running)
        finally:
            scheduler.stop()


def test_data_saver_stops_the_wait(pair):
    _server, a, b = pair
    scheduler = _live_scheduler(b, live_seconds=1)
    try:
        scheduler.set_live(False)
        assert eventually(lambda: not scheduler.live.running)
        sent = scheduler.live.requests
        a.send(b"while saving data", [b.account])
        a.engine().sync_once()
        time.sleep(3)
        assert scheduler.live.requests == sent  # no more waits: nothing on the wire between syncs
        assert not _has(b, b"while saving data")  # it waits for the next sync
        scheduler.sync_now()
        assert eventually(lambda: _has(b, b"while saving data"))
        assert not scheduler.live.running
    finally:
        scheduler.stop()


def test_a_push_to_another_server_process_wakes_the_wait(tmp_path):
    """Two server processes over one database: the waiter's process learns of the push by its counter check,
    in seconds, not at the end of its 50 s wait."""
    from tests.servers import ProcessServer

    first = ProcessServer(tmp_path / "server").start()
    second = ProcessServer(tmp_path / "server").start()
    try:
        a = make_client(tmp_path / "a", first.url, first.invite())
        b = make_client(tmp_path / "b", second.url, second.invite())
        scheduler = _live_scheduler(b)
        try:
            a.send(b"through the other process", [b.account])
            a.engine().sync_once()
            assert eventually(lambda: _has(b, b"through the other process"), timeout=20.0)  # the wait holds 50 s
        finally:
            scheduler.stop()
            a.vault.close()
            b.vault.close()
    finally:
        first.stop()
        second.stop()


def test_a_server_restart_under_the_wait_needs_no_manual_step(tmp_path):
    """The wait dies while sync has nothing to do (the server was killed and came back): the scheduler notices,
    and live delivery resumes by itself, long before the periodic sync."""
    from tests.servers import ProcessServer

    server = ProcessServer(tmp_path / "server").start()
    a = make_client(tmp_path / "a", server.url, server.invite())
    b = make_client(tmp_path / "b", server.url, server.invite())
    scheduler = _live_scheduler(b, backoff_base=0.2, backoff_cap=1.0)
    try:
        server.kill()
        assert eventually(lambda: not scheduler.live.running)
        server = ProcessServer(tmp_path / "server", port=server.port).start()
        assert eventually(lambda: scheduler.live.running)
        a.send(b"after the restart", [b.account])
        a.engine().sync_once()
        assert eventually(lambda: _has(b, b"after the restart"), timeout=20.0)  # the periodic sync is 300 s away
    finally:
        scheduler.stop()
        a.vault.close()
        b.vault.close()
        server.stop()
