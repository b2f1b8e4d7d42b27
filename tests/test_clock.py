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
