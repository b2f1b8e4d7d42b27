"""The injected clock, and proof that the shifted second run of the suite really runs a year ahead."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from sync.clock import SYSTEM, ManualClock, now_ms, utcnow
from sync.protocol import HybridClock


def test_manual_clock_moves_only_when_told_and_drives_the_hybrid_clock():
    clock = ManualClock(datetime(2031, 2, 3, 4, 5, tzinfo=UTC))
    hlc = HybridClock(wall=clock)
    first, again = hlc.now(), hlc.now()
    assert first >> 16 == now_ms(clock) == int(datetime(2031, 2, 3, 4, 5, tzinfo=UTC).timestamp() * 1000)
    assert again == first + 1  # the clock stood still: the counter orders the two events
    clock.advance(90)
    assert utcnow(clock) == datetime(2031, 2, 3, 4, 6, 30, tzinfo=UTC)
    assert hlc.now() >> 16 == now_ms(clock)


@pytest.mark.skipif("OSLER_CLOCK_SHIFT_DAYS" not in os.environ, reason="only in the shifted run of make test")
def test_the_shifted_run_is_really_shifted():
    """Against a child process started without libfaketime, this process's wall clock is ahead by the shift."""
    days = int(os.environ["OSLER_CLOCK_SHIFT_DAYS"])
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    real = float(
        subprocess.run(
            [sys.executable, "-c", "import time; print(time.time())"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    shift = SYSTEM.time() - real
    assert abs(shift - days * 86400) < 600


def test_the_engine_renews_its_token_by_its_clock_before_the_server_refuses_it(tmp_path):
    """An hour later on the (injected) clocks of both sides, the next sync signs itself (PROTOCOL.md §6.2) instead
    of sending a stale token that the server refuses with 401: on a 2G link that is a round trip saved."""
    from urllib.parse import urlsplit

    from desktop.domain.sync_adapter import VaultSyncStore
    from sync.client.engine import SyncEngine
    from sync.client.transport import Transport
    from tests.clients import make_client
    from tests.servers import ThreadServer

    clock = ManualClock(1_900_000_000)
    with ThreadServer(tmp_path / "server", clock=clock) as server:
        client = make_client(tmp_path / "client", server.url, server.invite())
        transport, calls = Transport(server.url), []
        transport._session.hooks["response"].append(
            lambda answer, *_args, **_kwargs: calls.append(
                (urlsplit(answer.url).path, answer.status_code, "Authorization" in answer.request.headers)
            )
        )
        store = VaultSyncStore(client.vault, server.url, client.account)
        engine = SyncEngine(transport, store, client.program.credentials, clock=clock)
        engine.sync_once()
        calls.clear()
        clock.advance(3601)  # the token's hour is over on both clocks
        engine.sync_once()
        client.vault.close()
    assert calls == [("/v1/sync", 200, False)], "one signed sync, no bearer token tried"
