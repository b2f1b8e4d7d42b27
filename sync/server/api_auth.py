"""Registration, challenge-response sign-in, and the caller's devices (PROTOCOL.md §6)."""

from __future__ import annotations

import base64
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from sync.envelope import valid_public_key, verify_challenge
from sync.protocol import ProtocolError
from sync.server.errors import error_responses
from sync.server.security import auth_rate_limit, current_session, device_rate_limit, storage_of
from sync.server.storage import DeviceSession

log = logging.getLogger("osler.server.auth")
router = APIRouter(prefix="/v1", tags=["devices"])
HexId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$", description="16-byte id as 32 lowercase hex digits")]
# Base64 (standard alphabet, padded, canonical) of exactly 32 and 64 bytes, and of up to 4096 bytes.
Bytes32 = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$", min_length=44, max_length=44, description="32 bytes")
]
Bytes64 = Annotated[str, Field(pattern=r"^[A-Za-z0-9+/]{85}[AQgw]==$", min_length=88, max_length=88)]
MAX_BOX_KEY = 4096
BoxKey = Annotated[
    str,
    Field(
        pattern=r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
        max_length=4 * (MAX_BOX_KEY // 3 + 1),
        description=f"encryption public key for E2EE, base64, at most {MAX_BOX_KEY} bytes",
    ),
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(_In):
    invite: str = Field(min_length=4, max_length=40, pattern=r"^[^\x00-\x1f\x7f]+$")
    name: str = Field(
        min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$", description="device name shown in the device list"
    )
    sign_key: Bytes32 = Field(description="Ed25519 public key, 32 bytes, base64; not of small order (§6)")
    box_key: BoxKey | None = None


class RegisterOut(BaseModel):
    account: HexId
    device: HexId
    role: str


class ChallengeIn(_In):
    device: HexId


class ChallengeOut(BaseModel):
    challenge: str = Field(description="32 random bytes, base64")
    expires: int


class TokenIn(_In):
    device: HexId
    challenge: Bytes32 = Field(description="the challenge as received, base64")
    sig: Bytes64 = Field(description="Ed25519 signature (§6), 64 bytes, base64")


class TokenOut(BaseModel):
    token: str
    expires: int


class DeviceOut(BaseModel):
    device: HexId
    name: str
    created: int = Field(description="when the device joined, unix s")
    revoked: bool
    box_key: str | None = Field(default=None, description="the device's encryption public key, base64")
    last_sync: int | None = Field(default=None, description="its last sync (to the minute), unix s; null: never")


@router.post(
    "/register",
    response_model=RegisterOut,
    dependencies=[Depends(auth_rate_limit)],
    responses=error_responses(400, 403, 413, 422, 429),
)
async def register(body: RegisterIn, request: Request) -> RegisterOut:
    """Spend an invite code on a new account whose first device is the caller. Retried with the same invite and
    the same ``sign_key`` (its answer was lost), it answers the same account and device again."""
    storage = storage_of(request)
    sign_key = base64.b64decode(body.sign_key)
    box_key = None if body.box_key is None else base64.b64decode(body.box_key)
    if not valid_public_key(sign_key):
        if not await run_in_threadpool(storage.invite_usable, body.invite):
            raise _invite_invalid()  # the invite is the first thing wrong: say that, and spend nothing
        raise ProtocolError(422, "invalid", "sign_key must be a canonical Ed25519 public key not of small order")
    session = await run_in_threadpool(storage.register, body.invite, body.name, sign_key, box_key)
    if session is None:
        raise _invite_invalid()
    log.info("registered device %s for a new %s account", session.device.hex(), session.role)
    return RegisterOut(account=session.account.hex(), device=session.device.hex(), role=session.role)


def _invite_invalid() -> ProtocolError:
    return ProtocolError(403, "invite-invalid", "this invite code is unknown or was already used")


async def _active_device_key(request: Request, device: bytes) -> bytes:
    """The device's public signing key; 401 when the device is unknown or revoked."""
    known = await run_in_threadpool(storage_of(request).device_key, device)
    if known is None:
        raise ProtocolError(401, "unauthenticated", "unknown device")
    if known[1]:
        raise ProtocolError(401, "device-revoked", "this device was revoked")
    return known[0]


@router.post(
    "/auth/challenge",
    response_model=ChallengeOut,
    dependencies=[Depends(auth_rate_limit)],
    responses=error_responses(400, 401, 422, 429),
)
async def challenge(body: ChallengeIn, request: Request) -> ChallengeOut:
    """A single-use random challenge, valid 120 s, for the device to sign."""
    storage, device = storage_of(request), bytes.fromhex(body.device)
    device_rate_limit(request, device)
    await _active_device_key(request, device)
    value, expires = await run_in_threadpool(storage.new_challenge, device)
    return ChallengeOut(challenge=base64.b64encode(value).decode(), expires=expires)


@router.post(
    "/auth/token",
    response_model=TokenOut,
    dependencies=[Depends(auth_rate_limit)],
    responses=error_responses(400, 401, 422, 429),
)
async def token(body: TokenIn, request: Request) -> TokenOut:
    """Exchange a signed challenge for a bearer token bound to the device (valid one hour)."""
    storage, device = storage_of(request), bytes.fromhex(body.device)
    device_rate_limit(request, device)
    public_key = await _active_device_key(request, device)
    challenge, sig = base64.b64decode(body.challenge), base64.b64decode(body.sig)
    if not await run_in_threadpool(storage.spend_challenge, device, challenge):
        raise ProtocolError(401, "unauthenticated", "unknown or expired challenge")
    if not verify_challenge(public_key, device, challenge, sig):
        log.warning("bad challenge signature from device %s", device.hex())
        raise ProtocolError(401, "unauthenticated", "the challenge signature does not verify")
    value, expires = await run_in_threadpool(storage.issue_token, device)
    return TokenOut(token=value, expires=expires)


@router.get("/devices", response_model=list[DeviceOut], responses=error_responses(401))
async def list_devices(request: Request, session: DeviceSession = Depends(current_session)) -> list[DeviceOut]:
    """The devices of the caller's account."""
    rows = await run_in_threadpool(storage_of(request).list_devices, session.account)
    return [
        DeviceOut(**{**row, "box_key": None if row["box_key"] is None else base64.b64encode(row["box_key"]).decode()})
        for row in rows
    ]


@router.post(
    "/devices/{device}/revoke",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 404, 409, 422),
)
async def revoke(
    request: Request,
    device: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
    session: DeviceSession = Depends(current_session),
) -> Response:
    """Revoke one of the caller's own devices (a lost laptop); its tokens stop working at once. Any other id,
    another account's device included, is 404 and changes nothing. The calling device itself is 409
    ``revoke-self``: a slip must not lock the person out (another device, or a restore, revokes it)."""
    if bytes.fromhex(device) == session.device:
        raise ProtocolError(409, "revoke-self", "a device cannot revoke itself: revoke it from another device")
    if not await run_in_threadpool(storage_of(request).revoke_device, bytes.fromhex(device), session.account):
        raise ProtocolError(404, "not-found", "no such active device on this account")
    return Response(status_code=204)
