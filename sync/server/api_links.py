"""Linking a person's new device to their account with a short code (PROTOCOL.md §10.2).

Device 1 opens a link (``POST /v1/links``) and shows the code; device 2 posts its keys sealed with the code to the
link's slot; device 1, held on ``GET /v1/links/{slot}``, opens them with the code and approves; device 2 picks up
its welcome (the account's secrets, sealed to it) and is from then on a device of the account.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from sync.envelope import valid_public_key, verify_link_pickup
from sync.protocol import ProtocolError
from sync.server.api_auth import BoxKey, Bytes32, Bytes64, HexId, _In
from sync.server.api_live import MAX_WAIT_S, POLL_EVERY_S, hub_of
from sync.server.errors import error_responses
from sync.server.linking import SLOT_PATTERN, Pickup
from sync.server.security import auth_rate_limit, current_session, storage_of
from sync.server.signed import WINDOW_S
from sync.server.storage import DeviceSession

log = logging.getLogger("osler.server.links")
router = APIRouter(prefix="/v1", tags=["devices"])
T = TypeVar("T")
MAX_LINK_REQUEST = 4095  # bytes; multiples of 3, so the base64 length bounds them exactly
MAX_WELCOME = 8190


def base64_of(max_bytes: int, what: str) -> object:
    """Base64 (standard alphabet, padded) of 1 to ``max_bytes`` bytes."""
    return Field(
        pattern=r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$",
        min_length=4,
        max_length=4 * -(-max_bytes // 3),
        description=f"{what}, base64, at most {max_bytes} bytes",
    )


Bytes16 = Annotated[str, Field(pattern=r"^[A-Za-z0-9+/]{21}[AQgw]==$", min_length=24, max_length=24)]
Slot = Annotated[str, Path(pattern=SLOT_PATTERN, description="the link's slot: the code's first 6 characters")]
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")]
Ts = Annotated[int, Field(ge=0, lt=2**63, description="the client's time, unix ms")]


class LinkOut(BaseModel):
    slot: str = Field(pattern=SLOT_PATTERN)
    expires: int = Field(description="unix s")


class LinkRequestIn(_In):
    request: Annotated[str, base64_of(MAX_LINK_REQUEST, "the new device's keys sealed with the link's code")]


class Expires(BaseModel):
    expires: int = Field(description="unix s")


class LinkStateOut(BaseModel):
    state: Literal["open", "requested", "approved", "expired"]
    request: str | None = Field(default=None, description="the sealed request, base64 (requested, approved)")


class ApproveIn(_In):
    sign_key: Bytes32 = Field(description="the new device's Ed25519 public key")
    box_key: BoxKey = Field(min_length=4)
    name: Name
    welcome: Annotated[str, base64_of(MAX_WELCOME, "the account's secrets sealed to the new device")]


class ApproveOut(BaseModel):
    device: HexId


class PickupIn(_In):
    sign_key: Bytes32
    ts: Ts
    nonce: Bytes16
    sig: Bytes64 = Field(description='the device key over "osler-link-welcome-v1\\0" ‖ slot ‖ ts (8 BE) ‖ nonce')


class Waiting(BaseModel):
    state: Literal["waiting"]


class WelcomeOut(BaseModel):
    account: HexId
    device: HexId
    role: str
    welcome: str = Field(description="the account's secrets sealed to this device, base64")


_REFUSALS = {
    "unknown": (404, "link-unknown", "no such link on this server: check the code and the server address"),
    "expired": (410, "link-expired", "this link expired: make a new one on your other device"),
    "used": (409, "link-used", "this link was already used by another device: make a new one"),
    "not-requested": (409, "link-not-requested", "no device asked to use this link yet"),
    "revoked": (401, "device-revoked", "this device was revoked"),
}


def _refuse(outcome: str) -> None:
    """Raise the answer for a link ``outcome`` that is a refusal; return for any other."""
    if outcome in _REFUSALS:
        raise ProtocolError(*_REFUSALS[outcome])


async def held(request: Request, seconds: int, look: Callable[[], Awaitable[T | None]]) -> T | None:
    """``look()`` until it answers something, for at most ``seconds``: at once after a change in this process
    (the live hub's pulse), and every ``POLL_EVERY_S`` for a change made by another server process."""
    hub = hub_of(request)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        event = hub.event()
        found = await look()
        left = deadline - loop.time()
        if found is not None or left <= 0 or hub.closing:
            return found
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), min(left, POLL_EVERY_S))


@router.post("/links", response_model=LinkOut, responses=error_responses(401, 409))
async def create_link(request: Request, session: DeviceSession = Depends(current_session)) -> LinkOut:
    """Open a link for a new device of the caller's account: it works for 600 s; at most 3 open per account."""
    made = await run_in_threadpool(storage_of(request).create_link, session.account)
    if made is None:
        raise ProtocolError(409, "too-many-links", "three links are open already: use one or let them expire")
    return LinkOut(slot=made[0], expires=made[1])


