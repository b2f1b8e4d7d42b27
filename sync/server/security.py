"""Request authentication and abuse limits, as FastAPI dependencies."""

from __future__ import annotations

import threading
from collections import deque

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from sync.clock import SYSTEM, Clock
from sync.protocol import ProtocolError
from sync.server.storage import DeviceSession, Storage

_bearer = HTTPBearer(auto_error=False)


def storage_of(request: Request) -> Storage:
    return request.app.state.storage


async def current_session(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> DeviceSession:
    """Who is calling: from a bearer token, or, without one, from the request's own signature (PROTOCOL.md §6.2)."""
    if credentials is None and (signature := request.headers.get("osler-signature")) is not None:
        from sync.server.signed import signed_session  # it builds on this module's limits

        return await signed_session(request, signature)
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ProtocolError(401, "unauthenticated", "sign in: send Authorization: Bearer <token>")
    session, reason = await run_in_threadpool(storage_of(request).session_for_token, credentials.credentials)
    if session is None:
        detail = {
            "device-revoked": "this device was revoked; register it again with a new invite",
            "token-expired": "the token expired; ask for a new challenge",
        }.get(reason, "unknown token")
        raise ProtocolError(401, reason, detail)
    return session


class RateLimiter:
    """A sliding window of a minute per key: a client address, or a device (per process: behind a load balancer,
    each process counts its own)."""

    def __init__(self, per_minute: int, clock: Clock = SYSTEM) -> None:
        self.per_minute, self.clock = per_minute, clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        now = self.clock.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                retry = max(1, int(hits[0] + 60 - now) + 1)
                raise ProtocolError(429, "rate-limited", "too many attempts; try again later", retry_after=retry)
            hits.append(now)
            if len(self._hits) > 10_000:
                self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - 60}


def auth_rate_limit(request: Request) -> None:
    """Registration and sign-in calls per client address."""
    host = request.client.host if request.client else "unknown"
    request.app.state.auth_limiter.check(host)


def bundle_rate_limit(request: Request) -> None:
    """Request bundles per client address (PROTOCOL.md §13.2)."""
    host = request.client.host if request.client else "unknown"
    request.app.state.bundle_limiter.check(host)


def device_rate_limit(request: Request, device: bytes) -> None:
    """Sign-in calls (challenge and token together) per device, wherever they come from."""
    request.app.state.device_limiter.check(device.hex())
