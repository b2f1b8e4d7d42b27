"""When to sync: on a local change (debounced), on "sync now", when the link comes back, and periodically;
after a failure, again with exponential backoff and jitter, forever while work is queued.

The link counts as back, resetting the back-off and syncing at once, when the OS says so
(``connectivity_changed``), when any request gets an answer (``link_alive``, wired to the transport), when a
cheap probe finds the server while offline (``probe_every``; for when the OS cannot say), and, as "maybe",
after the computer slept (the wall clock jumped ahead of the monotonic one).

The probe is one ``GET /v1/health`` every ``probe_every`` (2 s) while offline, whatever the OS says (the OS
may call a captive portal or a campus network without internet "online"). While the link is down it costs
nothing: no byte reaches a network that is not there. The first probe that gets through finds the link back
and costs about 500 bytes with its answer; the sync follows at once, on the connection the probe opened. When
something at the server's address answers but the service does not (the connection is refused, or a proxy
answers in its place), every probe would cost bytes on a link that works, so the gap doubles each time, up to
``PROBE_CAP_S``.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from sync.client.engine import SyncEngine, SyncProgress
from sync.client.errors import InternalError, Offline, ServerBusy, SyncError
from sync.client.live import WAIT_S, LiveDelivery
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
    back_online: bool = False  # this sync runs because the link came back after an outage


PROBE_EVERY_S = 2.0  # while offline, look for the server this often (free while the link is down)
PROBE_CAP_S = 120.0  # the longest gap between probes when the server's address answers but the service does not
WAKE_EVERY_S = 30.0  # the loop wakes at least this often to notice the computer slept
RESUME_GAP_S = 120.0  # the wall clock ran this much ahead of the monotonic one: the computer slept


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
        probe_every: float | None = PROBE_EVERY_S,
        wake_every: float = WAKE_EVERY_S,
        resume_gap: float = RESUME_GAP_S,
        live: bool = False,
        live_seconds: int = WAIT_S,
    ) -> None:
        self.clock = clock  # what "due" and "last success" are measured on
        self.engine = engine
        self.interval, self.debounce = interval, debounce
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.on_status = on_status
        self._rng = rng
        self.probe_every = probe_every  # None: no probing (tests that decide when the link is noticed)
        self._probe_gap = probe_every or 0.0  # grows while what answers at the server's address is not the server
        self.wake_every, self.resume_gap = wake_every, resume_gap
        self._probe_due: float | None = None
        self._link_back = False  # the next attempt runs because the link came back
        self._in_attempt = False
        self._tick = (self.clock.time(), self.clock.monotonic())
        self._wake = threading.Condition()
        self._due: float | None = self.clock.monotonic()  # sync soon after start
        self._stopping = False
        self._failures = 0
        self._thread = threading.Thread(target=self._run, name="osler-sync", daemon=True)
        self.status = SyncStatus(queued=engine.store.outbox_totals()[0])
        engine.on_progress = self._on_progress
        engine.transport.on_answer = self.link_alive  # any answer, on any thread: the link is there
        self.live_on = live  # live delivery (sync/client/live.py): on while online, unless data saver
        self.live = LiveDelivery(engine, on_news=self.sync_now, seconds=live_seconds, on_error=self._live_failed)

    # -- triggers (any thread) -----------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        self.live.close()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def set_live(self, on: bool) -> None:
        """Live delivery on (it starts after the next successful sync, run now) or off (data saver)."""
        self.live_on = on
        if on:
            self.sync_now()
        else:
            self.live.stop()

    def _live_failed(self, error: Exception, failures: int) -> None:
        """The wait failed while sync seemed fine: a sync after a back-off delay finds out whether the link is
        gone (its own back-off and probe take over) or not (it starts the wait again). A server that does not
        know the wait (an older one) ends live delivery for this session."""
        if isinstance(error, SyncError) and not error.retryable:
            log.info("live delivery off: %s", error)
            self.live_on = False
            return
        self._schedule(backoff_delay(failures, self.backoff_base, self.backoff_cap, self._rng))

    def sync_now(self) -> None:
        self._schedule(0.0, reset_backoff=True)

    def local_change(self) -> None:
        """Something was queued: sync after ``debounce`` seconds of quiet (typing a message is many changes)."""
        self._schedule(self.debounce, replace_later=True)
        self._publish(queued=self._queued())  # what waits is said at once, even while a sync runs

    def connectivity_changed(self, online: bool) -> None:
        """The OS says the network came back (or went away): try at once when it came back."""
        if online:
            self._schedule(0.0, reset_backoff=True, link_back=self.status.online is False)

    def link_alive(self) -> None:
        """A request of any kind (a download, the presence list, the probe) got an answer: when sync is
        backing off, the link is back, so the back-off ends and the queued work goes now."""
        if self._failures and not self._in_attempt:
            self._schedule(0.0, reset_backoff=True, link_back=True)

    def _schedule(
        self, delay: float, reset_backoff: bool = False, replace_later: bool = False, link_back: bool = False
    ) -> None:
        with self._wake:
            due = self.clock.monotonic() + delay
            if reset_backoff:
                self._failures = 0
                self._probe_due = None
            self._link_back = self._link_back or link_back
            if self._due is None or due < self._due or replace_later:
                self._due = due
            self._wake.notify_all()

    # -- the loop ------------------------------------------------------------------------------------------

    def _publish(self, **changes: object) -> None:
        self.status = replace(self.status, **changes)
        if self.on_status is not None:
            self.on_status(self.status)

    def _on_progress(self, progress: SyncProgress) -> None:
        # what waits now, not what waited when this sync started: a message written meanwhile still waits
        self._publish(progress=progress, queued=self._queued())

    def _run(self) -> None:
        while True:
            probe = False
            with self._wake:
                while not self._stopping:
                    now = self.clock.monotonic()
                    self._notice_sleep(now)
                    if self._due is not None and self._due <= now:
                        break
                    if self._probe_due is not None and self._probe_due <= now:
                        probe, self._probe_due = True, None
                        break
                    wait = self.wake_every
                    for deadline in (self._due, self._probe_due):
                        if deadline is not None:
                            wait = min(wait, deadline - now)
                    self._wake.wait(max(0.0, wait))
                if self._stopping:
                    return
                if not probe:
                    self._due = None
            if probe:
                self._probe()
            else:
                self._attempt()
                with self._wake:
                    self._tick = (self.clock.time(), self.clock.monotonic())

    def _notice_sleep(self, now: float) -> None:
        """Under the lock: the wall clock ran far ahead of the monotonic one since the last look, so the
        computer slept (and may wake on another network): sync now, the back-off forgotten."""
        wall = self.clock.time()
        last_wall, last_mono = self._tick
        self._tick = (wall, now)
        if (wall - last_wall) - (now - last_mono) > self.resume_gap:
            log.info("the computer slept: syncing")
            self._failures, self._probe_due, self._due = 0, None, now

    def _probe(self) -> None:
        """One ``GET /v1/health``. An answer calls ``link_alive`` (through the transport), which syncs at once;
        none, and the next probe is due in ``probe_every``, or later when something that is not the service
        answered."""
        answered = True
        try:
            self.engine.transport.health()  # this thread's own transport: the sync that follows reuses the connection
        except Offline as exc:  # nothing reached (free to try again soon), or a refused connection
            answered = exc.reached
            log.debug("probe: offline%s", " (refused)" if exc.reached else "")
        except Exception as exc:  # an answer that is no health check (a proxy in the server's place)
            log.debug("probe: %s", type(exc).__name__)
        with self._wake:
            if self._failures:
                self._probe_gap = min(2 * self._probe_gap, PROBE_CAP_S) if answered else (self.probe_every or 0.0)
                self._arm_probe()

    def _arm_probe(self) -> None:
        """Under the lock, offline: probe in ``probe_every`` when the next attempt is further away than that."""
        now = self.clock.monotonic()
        gap = max(self._probe_gap, self.probe_every or 0.0)
        if self.probe_every is not None and self._due is not None and self._due - now > gap:
            self._probe_due = now + gap

    def _queued(self) -> int:
        try:
            return self.engine.store.outbox_totals()[0]
        except Exception:  # the store may be locked by now
            return self.status.queued

    def _attempt(self) -> None:
        with self._wake:
            back, self._link_back = self._link_back, False
            self._in_attempt, self._probe_due = True, None
        self._publish(syncing=True, next_attempt=None, back_online=back)
        try:
            self._sync()
        finally:
            self._in_attempt = False
        if back and self._failures:  # the link looked back, yet the sync failed: probe less often meanwhile
            with self._wake:
                self._probe_gap = min(2 * max(self._probe_gap, self.probe_every or 0.0), PROBE_CAP_S)

    def _sync(self) -> None:
        try:
            self.engine.sync_once()
        except Exception as unexpected:
            if not isinstance(unexpected, SyncError):
                if self._stopping:  # the app locked the vault under a running sync: nothing to report
                    self._publish(syncing=False, back_online=False)
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
                if not online:
                    self._arm_probe()
            self._publish(
                syncing=False, online=online, last_error=error, queued=queued, next_attempt=due, back_online=False
            )
            return
        self._failures = 0
        self._probe_gap = self.probe_every or 0.0
        if self.live_on and not self._stopping:
            try:
                self.live.start(self.engine.store.cursor())
            except Exception:  # the store may be locked by now
                log.debug("live delivery not started", exc_info=True)
        with self._wake:
            if self._due is None:
                self._due = self.clock.monotonic() + self.interval
            due = self._due
        self._publish(
            syncing=False,
            back_online=False,
            online=True,
            last_error=None,
            last_success=self.clock.time(),
            queued=self._queued(),
            next_attempt=due,
        )
