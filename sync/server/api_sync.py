"""``POST /v1/sync`` (PROTOCOL.md §4): push a batch, pull what arrived, in one round trip."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from sync import PROTOCOL_VERSION
from sync.clock import Clock
from sync.envelope import verify_record
from sync.protocol import (
    ADMIN_KINDS,
    DEFAULT_PULL_BUDGET,
    DELIVERED_KIND,
    MEDIA_JSON,
    MEDIA_MSGPACK,
    PUBLISHER_KINDS,
    PUBLISHER_ROLES,
    SIGNED_KINDS,
    STATUS_KIND,
    ProtocolError,
    Record,
    StatusBody,
    SyncRequest,
    SyncResponse,
    decode,
    dump_raw,
    encode,
    gunzip_limited,
    media_of,
    parse_raw,
    parse_status,
    request_id,
)
from sync.server.errors import error_responses
from sync.server.security import current_session, storage_of
from sync.server.storage import DeviceSession, RequestParties

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


async def read_body(request: Request) -> bytes:
    """The request body, inflated when gzipped. Its size on the wire is limited per path by ``limits.BodyLimit``
    (413 before it is all in memory); inflating is limited here."""
    try:
        data = await request.body()
    except ClientDisconnect:  # the link was cut mid-body: nobody is left to answer, and nothing was done
        raise ProtocolError(400, "bad-encoding", "the request body was cut short") from None
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


def _check_kind(record: Record, session: DeviceSession, clock: Clock) -> StatusBody | None:
    """Kinds with rules of their own (§3.4): status records are private metadata of a fixed shape; only admins
    publish introductions. Returns the parsed status of a status record."""
    if record.k == DELIVERED_KIND:
        raise ProtocolError(403, "forbidden", "delivery marks are made by the server alone", ids=[record.i.hex()])
    if record.k in ADMIN_KINDS and session.role != "admin":
        raise ProtocolError(403, "forbidden", f"only programme admins publish {record.k} records", ids=[record.i.hex()])
    if record.k in PUBLISHER_KINDS and session.role not in PUBLISHER_ROLES:
        raise ProtocolError(
            403, "forbidden", f"only mentors and admins publish {record.k} records", ids=[record.i.hex()]
        )
    if record.k != STATUS_KIND:
        return None
    if record.t is None:
        raise ProtocolError(422, "invalid", "status records are never public", ids=[record.i.hex()])
    try:
        status = parse_status(record.b)
    except ProtocolError as invalid:
        raise ProtocolError(422, "invalid", invalid.detail, ids=[record.i.hex()]) from None
    if status.at > (clock.time() + STATUS_AHEAD_S) * 1000:
        raise ProtocolError(422, "invalid", "a status is dated more than a day ahead", ids=[record.i.hex()])
    if status.e == "request":
        student, mentor, by = status.s or "", status.m or "", status.by or ""
        if student == mentor or status.r != request_id(student, mentor, by, status.at):
            raise ProtocolError(
                422, "invalid", "a request's id is derived from who asked whom and when (§3.4)", ids=[record.i.hex()]
            )
        if session.account.hex() != (student if by == "student" else mentor):
            raise ProtocolError(403, "forbidden", "only the asker discloses a request", ids=[record.i.hex()])
    return status


async def _check_statuses(request: Request, session: DeviceSession, statuses: list[tuple[Record, StatusBody]]) -> None:
    """An answer only from the one asked, activity and closing only from a party: refused (403) when the server
    knows the request (from its ``request`` status) and the author is not who may say it (§3.4)."""
    later = [(record, status) for record, status in statuses if status.e != "request"]
    if not later:
        return
    known = await run_in_threadpool(storage_of(request).request_parties, {status.r for _, status in later})
    for _record, status in statuses:
        if status.e == "request":
            known.setdefault(status.r, RequestParties(status.s or "", status.m or "", status.by or ""))
    me, refused = session.account.hex(), []
    for record, status in later:
        parties = known.get(status.r)
        if parties is None:
            continue  # not heard of here (yet): admins' clients check it again against the request
        allowed = (parties.asked,) if status.e == "answer" else (parties.student, parties.mentor)
        if me not in allowed:
            refused.append(record.i.hex())
    if refused:
        raise ProtocolError(403, "forbidden", "a status about a request this account is not party to", ids=refused)


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
        statuses: list[tuple[Record, StatusBody]] = []
        for record in req.p:
            if record.a is not None or record.d is not None:
                raise ProtocolError(422, "invalid", "pushed records carry no author or device", ids=[record.i.hex()])
            status = _check_kind(record, session, request.app.state.clock)
            if status is not None:
                statuses.append((record, status))
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
        await _check_statuses(request, session, statuses)
        result = await run_in_threadpool(storage.push, session, req.p)
        if result.conflicts:
            raise ProtocolError(
                409, "conflict", "record ids already exist with other content", ids=[i.hex() for i in result.conflicts]
            )
        accepted = result.accepted
        request.app.state.live.pulse()  # waiting clients of this process look again (GET /v1/wait)
    answer = SyncResponse(v=PROTOCOL_VERSION, n=accepted)
    if req.c is not None:
        if await run_in_threadpool(storage.confirm, session, req.c):  # the cursor proves what the device holds
            request.app.state.live.pulse()  # authors waiting for their delivery marks look again
        pulled = await run_in_threadpool(
            storage.pull, session, req.c, req.l or DEFAULT_PULL_BUDGET, grants_for_me_only=req.g == 1
        )
        answer = SyncResponse(
            v=PROTOCOL_VERSION, n=accepted, r=pulled.records, c=pulled.cursor, m=pulled.more, w=pulled.waiting
        )
    return Response(encode(answer, media), media_type=media)
