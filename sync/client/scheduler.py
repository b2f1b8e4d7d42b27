"""When to sync: on a local change (debounced), on "sync now", when connectivity returns, and periodically;
after a failure, again with exponential backoff and jitter, forever while work is queued.

Runs the engine on its own thread; the GUI never waits on it. ``on_status`` receives a ``SyncStatus`` after
every change of state (from the scheduler thread: a Qt app re-emits it as a signal).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from sync.client.engine import SyncEngine, SyncProgress
from sync.client.errors import InternalError, Offline, ServerBusy, SyncError
from sync.clock import SYSTEM, Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncStatus:
    online: bool | None = None  # None until the first attempt
    syncing: bool = False
    last_success: float | None = None  # unix time
    last_error: SyncError | None = None
    queued: int = 0
    next_attempt: float | None = None  # monotonic time of the next automatic attempt
    progress: SyncProgress | None = None


def backoff_delay(failures: int, base: float, cap: float, rng: Callable[[], float] = random.random) -> float:
    """``base * 2^(failures-1)`` capped at ``cap``, with ±50 % jitter so a whole class of students coming back
    online together do not hit the server in lockstep."""
    delay = min(cap, base * 2 ** max(0, failures - 1))
    return delay * (0.5 + rng())


class SyncScheduler:
    def __init__(
        self,
        engine: SyncEngine,
        *,
        interval: float = 300.0,
        debounce: float = 2.0,
        backoff_base: float = 5.0,
        backoff_cap: float = 900.0,
        on_status: Callable[[SyncStatus], None] | None = None,
        rng: Callable[[], float] = random.random,
        clock: Clock = SYSTEM,
    ) -> None:
        self.clock = clock  # what "due" and "last success" are measured on
        self.engine = engine
        self.interval, self.debounce = interval, debounce
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.on_status = on_status
        self._rng = rng
        self._wake = threading.Condition()
        self._due: float | None = self.clock.monotonic()  # sync soon after start
        self._stopping = False
        self._failures = 0
        self._thread = threading.Thread(target=self._run, name="osler-sync", daemon=True)
        self.status = SyncStatus(queued=engine.store.outbox_totals()[0])
        engine.on_progress = self._on_progress

    # -- triggers (any thread) -----------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def sync_now(self) -> None:
        self._schedule(0.0, reset_backoff=True)

    def local_change(self) -> None:
        """Something was queued: sync after ``debounce`` seconds of quiet (typing a message is many changes)."""
        self._schedule(self.debounce, replace_later=True)

    def connectivity_changed(self, online: bool) -> None:
        """The OS says the network came back (or went away): try at once when it came back."""
        if online:
            self._schedule(0.0, reset_backoff=True)

    def _schedule(self, delay: float, reset_backoff: bool = False, replace_later: bool = False) -> None:
        with self._wake:
            due = self.clock.monotonic() + delay
            if reset_backoff:
                self._failures = 0
            if self._due is None or due < self._due or replace_later:
                self._due = due
            self._wake.notify_all()

    # -- the loop ------------------------------------------------------------------------------------------

    def _publish(self, **changes: object) -> None:
        self.status = replace(self.status, **changes)
        if self.on_status is not None:
            self.on_status(self.status)

    def _on_progress(self, progress: SyncProgress) -> None:
        self._publish(progress=progress, queued=progress.queued)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopping and (self._due is None or self._due > self.clock.monotonic()):
                    self._wake.wait(None if self._due is None else max(0.0, self._due - self.clock.monotonic()))
                if self._stopping:
                    return
                self._due = None
            self._attempt()

    def _queued(self) -> int:
        try:
            return self.engine.store.outbox_totals()[0]
        except Exception:  # the store may be locked by now
            return self.status.queued

    def _attempt(self) -> None:
        self._publish(syncing=True, next_attempt=None)
        try:
            self.engine.sync_once()
        except Exception as unexpected:
            if not isinstance(unexpected, SyncError):
                if self._stopping:  # the app locked the vault under a running sync: nothing to report
                    self._publish(syncing=False)
                    return
                log.exception("sync failed unexpectedly")  # a bug: keep the thread alive, retry later
                unexpected = InternalError(type(unexpected).__name__)
            error = unexpected
            queued = self._queued()
            online = not isinstance(error, Offline)
            if error.retryable:
                self._failures += 1
                delay = backoff_delay(self._failures, self.backoff_base, self.backoff_cap, self._rng)
                if isinstance(error, ServerBusy) and error.retry_after:
                    delay = max(delay, error.retry_after)
            else:
                delay = None  # a person must act (re-register, update, fix the address); "sync now" retries
            with self._wake:
                if delay is not None and self._due is None:
                    self._due = self.clock.monotonic() + delay
                due = self._due
            self._publish(syncing=False, online=online, last_error=error, queued=queued, next_attempt=due)
            return
        self._failures = 0
        with self._wake:
            if self._due is None:
                self._due = self.clock.monotonic() + self.interval
            due = self._due
        self._publish(
            syncing=False,
            online=True,
            last_error=None,
            last_success=self.clock.time(),
            queued=self._queued(),
            next_attempt=due,
        )
