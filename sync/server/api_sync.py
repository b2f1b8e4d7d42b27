"""``POST /v1/sync`` (PROTOCOL.md §4): push a batch, pull what arrived, in one round trip."""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from sync import PROTOCOL_VERSION
from sync.envelope import verify_record
from sync.protocol import (
    ADMIN_KINDS,
    DEFAULT_PULL_BUDGET,
    MAX_WIRE_BYTES,
    MEDIA_JSON,
    MEDIA_MSGPACK,
    SIGNED_KINDS,
    STATUS_KIND,
    ProtocolError,
    Record,
    SyncRequest,
    SyncResponse,
    decode,
    dump_raw,
    encode,
    gunzip_limited,
    media_of,
    parse_raw,
    parse_status,
)
from sync.server.errors import error_responses
from sync.server.security import current_session, storage_of
from sync.server.storage import DeviceSession

log = logging.getLogger("osler.server.sync")
STATUS_AHEAD_S = 24 * 3600  # clocks drift; a status dated further ahead would stay "pending" for ever
router = APIRouter(prefix="/v1", tags=["sync"])

_BODY = {"schema": {"$ref": "#/components/schemas/SyncRequest"}}
_OPENAPI = {
    "requestBody": {"required": True, "content": {MEDIA_JSON: _BODY, MEDIA_MSGPACK: _BODY}},
    "responses": {
        "200": {
            "description": "acks, inbound records, new cursor",
            "content": {
                MEDIA_JSON: {"schema": {"$ref": "#/components/schemas/SyncResponse"}},
                MEDIA_MSGPACK: {"schema": {"$ref": "#/components/schemas/SyncResponse"}},
            },
        }
    },
}


async def read_body(request: Request, limit: int = MAX_WIRE_BYTES) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` (before it is all in memory)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ProtocolError(413, "too-large", f"request bodies are limited to {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ProtocolError(413, "too-large", f"request bodies are limited to {limit} bytes")
        chunks.append(chunk)
    data = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding == "gzip":
        return gunzip_limited(data)
    if encoding not in ("identity", ""):
        raise ProtocolError(415, "bad-encoding", f"unsupported content encoding {encoding!r}")
    return data


def _parse(body: bytes, media: str) -> SyncRequest:
    """Validate as this protocol version. A body valid but for its ``v`` comes from another version of the
    protocol: 426, so the client can say "update". Anything else invalid is a 422."""
    try:
        req = decode(SyncRequest, body, media)
    except ProtocolError as invalid:
        obj = parse_raw(body, media) if invalid.status == 422 else None
        version = obj.get("v") if isinstance(obj, dict) else None
        if type(version) is not int or version == PROTOCOL_VERSION:
            raise
        try:
            decode(SyncRequest, dump_raw({**obj, "v": PROTOCOL_VERSION}, media), media)
        except ProtocolError:
            raise invalid from None
        raise _unsupported(version) from None
    if req.v != PROTOCOL_VERSION:
        raise _unsupported(req.v)
    return req


def _unsupported(version: int) -> ProtocolError:
    return ProtocolError(
        426,
        "protocol-unsupported",
        f"this server speaks sync protocol {PROTOCOL_VERSION}, the client sent {version}",
        supported=[PROTOCOL_VERSION, PROTOCOL_VERSION],
    )


def _check_kind(record: Record, session: DeviceSession) -> None:
    """Kinds with rules of their own (§3.4): status records are private metadata of a fixed shape; only admins
    publish introductions."""
    if record.k in ADMIN_KINDS and session.role != "admin":
        raise ProtocolError(403, "forbidden", f"only programme admins publish {record.k} records", ids=[record.i.hex()])
    if record.k == STATUS_KIND:
        if record.t is None:
            raise ProtocolError(422, "invalid", "status records are never public", ids=[record.i.hex()])
        try:
            status = parse_status(record.b)
        except ProtocolError as invalid:
            raise ProtocolError(422, "invalid", invalid.detail, ids=[record.i.hex()]) from None
        if status.at > (time.time() + STATUS_AHEAD_S) * 1000:
            raise ProtocolError(422, "invalid", "a status is dated more than a day ahead", ids=[record.i.hex()])


@router.post(
    "/sync",
    openapi_extra=_OPENAPI,
    response_class=Response,
    responses=error_responses(400, 401, 403, 409, 413, 415, 422, 426),
)
async def sync(request: Request, session: DeviceSession = Depends(current_session)) -> Response:
    """Push a batch (committed whole or not at all) and/or pull records after a cursor."""
    media = media_of(request.headers.get("content-type"))
    req = _parse(await read_body(request), media)
    storage = storage_of(request)
    await run_in_threadpool(storage.seen, session.device)
    accepted = 0
    if req.p:
        bad: list[str] = []
        public_key = None
        for record in req.p:
            if record.a is not None or record.d is not None:
                raise ProtocolError(422, "invalid", "pushed records carry no author or device", ids=[record.i.hex()])
            _check_kind(record, session)
            if record.s is not None or record.k in SIGNED_KINDS:
                if public_key is None:
                    public_key = (await run_in_threadpool(storage.device_key, session.device))[0]
                if not verify_record(public_key, record, session.account, session.device):
                    log.warning(
                        "refused record %s (kind %s) from device %s: bad or missing signature",
                        record.i.hex(),
                        record.k,
                        session.device.hex(),
                    )
                    bad.append(record.i.hex())
        if bad:
            raise ProtocolError(422, "bad-signature", "records with a bad or missing signature", ids=bad)
        result = await run_in_threadpool(storage.push, session, req.p)
        if result.conflicts:
            raise ProtocolError(
                409, "conflict", "record ids already exist with other content", ids=[i.hex() for i in result.conflicts]
            )
        accepted = result.accepted
    answer = SyncResponse(v=PROTOCOL_VERSION, n=accepted)
    if req.c is not None:
        pulled = await run_in_threadpool(storage.pull, session, req.c, req.l or DEFAULT_PULL_BUDGET)
        answer = SyncResponse(v=PROTOCOL_VERSION, n=accepted, r=pulled.records, c=pulled.cursor, m=pulled.more)
    return Response(encode(answer, media), media_type=media)
