"""Honest data usage: what the app counts against a person's month is what crossed the wire, both ways, every
call (headers included), measured against the fault proxy's byte counters (TCP/TLS framing aside)."""

from __future__ import annotations

import os
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from desktop.domain.session import Session
from desktop.domain.settings import SettingsStore
from sync.clock import ManualClock, utcnow
from tests.clients import make_client
from tests.faultproxy import FaultProxy
from tests.servers import ThreadServer
from tests.waiting import eventually

TOLERANCE = 0.03


def _close(counted: int, crossed: int) -> bool:
    return abs(counted - crossed) <= TOLERANCE * crossed


def test_the_transport_counts_every_byte_each_way(tmp_path: Path):
    with ThreadServer(tmp_path / "server") as server, FaultProxy("127.0.0.1", server.port) as proxy:
        client = make_client(tmp_path / "c", server.url, server.invite())
        for n in range(30):
            client.send(f"message {n} ".encode() * (1 + n * 40), None)  # small ones, and some big enough to gzip
        engine = client.engine(url=proxy.url, parallel_threshold=10**9)
        proxy.reset_counters()
        engine.transport.health()
        engine.sync_once()
        sha = engine.upload_blob(os.urandom(300_000))
        engine.download_blob(sha, tmp_path / "blob")
        engine.authorized(engine.transport.list_devices)
        engine.transport.close()
        up, down = engine.transport.counter.up, engine.transport.counter.down
        print(f"counted up {up} down {down}; proxy up {proxy.bytes_up} down {proxy.bytes_down}")
        assert _close(up, proxy.bytes_up) and _close(down, proxy.bytes_down)
        assert engine.transport.wire_bytes() == up + down


def test_the_monthly_usage_is_what_crossed_the_wire(tmp_path: Path):
    """A day of small syncs: headers are most of the bytes, and they count too."""
    clock = ManualClock(datetime(2026, 11, 15, 9, tzinfo=UTC))
    with ThreadServer(tmp_path / "server") as server, FaultProxy("127.0.0.1", server.port) as proxy:
        client = make_client(tmp_path / "c", proxy.url, server.invite())
        settings = SettingsStore(tmp_path / "settings.json")
        settings.update(lambda s: replace(s, live_delivery=False))  # no held wait in flight when it stops
        proxy.reset_counters()
        session = Session(client.vault, tmp_path, settings, clock=clock)
        session.start()

        def settled() -> bool:
            status = session.scheduler.status
            return not status.syncing and not client.vault.records.outbox_totals()[0] and bool(status.last_success)

        try:
            for n in range(5):
                client.send(f"note {n}".encode(), None)
                session.sync_now()
                eventually(settled, timeout=20)  # a guard against hanging, not a measure
                time.sleep(0.1)
        finally:
            session.stop()
        counted = settings.load().bytes_this_month(utcnow(clock))
        crossed = proxy.bytes_up + proxy.bytes_down
        print(f"counted {counted}, crossed the proxy {crossed}")
        assert _close(counted, crossed)
