"""The one source of time for decisions (DESIGN: time is injected).

Code that decides something by the time (a token's expiry, "tomorrow morning", how long a message has waited,
which month a byte counts against) takes a ``Clock`` instead of calling ``time.time()`` itself, so tests pin the
date they run on and nothing breaks on the day a hard-coded date passes. ``SYSTEM`` is the real clock;
``ManualClock`` is the one tests move by hand.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Wall-clock seconds since the Unix epoch."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for intervals and deadlines."""


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


SYSTEM: Clock = SystemClock()


class ManualClock:
    """A clock that stands still until moved: ``advance()`` moves wall and monotonic time together."""

    def __init__(self, start: float | datetime) -> None:
        self._wall = start.timestamp() if isinstance(start, datetime) else float(start)
        self._mono = 1_000.0
        self._lock = threading.Lock()

    def time(self) -> float:
        with self._lock:
            return self._wall

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._wall += seconds
            self._mono += seconds

    def set(self, when: float | datetime) -> None:
        with self._lock:
            self._wall = when.timestamp() if isinstance(when, datetime) else float(when)


def now_ms(clock: Clock = SYSTEM) -> int:
    """Wall-clock milliseconds, the unit records and the vault store."""
    return int(clock.time() * 1000)


def utcnow(clock: Clock = SYSTEM) -> datetime:
    return datetime.fromtimestamp(clock.time(), UTC)
