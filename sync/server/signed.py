"""Signed requests (PROTOCOL.md §6.2): a device without a token signs the request itself and is served at once,
its answer bringing a token, so a reconnect signs in without a round trip of its own.

``signed_session`` checks the ``Osler-Signature`` header (limits, device, signature, freshness, nonce) and returns
the caller's session; ``IssuedToken`` (ASGI middleware) adds the token it issued to the answer's headers, whatever
the route answers, a ``Response`` of its own or an error included.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.envelope import verify_request
from sync.protocol import ProtocolError
from sync.server.security import auth_rate_limit, device_rate_limit, storage_of
from sync.server.storage import DeviceSession

log = logging.getLogger("osler.server.auth")
HEADER = "osler-signature"
WINDOW_S = 600  # a signed request's timestamp may be this far from the server's clock, either way
_STATE = "osler_issued_token"
_FIELD = re.compile(r"\s*([a-z]+)=([^,\s]+)\s*")


def _unauthenticated(detail: str) -> ProtocolError:
    return ProtocolError(401, "unauthenticated", detail)


def parse_signature(header: str) -> tuple[bytes, int, bytes, bytes]:
    """(device, ts in ms, nonce, signature) of an ``Osler-Signature`` header; 401 when it does not parse."""
    fields: dict[str, str] = {}
    for part in header.split(","):
        match = _FIELD.fullmatch(part)
        if match is None or match[1] in fields:
            raise _unauthenticated("Osler-Signature: expected device=, ts=, nonce=, sig= (PROTOCOL.md §6.2)")
        fields[match[1]] = match[2]
    try:
        device, nonce = bytes.fromhex(fields["device"]), bytes.fromhex(fields["nonce"])
        ts = fields["ts"]
        sig = base64.b64decode(fields["sig"], validate=True)
    except (KeyError, ValueError, binascii.Error):
        raise _unauthenticated("Osler-Signature: expected device=, ts=, nonce=, sig= (PROTOCOL.md §6.2)") from None
    if set(fields) != {"device", "ts", "nonce", "sig"} or not ts.isdigit() or len(ts) > 19:
        raise _unauthenticated("Osler-Signature: expected device=, ts=, nonce=, sig= (PROTOCOL.md §6.2)")
    if len(device) != 16 or len(nonce) != 16 or len(sig) != 64:
        raise _unauthenticated("Osler-Signature: device and nonce are 16 bytes, sig 64")
    return device, int(ts), nonce, sig


def _target(request: Request) -> str:
    """The request target as the client sent it, after the server's base address: path and query string."""
    scope = request.scope
    raw = scope.get("raw_path") or scope["path"].encode()
    root = scope.get("root_path", "").encode()
    if root and raw.startswith(root):
        raw = raw[len(root) :]
    query = scope.get("query_string", b"")
    return (raw + (b"?" + query if query else b"")).decode("latin-1")


async def signed_session(request: Request, header: str) -> DeviceSession:
    auth_rate_limit(request)
    device, ts_ms, nonce, sig = parse_signature(header)
    device_rate_limit(request, device)
    storage = storage_of(request)
    known = await run_in_threadpool(storage.signing_device, device)
    if known is None:
        raise _unauthenticated("unknown device")
    session, public_key, revoked = known
    if revoked:
        raise ProtocolError(401, "device-revoked", "this device was revoked; register it again with a new invite")
    try:
        body = await request.body()  # as sent (before any gzip is undone): what the signature covers
    except ClientDisconnect:  # the link was cut mid-body: nobody is left to answer, and nothing was done
        raise ProtocolError(400, "bad-encoding", "the request body was cut short") from None
    if not verify_request(public_key, device, ts_ms, nonce, request.method, _target(request), body, sig):
        log.warning("bad request signature from device %s", device.hex())
        raise _unauthenticated("the request signature does not verify")
    now_ms = int(request.app.state.clock.time() * 1000)
    if abs(ts_ms - now_ms) > WINDOW_S * 1000:
        raise ProtocolError(
            401,
            "clock-skew",
            f"the request's time is {(ts_ms - now_ms) / 1000:+.0f} s from the server's: sign it with server_time",
            server_time=now_ms,
        )
    keep_until = ts_ms // 1000 + WINDOW_S + 1
    issued = await run_in_threadpool(storage.spend_nonce_for_token, device, nonce, keep_until)
    if issued is None:
        raise ProtocolError(401, "replayed", "this signed request was already received")
    request.scope.setdefault("state", {})[_STATE] = issued
    return session


class IssuedToken:
    """Adds ``Osler-Token`` and ``Osler-Token-Expires`` to the answer of a signed request that was accepted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        scope.setdefault("state", {})  # shared by the routes' copies of the scope, if any makes one

        async def send_with_token(message: Message) -> None:
            issued = scope.get("state", {}).get(_STATE)
            if message["type"] == "http.response.start" and issued is not None:
                token, expires = issued
                headers = list(message.get("headers", []))
                headers += [(b"osler-token", token.encode()), (b"osler-token-expires", str(expires).encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_token)
