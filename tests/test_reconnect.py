"""Reconnecting at the speed of the link: after an outage long enough for the back-off to reach minutes, the
queued work goes as soon as the link is back, however that is noticed (the OS, any answer, the probe, a wake
from sleep). Real scheduler, real server, the fault proxy as the link.

Each test sets the back-off to 300 s and waits at most 20 s: the work arriving means the link was noticed, not
the back-off timer."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from sync.client.errors import Offline
from sync.client.scheduler import PROBE_EVERY_S, SyncScheduler
from sync.clock import ManualClock
from tests.clients import Client, make_client
from tests.faultproxy import FaultProxy
from tests.servers import ThreadServer
from tests.waiting import eventually

BACKOFF = 300.0


@pytest.fixture
def link(tmp_path: Path):
    with ThreadServer(tmp_path / "server") as server, FaultProxy("127.0.0.1", server.port) as proxy:
        yield server, proxy


def _down_with_work(client: Client, proxy: FaultProxy, **options) -> SyncScheduler:
    """The link down, a message queued, the scheduler backing off for minutes after failing to send it."""
    proxy.configure(cut_after_bytes=0)  # every connection closed as soon as it is made
    client.send(b"written during the outage", None)
    options = {"backoff_base": BACKOFF, "backoff_cap": BACKOFF, "probe_every": None, "debounce": 0, **options}
    scheduler = SyncScheduler(client.engine(url=proxy.url), interval=3600, rng=lambda: 0.5, **options)
    scheduler.start()
    assert eventually(lambda: isinstance(scheduler.status.last_error, Offline) and not scheduler.status.syncing)
    due = scheduler.status.next_attempt
    assert due is not None and due - scheduler.clock.monotonic() > BACKOFF / 2
    return scheduler


def _delivered(client: Client, scheduler: SyncScheduler) -> bool:
    status = scheduler.status
    return client.vault.records.outbox_totals()[0] == 0 and status.last_error is None and not status.syncing


def test_the_os_saying_online_sends_queued_work_at_once(link, tmp_path):
    server, proxy = link
    client = make_client(tmp_path / "c", server.url, server.invite())
    scheduler = _down_with_work(client, proxy)
    try:
        proxy.configure(cut_after_bytes=None)
        scheduler.connectivity_changed(True)
        assert eventually(lambda: _delivered(client, scheduler))
        assert scheduler.status.online and scheduler.status.next_attempt - scheduler.clock.monotonic() > BACKOFF
    finally:
        scheduler.stop()


def test_the_probe_finds_the_link_when_the_os_cannot_say(link, tmp_path):
    server, proxy = link
    client = make_client(tmp_path / "c", server.url, server.invite())
    scheduler = _down_with_work(client, proxy, probe_every=0.2)
    try:
        connections = proxy.connections
        assert eventually(lambda: proxy.connections >= connections + 2)  # probing while down, not syncing
        assert client.vault.records.outbox_totals()[0] == 1
        proxy.configure(cut_after_bytes=None)
        assert eventually(lambda: _delivered(client, scheduler))
        assert scheduler._failures == 0  # the back-off starts again from its base
    finally:
        scheduler.stop()


def test_any_answer_from_the_server_counts_as_the_link_back(link, tmp_path):
    server, proxy = link
    client = make_client(tmp_path / "c", server.url, server.invite())
    scheduler = _down_with_work(client, proxy)
    try:
        proxy.configure(cut_after_bytes=None)
        time.sleep(0.5)
        assert client.vault.records.outbox_totals()[0] == 1  # nobody said anything yet: still backing off
        scheduler.engine.transport.fork().health()  # e.g. a library download on another thread got an answer
        assert eventually(lambda: _delivered(client, scheduler))
    finally:
        scheduler.stop()


def test_waking_from_sleep_syncs_soon(link, tmp_path):
    server, proxy = link
    client = make_client(tmp_path / "c", server.url, server.invite())
    clock = ManualClock(1_800_000_000)
    scheduler = _down_with_work(client, proxy, clock=clock, wake_every=0.05)
    try:
        proxy.configure(cut_after_bytes=None)
        time.sleep(0.3)
        assert client.vault.records.outbox_totals()[0] == 1
        clock.set(clock.time() + 8 * 3600)  # a night asleep: the wall clock moved, the monotonic one did not
        assert eventually(lambda: _delivered(client, scheduler))
    finally:
        scheduler.stop()


def test_the_first_sync_after_the_link_returns_says_back_online(link, tmp_path):
    server, proxy = link
    client = make_client(tmp_path / "c", server.url, server.invite())
    scheduler = _down_with_work(client, proxy)
    seen = []
    scheduler.on_status = seen.append
    try:
        proxy.configure(cut_after_bytes=None)
        scheduler.connectivity_changed(True)
        assert eventually(lambda: _delivered(client, scheduler))
        first = next(s for s in seen if s.syncing)
        assert first.back_online and first.queued == 1
        assert not scheduler.status.back_online  # only while that sync runs
    finally:
        scheduler.stop()


def test_probing_while_the_link_is_down_costs_no_bytes_and_finds_it_within_two_seconds(link, tmp_path):
    """The default probe (every 2 s, whatever the OS says): while every connection dies unanswered nothing is
    read from the network; the link returning is noticed, and the work sent, at the next probe."""
    server, proxy = link
    client = make_client(tmp_path / "c", server.url, server.invite())
    scheduler = _down_with_work(client, proxy, probe_every=PROBE_EVERY_S)
    try:
        before = scheduler.engine.transport.wire_bytes()
        connections = proxy.connections
        assert eventually(lambda: proxy.connections >= connections + 2, timeout=3 * PROBE_EVERY_S + 2)
        assert proxy.bytes_down == 0 and scheduler.engine.transport.wire_bytes() == before
        proxy.configure(cut_after_bytes=None)
        back = time.monotonic()
        assert eventually(lambda: _delivered(client, scheduler))
        assert time.monotonic() - back < PROBE_EVERY_S + 3  # a generous bound: the figure is in make bench
    finally:
        scheduler.stop()


def test_a_refused_connection_spaces_the_probes_out(tmp_path):
    """Something at the server's address refuses the connection: the network works, the service does not, so
    probing every 2 s would only spend the person's data; the gap doubles instead."""
    with ThreadServer(tmp_path / "server") as server:
        client = make_client(tmp_path / "c", server.url, server.invite())
    client.send(b"written while the server is down", None)  # nothing listens on server.port any more
    scheduler = SyncScheduler(
        client.engine(), interval=3600, rng=lambda: 0.5, backoff_base=BACKOFF, debounce=0, probe_every=0.05
    )
    probes: list[float] = []
    health = scheduler.engine.transport.health

    def counted_health():  # observe when each probe goes out
        probes.append(time.monotonic())
        return health()

    scheduler.engine.transport.health = counted_health
    scheduler.start()
    try:
        assert eventually(lambda: len(probes) >= 5, timeout=10)
        gaps = [b - a for a, b in itertools.pairwise(probes)]
        assert gaps[3] > 3 * gaps[0], gaps  # 0.1, 0.2, 0.4, 0.8 s: doubling, not every 0.05 s
        assert isinstance(scheduler.status.last_error, Offline) and scheduler.status.last_error.reached
    finally:
        scheduler.stop()
