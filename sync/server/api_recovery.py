"""Recovery (PROTOCOL.md §10.3): the account's backup, sealed to the recovery key, and a restore with that key.

The server keeps the public half of the recovery key's auth key (random-looking, unlinkable to the key without it)
and a backup it cannot open. A restore is signed by the recovery key, fresh and single use: it makes a new active
device of the account and answers the backup, which only the recovery key opens.
"""

from __future__ import annotations

import base64
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from sync.envelope import valid_public_key, verify_restore
from sync.protocol import ProtocolError
from sync.server.api_auth import BoxKey, Bytes32, Bytes64, HexId, _In
from sync.server.api_links import Bytes16, Name, Ts, base64_of
from sync.server.errors import error_responses
from sync.server.security import auth_rate_limit, current_session, storage_of
from sync.server.signed import WINDOW_S
from sync.server.storage import DeviceSession

log = logging.getLogger("osler.server.recovery")
router = APIRouter(prefix="/v1", tags=["devices"])
MAX_BACKUP = 8190  # 8 KiB, a multiple of 3: the base64 length bounds it exactly


class RecoveryIn(_In):
    auth: Bytes32 = Field(description="the recovery key's auth public key (Ed25519)")
    backup: Annotated[str, base64_of(MAX_BACKUP, "the account backup sealed to the recovery key")]


class RecoverIn(_In):
    auth: Bytes32
    ts: Ts
    nonce: Bytes16
    sig: Bytes64 = Field(description="RecoveryKeys.sign_restore(ts, nonce, sign_key, box_key, name)")
    sign_key: Bytes32 = Field(description="the new device's Ed25519 public key")
    box_key: BoxKey = Field(min_length=4)
    name: Name


class RecoverOut(BaseModel):
    account: HexId
    device: HexId
    role: str
    backup: str = Field(description="the account backup, base64")


def _key(value: str, what: str) -> bytes:
    raw = base64.b64decode(value)
    if not valid_public_key(raw):
        raise ProtocolError(422, "invalid", f"{what} must be a canonical Ed25519 public key not of small order")
    return raw


@router.put("/recovery", status_code=204, response_class=Response, responses=error_responses(400, 401, 409, 413, 422))
async def put_recovery(
    body: RecoveryIn, request: Request, session: DeviceSession = Depends(current_session)
) -> Response:
    """Keep the account's recovery auth key and backup, replacing the previous ones: the previous recovery key no
    longer restores anything. The same body again changes nothing."""
    auth = _key(body.auth, "auth")
    kept = await run_in_threadpool(
        storage_of(request).put_recovery, session.account, auth, base64.b64decode(body.backup)
    )
    if not kept:
        raise ProtocolError(409, "conflict", "this recovery key belongs to another account: make a new one")
    return Response(status_code=204)


@router.post(
    "/recover",
    response_model=RecoverOut,
    dependencies=[Depends(auth_rate_limit)],
    responses=error_responses(400, 401, 404, 413, 422, 429),
)
async def recover(body: RecoverIn, request: Request) -> RecoverOut:
    """A new active device for the account of this recovery key, and the account's backup. Signed by the recovery
    key; the time within 600 s of the server's (else 401 ``clock-skew`` with ``server_time``); each nonce once
    (401 ``replayed``). Retried with a fresh nonce and the same ``sign_key``, the same device."""
    auth, sign_key = _key(body.auth, "auth"), _key(body.sign_key, "sign_key")
    nonce, sig, box_key = (base64.b64decode(v) for v in (body.nonce, body.sig, body.box_key))
    if not verify_restore(auth, sig, body.ts, nonce, sign_key, box_key, body.name):
        raise ProtocolError(401, "unauthenticated", "the restore signature does not verify")
    now_ms = int(request.app.state.clock.time() * 1000)
    if abs(body.ts - now_ms) > WINDOW_S * 1000:
        raise ProtocolError(
            401, "clock-skew", "the restore's time is off: sign it with server_time", server_time=now_ms
        )
    keep_until = body.ts // 1000 + WINDOW_S + 1
    found = await run_in_threadpool(storage_of(request).restore, auth, nonce, keep_until, sign_key, box_key, body.name)
    if found.outcome == "unknown":
        raise ProtocolError(404, "recovery-unknown", "no account on this server has this recovery key")
    if found.outcome == "replayed":
        raise ProtocolError(401, "replayed", "this restore request was already received")
    if found.outcome == "revoked":
        raise ProtocolError(401, "device-revoked", "this device was revoked")
    session, backup = found.session, found.backup
    assert session is not None and backup is not None
    log.info("restored account %s on new device %s", session.account.hex(), session.device.hex())
    return RecoverOut(
        account=session.account.hex(),
        device=session.device.hex(),
        role=session.role,
        backup=base64.b64encode(backup).decode(),
    )
