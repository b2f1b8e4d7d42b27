"""Request body limits for every endpoint, enforced once, before any route reads a byte (PROTOCOL.md §8).

An ASGI middleware: a declared ``Content-Length`` over the path's limit is refused at once with 413 (the body is
never read, so a client that declares 100 MB and sends nothing gets its answer at once); a body streamed without
a length (chunked) is counted as it arrives and refused with 413 as soon as it passes the limit, so no more than
the limit is ever held in memory. The limits are per path: small for the JSON endpoints (registration, sign-in,
admin), the wire limit for ``/v1/sync``, one chunk for blob chunk uploads, a whole bundle file for ``/v1/bundles``
(§13.2).
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.bundle import MAX_BUNDLE_BYTES
from sync.protocol import BLOB_CHUNK, MAX_WIRE_BYTES

BUNDLE_BODY = MAX_BUNDLE_BYTES  # a whole request bundle (PROTOCOL.md §13.1)
SMALL_BODY = 16 * 1024  # the JSON endpoints: the largest legitimate body (a registration) is under 6 KiB
_CHUNK_PATH = re.compile(r"^/v1/blobs/[^/]+/chunks/[^/]+$")


def body_limit(path: str) -> int:
    if path == "/v1/sync":
        return MAX_WIRE_BYTES
    if path == "/v1/bundles":
        return BUNDLE_BODY
    if _CHUNK_PATH.match(path):
        return BLOB_CHUNK
    return SMALL_BODY


class _TooLarge(Exception):
    pass


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": f"request bodies here are limited to {limit} bytes", "code": "too-large"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return
        received, over, started = 0, False, False

        async def counted() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise _TooLarge
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if over:  # whatever the route made of the cut body (FastAPI answers 400), the answer is ours: 413
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not over:  # anything else is the app's own business (and ends as its 500 handler says)
                raise
        if over and not started:
            await _refuse(send, limit)
