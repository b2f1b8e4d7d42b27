"""``POST /v1/sync`` (PROTOCOL.md §4): push a batch, pull what arrived, in one round trip."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from sync import PROTOCOL_VERSION
from sync.protocol import (
    DEFAULT_PULL_BUDGET,
    MEDIA_JSON,
    MEDIA_MSGPACK,
    ProtocolError,
    SyncRequest,
    SyncResponse,
    decode,
    dump_raw,
    encode,
    gunzip_limited,
    media_of,
    parse_raw,
)
from sync.server.errors import error_responses
from sync.server.pushing import check_and_push
from sync.server.security import current_session, storage_of
from sync.server.storage import DeviceSession

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
        accepted = await run_in_threadpool(check_and_push, storage, session, req.p, request.app.state.clock)
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
