"""Sync bundles over HTTP (PROTOCOL.md §13.2): ``GET /v1/bundle-key`` and ``POST /v1/bundles``.

No sign-in: a request bundle authenticates itself (its device's signature), and its answer is sealed to that
device. Bundles are limited in size (``limits.BUNDLE_BODY``) and in number per client address.
"""

from __future__ import annotations

import base64

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from sync.bundle import BUNDLE_MEDIA
from sync.protocol import ProtocolError
from sync.server.bundles import answer_request
from sync.server.errors import error_responses
from sync.server.security import bundle_rate_limit, storage_of

router = APIRouter(prefix="/v1", tags=["bundles"])


class BundleKey(BaseModel):
    box: str = Field(description="the box key request bundles are sealed to, base64")
    sign: str = Field(description="the key answer bundles are signed with, base64")
    programme_hint: str | None = Field(default=None, description="reserved; null")


@router.get("/bundle-key", response_model=BundleKey)
async def bundle_key(request: Request) -> BundleKey:
    """This server's bundle keys (public halves): a device keeps them to seal requests it sends offline."""
    keys = await run_in_threadpool(storage_of(request).bundle_keys)
    return BundleKey(box=base64.b64encode(keys.box_public).decode(), sign=base64.b64encode(keys.sign_public).decode())


_BYTES = {"schema": {"type": "string", "format": "binary"}}
_BODY_MEDIA = (BUNDLE_MEDIA, "application/octet-stream")


@router.post(
    "/bundles",
    response_class=Response,
    dependencies=[Depends(bundle_rate_limit)],
    # The bundle's own magic, not its Content-Type, says what it is (PROTOCOL.md §13.2): a relay or a script may
    # send it as plain bytes, so both media types are documented (and fuzzed: tests/test_api_fuzz.py).
    openapi_extra={"requestBody": {"required": True, "content": {media: _BYTES for media in _BODY_MEDIA}}},
    responses={
        200: {"description": "the answer bundle, sealed to the device", "content": {BUNDLE_MEDIA: {}}},
        **error_responses(400, 401, 404, 413, 415, 422, 429),
    },
)
async def bundles(request: Request) -> Response:
    """Answer a request bundle: its push is stored as a sync would store it, and the answer carries what the
    device lacks since its cursor, sealed to it."""
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", ""):
        raise ProtocolError(415, "bad-encoding", "a bundle is sent as it is (it is compressed inside)")
    try:
        data = await request.body()
    except ClientDisconnect:
        raise ProtocolError(400, "bad-encoding", "the bundle was cut short") from None
    state = request.app.state
    answer = await run_in_threadpool(answer_request, state.storage, state.blobs, state.clock, state.live, data)
    return Response(answer, media_type=BUNDLE_MEDIA)
