"""Live delivery while online: one long poll (``GET /v1/wait``, PROTOCOL.md §4.3) held open on a transport of
its own, so a message arrives in seconds rather than at the next periodic sync.

The scheduler starts it after each successful sync (with the cursor that sync left) and it runs until the
server says something new waits: it then asks the scheduler to sync (``on_news``) and ends; the sync that
follows starts it again. On any error it ends too and tells the scheduler (``on_error``), which syncs after a
back-off delay: that sync, failing, hands over to its back-off and probe; succeeding, starts the wait again.
It moves no records: the normal sync stays the one path that does.

Idle cost: one request every ``seconds`` (50 by default). Measured on loopback with ``Transport.wire_bytes``
(tests/test_live.py::test_the_wait_answers_nothing_new_at_its_timeout, and ``make bench``): 258 bytes per
request with its answer (bearer token), so 72 requests and about 19 KB an hour (TCP/TLS framing aside).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sync.client.engine import SyncEngine

log = logging.getLogger(__name__)
WAIT_S = 50  # the server holds a wait at most this long (sync/server/api_live.py MAX_WAIT_S)
IDLE_KB_PER_HOUR = 19  # what an idle hour of waits costs, as measured (above); shown in Settings


class LiveDelivery:
    def __init__(
        self,
        engine: SyncEngine,
        on_news: Callable[[], None],
        seconds: int = WAIT_S,
        on_error: Callable[[Exception, int], None] | None = None,
    ) -> None:
        self.engine, self.on_news, self.seconds = engine, on_news, seconds
        self.on_error = on_error  # called with the error and the failures in a row since a wait last answered
        self.failures = 0
        self.transport = None  # a fork of the engine's, made when first needed, kept across runs
        self.requests = 0  # wait requests sent, for tests and figures
        self._lock = threading.Lock()
        self._cursor = 0
        self._generation = 0
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        with self._lock:
            return self._thread is not None

    def start(self, cursor: int) -> None:
        """Wait for news after ``cursor`` (any thread); a running wait takes the new cursor for its next call."""
        with self._lock:
            self._cursor = cursor
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, args=(self._generation,), name="osler-live", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """No more waits (any thread). A wait in flight is left to end by itself; its answer is ignored."""
        with self._lock:
            self._generation += 1
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(0.05)

    def close(self) -> None:
        self.stop()
        if self.transport is not None:
            self.transport.close()

    def _current(self, generation: int) -> bool:
        return generation == self._generation

    def _run(self, generation: int) -> None:
        news, error = False, None
        try:
            if self.transport is None:
                self.transport = self.engine.transport.fork()
            transport = self.transport
            while True:
                with self._lock:
                    if not self._current(generation):
                        return
                    cursor = self._cursor
                self.requests += 1
                call = lambda token, cursor=cursor: transport.wait(cursor, self.seconds, token)  # noqa: E731
                news = self.engine.authorized(call, transport)
                self.failures = 0
                if news:
                    break
        except Exception as exc:  # offline, refused, a server without live delivery: the scheduler takes over
            log.info("live delivery stops: %s", type(exc).__name__)
            self.failures += 1
            error = exc
        finally:
            with self._lock:
                current = self._current(generation)
                if current:
                    self._thread = None
        if news and current:
            self.on_news()
        if error is not None and current and self.on_error is not None:
            self.on_error(error, self.failures)