@router.post(
    "/links/{slot}/request",
    status_code=202,
    response_model=Expires,
    dependencies=[Depends(auth_rate_limit)],
    responses=error_responses(400, 404, 409, 410, 413, 422, 429),
)
async def post_request(slot: Slot, body: LinkRequestIn, request: Request) -> Expires:
    """The new device's keys, sealed with the code (the server cannot open them). The same bytes again are
    answered the same; another request for a link that has one is 409 ``link-used``."""
    outcome, expires = await run_in_threadpool(storage_of(request).link_request, slot, base64.b64decode(body.request))
    _refuse(outcome)
    hub_of(request).pulse()
    return Expires(expires=expires)


@router.get("/links/{slot}", response_model=LinkStateOut, responses=error_responses(401, 404, 422))
async def link_state(
    slot: Slot,
    request: Request,
    t: int = Query(default=0, ge=0, le=MAX_WAIT_S, description="seconds to hold while the link is open"),
    session: DeviceSession = Depends(current_session),
) -> LinkStateOut:
    """The link's state, held up to ``t`` seconds while it is ``open`` (like ``/v1/wait``). Only a device of the
    link's account sees it: for anyone else it is 404 ``link-unknown``."""
    storage = storage_of(request)

    async def look() -> LinkStateOut | None:
        view = await run_in_threadpool(storage.link_view, slot, session.account)
        if view is None:
            raise ProtocolError(*_REFUSALS["unknown"])
        if view.state == "open":
            return None
        request_b64 = None if view.request is None else base64.b64encode(view.request).decode()
        return LinkStateOut(state=view.state, request=request_b64)  # type: ignore[arg-type]

    found = await held(request, t, look)
    return found or LinkStateOut(state="open")


@router.post(
    "/links/{slot}/approve", response_model=ApproveOut, responses=error_responses(400, 401, 404, 409, 410, 413, 422)
)
async def approve(
    slot: Slot, body: ApproveIn, request: Request, session: DeviceSession = Depends(current_session)
) -> ApproveOut:
    """Make the requesting device a PENDING device of the account, with its welcome: it becomes active when it
    picks the welcome up. Again with the same ``sign_key``, the same device; with another, 409 ``link-used``."""
    sign_key = base64.b64decode(body.sign_key)
    if not valid_public_key(sign_key):
        raise ProtocolError(422, "invalid", "sign_key must be a canonical Ed25519 public key not of small order")
    outcome, device = await run_in_threadpool(
        storage_of(request).approve_link,
        slot,
        session.account,
        sign_key,
        base64.b64decode(body.box_key),
        body.name,
        base64.b64decode(body.welcome),
    )
    _refuse(outcome)
    assert device is not None
    log.info("link approved: pending device %s for account %s", device.hex(), session.account.hex())
    hub_of(request).pulse()
    return ApproveOut(device=device.hex())


@router.post(
    "/links/{slot}/welcome",
    response_model=WelcomeOut,
    dependencies=[Depends(auth_rate_limit)],
    responses={
        202: {"model": Waiting, "description": "not approved yet: ask again"},
        **error_responses(400, 401, 404, 409, 410, 413, 422, 429),
    },
)
async def welcome(
    slot: Slot,
    body: PickupIn,
    request: Request,
    t: int = Query(default=0, ge=0, le=MAX_WAIT_S, description="seconds to hold while not approved yet"),
) -> WelcomeOut | JSONResponse:
    """The new device's welcome, once approved, for the key it was approved for (signed, fresh): the device is
    active from then on. Before approval, 202 ``waiting`` (held up to ``t`` seconds). Repeatable for a day."""
    sign_key, nonce, sig = (base64.b64decode(v) for v in (body.sign_key, body.nonce, body.sig))
    if not verify_link_pickup(sign_key, slot, body.ts, nonce, sig):
        raise ProtocolError(401, "unauthenticated", "the pickup signature does not verify")
    now_ms = int(request.app.state.clock.time() * 1000)
    if abs(body.ts - now_ms) > WINDOW_S * 1000:
        raise ProtocolError(401, "clock-skew", "the pickup's time is off: sign it with server_time", server_time=now_ms)
    storage = storage_of(request)

    async def look() -> Pickup | None:
        found = await run_in_threadpool(storage.pickup_link, slot, sign_key)
        return None if found.outcome == "waiting" else found

    found = await held(request, t, look)
    if found is None:
        return JSONResponse({"state": "waiting"}, status_code=202)
    _refuse(found.outcome)
    session, sealed = found.session, found.welcome
    assert session is not None and sealed is not None
    log.info("linked device %s picked up its welcome", session.device.hex())
    return WelcomeOut(
        account=session.account.hex(),
        device=session.device.hex(),
        role=session.role,
        welcome=base64.b64encode(sealed).decode(),
    )
