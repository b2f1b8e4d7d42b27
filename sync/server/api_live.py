"""``GET /v1/wait`` (PROTOCOL.md §4.3): a held request that answers as soon as something new waits for the caller.

Thousands of waiters cost no thread each: every waiter is a coroutine awaiting the process's ``LiveHub`` event,
which a push in this process pulses at once. Pushes in other processes (several servers sharing PostgreSQL) are
noticed by one cheap query of the counter every ``POLL_EVERY_S`` seconds per process, for all its waiters
together, and only while some wait. The answer is tiny and carries no records: the client then syncs.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from sync.server.errors import error_responses
from sync.server.security import current_session, storage_of
from sync.server.storage import DeviceSession, Storage

log = logging.getLogger("osler.server.live")
router = APIRouter(prefix="/v1", tags=["sync"])
MAX_WAIT_S = 50  # below the 60 s idle timeout of common proxies
POLL_EVERY_S = 1.5  # how often a process looks for pushes made by other processes, while anyone waits
MAX_CURSOR = 2**63 - 1


class WaitAnswer(BaseModel):
    more: bool


class LiveHub:
    """Per process: an event replaced at every pulse, so a waiter that took it before looking at the storage
    cannot miss a push made after that look."""

    def __init__(self, storage: Storage, poll_every: float = POLL_EVERY_S) -> None:
        self.storage, self.poll_every = storage, poll_every
        self._event: asyncio.Event | None = None
        self._waiters = 0
        self._poller: asyncio.Task | None = None
        self._high: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closing = False  # the server is stopping: held waits answer at once, so a stop never waits on them

    def event(self) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (an app served again, a test client): start afresh
            self._loop, self._event, self._poller, self._waiters = loop, None, None, 0
        if self._event is None:
            self._event = asyncio.Event()
        return self._event

    def close(self) -> None:
        """Any thread: answer every held wait now ("nothing new"; the client syncs and asks again elsewhere)."""
        self.closing = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.pulse)

    def pulse(self) -> None:
        """Something was pushed: every waiter looks again (on the event loop)."""
        if self._event is not None:
            self._event.set()
            self._event = None

    async def wait(self, event: asyncio.Event, seconds: float) -> None:
        self._waiters += 1
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll())
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            pass
        finally:
            self._waiters -= 1

    async def _poll(self) -> None:
        """One counter query per ``poll_every`` for all this process's waiters: another process pushed."""
        while self._waiters > 0:
            try:
                high = await run_in_threadpool(self.storage.high)
            except Exception as exc:  # the database is away: the waiters still time out, and retry
                log.warning("live: counter check failed (%s)", type(exc).__name__)
            else:
                if self._high is not None and high != self._high:
                    self.pulse()
                self._high = high
            await asyncio.sleep(self.poll_every)
        self._high = None


def hub_of(request: Request) -> LiveHub:
    return request.app.state.live


@router.get("/wait", response_model=WaitAnswer, responses=error_responses(401, 422))
async def wait(
    request: Request,
    c: int = Query(ge=0, le=MAX_CURSOR, description="the caller's cursor"),
    t: int = Query(default=MAX_WAIT_S, ge=0, le=MAX_WAIT_S, description="seconds to hold the request"),
    session: DeviceSession = Depends(current_session),
) -> WaitAnswer:
    """``more: true`` as soon as a record for the caller lands after cursor ``c`` (at once when one already
    waits), else ``more: false`` after ``t`` seconds. Holds no state: a cut request is simply asked again."""
    hub, storage = hub_of(request), storage_of(request)
    if await run_in_threadpool(storage.confirm, session, c):  # the cursor proves what the device holds (§4.5)
        hub.pulse()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + t
    while True:
        event = hub.event()  # taken before the look: a push after it sets this event
        if await run_in_threadpool(storage.has_news, session, c):
            return WaitAnswer(more=True)
        left = deadline - loop.time()
        if left <= 0 or hub.closing:
            return WaitAnswer(more=False)
        await hub.wait(event, left)
