"""The download manager (desktop/domain/downloads.py) against a real server on loopback behind the fault proxy:
a cut mid-chunk costs only that chunk, a damaged chunk is fetched again alone, the queue survives a restart, the
data saver's prompt comes exactly when the budget would be passed, "only on an unmetered connection" waits for
the OS's word, and the queue's order, pause, resume and cancel do what the panel says."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from desktop.domain import downloads as dl
from desktop.domain.library_format import parts_of
from desktop.domain.session import Session
from desktop.domain.settings import SettingsStore
from desktop.vault import Vault
from desktop.vault.blobs import CHUNK_SIZE
from sync.clock import ManualClock, utcnow
from tests.clients import make_client
from tests.download_helpers import file_bytes, publish
from tests.faultproxy import FaultProxy
from tests.servers import ThreadServer
from tests.waiting import eventually

CLOCK = ManualClock(datetime(2026, 11, 15, 9, tzinfo=UTC))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with ThreadServer(tmp_path_factory.mktemp("server")) as server:
        yield server


@pytest.fixture
def proxy(server):
    with FaultProxy("127.0.0.1", server.port) as proxy:
        yield proxy


def session_for(tmp: Path, server, proxy: FaultProxy, vault: Vault | None = None, **settings: object) -> Session:
    if vault is None:
        vault = make_client(tmp / "student", proxy.url, server.invite()).vault
    store = SettingsStore(tmp / "settings.json")
    store.update(lambda s: replace(s, live_delivery=False, **settings))
    session = Session(vault, tmp, store, clock=CLOCK)
    session.downloads.retry_s = 0.2
    return session


def publisher(tmp: Path, server):
    return make_client(tmp / "mentor", server.url, server.invite("mentor")).engine()


def held(session: Session, sha: str) -> bytes:
    return session.vault.blobs.read_all(sha)


def state(session: Session, sha: str) -> dl.Entry:
    return next(e for e in session.downloads.entries() if e.sha256 == sha)


def test_a_cut_mid_chunk_fetches_again_only_the_chunk_in_progress(tmp_path: Path, server, proxy: FaultProxy):
    data = file_bytes(24 * CHUNK_SIZE + 1234, seed=1)
    item = publish(publisher(tmp_path, server), data, "Cardiology notes")
    session = session_for(tmp_path, server, proxy, data_saver=False)
    session.vault.blobs.put_bytes(parts_of(data))  # the part list held: the cut falls in the file's one GET
    proxy.configure(cut_after_bytes=int(0.6 * len(data)) + CHUNK_SIZE // 2, cut_once=True)
    proxy.reset_counters()
    session.downloads.enqueue(item)
    session.downloads.start()
    try:
        assert eventually(lambda: state(session, item.sha256).state == dl.DONE)
    finally:
        session.stop()
    assert held(session, item.sha256) == data
    stats = session.downloads.stats
    resent = stats.body_bytes - len(data)
    print(f"body bytes {stats.body_bytes} for {len(data)}: re-sent {resent}; requests {stats.requests}")
    assert 0 < resent <= CHUNK_SIZE  # the cut chunk's bytes, never more
    assert stats.requests == 2 and proxy.connections == 2  # one GET, cut; one GET for the rest


def test_a_damaged_chunk_is_dropped_and_fetched_again_alone(tmp_path: Path, server, proxy: FaultProxy):
    data = file_bytes(10 * CHUNK_SIZE, seed=2)
    item = publish(publisher(tmp_path, server), data, "Damaged on the server")
    stored = server.data_dir / "blobs" / item.sha256[:2] / item.sha256
    original = stored.read_bytes()
    stored.write_bytes(original[: 6 * CHUNK_SIZE + 10] + b"X" + original[6 * CHUNK_SIZE + 11 :])
    session = session_for(tmp_path, server, proxy, data_saver=False)
    session.downloads.enqueue(item)
    session.downloads.start()
    try:
        assert eventually(lambda: state(session, item.sha256).state == dl.FAILED)
        entry = state(session, item.sha256)
        assert entry.error == "damaged" and entry.done == len(data) - CHUNK_SIZE  # every good chunk kept
        assert session.vault.blobs.missing_chunks(item.sha256) == [6]  # the bad one never stored
        requests_before, bad = session.downloads.stats.requests, session.downloads.stats.bad_chunks
        assert bad == 3 and requests_before == 2 + 2  # part list, the file, chunk 6 alone twice more
        stored.write_bytes(original)  # the server's copy repaired
        proxy.reset_counters()
        body_before = session.downloads.stats.body_bytes
        session.downloads.resume(item.sha256)
        assert eventually(lambda: state(session, item.sha256).state == dl.DONE)
    finally:
        session.stop()
    assert held(session, item.sha256) == data
    assert session.downloads.stats.body_bytes - body_before == CHUNK_SIZE  # chunk 6 alone
    assert proxy.bytes_down < CHUNK_SIZE + 2_000


def test_a_restart_picks_up_the_queue_where_it_stopped(tmp_path: Path, server, proxy: FaultProxy):
    engine = publisher(tmp_path, server)
    first, second = file_bytes(12 * CHUNK_SIZE, seed=3), file_bytes(3 * CHUNK_SIZE + 5, seed=4)
    items = [publish(engine, first, "First"), publish(engine, second, "Second")]
    session = session_for(tmp_path, server, proxy, data_saver=False)
    folder = session.data_dir
    proxy.configure(cut_after_bytes=5 * CHUNK_SIZE + 999, cut_once=True)
    for item in items:
        session.downloads.enqueue(item)
    session.downloads.retry_s = 3600  # after the cut it waits: the app is closed meanwhile
    session.downloads.start()
    assert eventually(lambda: session.downloads.stats.requests >= 2 and session.downloads.current() is None)
    session.stop()
    kept = len(first) - state(session, items[0].sha256).done
    session.vault.close()

    vault = Vault.open(tmp_path / "student")  # the app started again
    vault.unlock("client passphrase")
    again = session_for(folder, server, proxy, vault=vault, data_saver=False)
    assert [e.title for e in again.downloads.entries()] == ["First", "Second"]
    again.start()
    try:
        assert eventually(lambda: all(e.state == dl.DONE for e in again.downloads.entries()))
    finally:
        again.stop()
    assert held(again, items[0].sha256) == first and held(again, items[1].sha256) == second
    body = again.downloads.stats.body_bytes
    print(f"after the restart: {body} body bytes for {kept} + {len(second)} missing")
    assert body == kept + len(second) + 32 * 4  # what was missing, and the second's part list


@pytest.mark.parametrize("margin", [-1, 0, 1])
def test_the_data_saver_asks_exactly_when_the_budget_would_be_passed(
    tmp_path: Path, server, proxy: FaultProxy, margin: int
):
    data = file_bytes(5 * CHUNK_SIZE, seed=5)
    item = publish(publisher(tmp_path, server), data, "Within the budget?")
    session = session_for(tmp_path, server, proxy, data_saver=True, monthly_budget_mb=1)
    to_fetch = len(data) + 32 * 5  # the file and its part list
    session.count_usage()  # joining's bytes counted; from here the month's count is set by the test
    month = utcnow(CLOCK).strftime("%Y-%m")
    used = 1_000_000 - to_fetch + margin  # after this download: budget - 1 byte, the budget, budget + 1 byte
    session.settings_store.update(lambda s: replace(s, usage_month=month, usage_bytes=used))
    session.downloads.enqueue(item)
    session.downloads.start()
    try:
        if margin <= 0:
            assert eventually(lambda: state(session, item.sha256).state == dl.DONE)
            return
        assert eventually(lambda: state(session, item.sha256).state == dl.OVER_BUDGET)
        assert session.downloads.stats.requests == 0 and session.downloads.waiting_count() == 1
        session.downloads.download_anyway(item.sha256)
        assert eventually(lambda: state(session, item.sha256).state == dl.DONE)
    finally:
        session.stop()
    assert held(session, item.sha256) == data


def test_only_on_an_unmetered_connection_waits_for_the_os_to_say_so(tmp_path: Path, server, proxy: FaultProxy):
    data = file_bytes(2 * CHUNK_SIZE, seed=6)
    item = publish(publisher(tmp_path, server), data, "Big video")
    session = session_for(tmp_path, server, proxy, data_saver=False)
    network = ["unknown"]
    session.downloads.network = lambda: network[0]
    session.downloads.enqueue(item, unmetered_only=True)
    session.downloads.start()
    try:
        assert eventually(lambda: state(session, item.sha256).waiting == dl.WAIT_UNKNOWN_METERED)
        network[0] = "metered"
        session.downloads.wake()
        assert eventually(lambda: state(session, item.sha256).waiting == dl.WAIT_UNMETERED)
        assert session.downloads.stats.requests == 0
        network[0] = "unmetered"
        session.downloads.wake()
        assert eventually(lambda: state(session, item.sha256).state == dl.DONE)
    finally:
        session.stop()


def test_the_queue_order_pause_resume_and_cancel(tmp_path: Path, server, proxy: FaultProxy):
    engine = publisher(tmp_path, server)
    big, small, dropped = file_bytes(30 * CHUNK_SIZE, 7), file_bytes(2 * CHUNK_SIZE, 8), file_bytes(CHUNK_SIZE, 9)
    items = [publish(engine, big, "Big"), publish(engine, small, "Small"), publish(engine, dropped, "Dropped")]
    session = session_for(tmp_path, server, proxy, data_saver=False)
    finished: list[str] = []

    def changed() -> None:
        for entry in session.downloads.entries():
            if entry.state == dl.DONE and entry.title not in finished:
                finished.append(entry.title)

    session.downloads.on_change = changed
    proxy.configure(bandwidth_bps=8_000_000)  # about 1 MB/s: the big one takes a few seconds
    for item in items:
        session.downloads.enqueue(item)
    session.downloads.start()
    try:
        assert eventually(lambda: session.downloads.current() == items[0].sha256)
        session.downloads.cancel(items[2].sha256)
        session.downloads.move(items[1].sha256, up=True)  # above the big one: it takes over at a chunk's end
        assert eventually(lambda: finished == ["Small"])
        assert eventually(lambda: state(session, items[0].sha256).done > 0)
        session.downloads.pause(items[0].sha256)
        assert eventually(lambda: state(session, items[0].sha256).state == dl.PAUSED)
        assert eventually(lambda: session.downloads.current() is None)
        done_paused = state(session, items[0].sha256).done
        assert 0 < done_paused < len(big)
        session.downloads.resume(items[0].sha256)
        assert eventually(lambda: finished == ["Small", "Big"])
    finally:
        session.stop()
    assert [e.title for e in session.downloads.entries()] == ["Small", "Big"]
    assert held(session, items[0].sha256) == big
    assert session.vault.blobs.info(items[2].sha256) is None
    assert session.downloads.stats.body_bytes - len(big) - len(small) - 32 * 32 <= 2 * CHUNK_SIZE
