"""Blob chunks in, whole blobs out with HTTP Range for resumption (PROTOCOL.md §7)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from sync.protocol import BLOB_CHUNK, MAX_BLOB_BYTES, ProtocolError
from sync.server.api_sync import read_body
from sync.server.blobstore import BlobStore
from sync.server.errors import error_responses
from sync.server.security import current_session
from sync.server.storage import DeviceSession

router = APIRouter(prefix="/v1/blobs", tags=["blobs"])
Sha = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the blob, lowercase hex")]


class BlobStatus(BaseModel):
    complete: bool
    missing: list[int]


def _store(request: Request) -> BlobStore:
    return request.app.state.blobs


@router.put("/{sha}/chunks/{index}", response_model=BlobStatus, responses=error_responses(400, 401, 409, 413, 415, 422))
async def put_chunk(
    request: Request,
    sha: Sha,
    index: Annotated[int, Path(ge=0, le=MAX_BLOB_BYTES // BLOB_CHUNK)],
    size: Annotated[int, Header(alias="Osler-Blob-Size", ge=0, le=MAX_BLOB_BYTES)],
    session: DeviceSession = Depends(current_session),
) -> BlobStatus:
    """Store chunk ``index`` of a blob of ``size`` bytes in the caller's own upload; the last chunk completes,
    verifies and publishes it."""
    data = await read_body(request)
    missing = await run_in_threadpool(_store(request).put_chunk, sha, size, index, data, session.account)
    return BlobStatus(complete=not missing, missing=missing)


@router.get("/{sha}/chunks", response_model=BlobStatus, responses=error_responses(401, 413, 422))
async def status(
    request: Request,
    sha: Sha,
    size: Annotated[int, Query(ge=0, le=MAX_BLOB_BYTES)],
    session: DeviceSession = Depends(current_session),
) -> BlobStatus:
    """Which chunks of the caller's upload the server still lacks (none once anyone published the blob): where an
    interrupted upload resumes. A complete upload left unpublished by a crash is published now."""
    missing = await run_in_threadpool(_store(request).missing, sha, size, session.account)
    return BlobStatus(complete=not missing, missing=missing)


@router.get(
    "/{sha}",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, **error_responses(401, 404, 422)},
)
async def download(request: Request, sha: Sha, _session: DeviceSession = Depends(current_session)) -> FileResponse:
    """The whole blob; send ``Range: bytes=N-`` to resume a cut download."""
    path = _store(request).path(sha)
    if path is None:
        raise ProtocolError(404, "not-found", "no complete blob with this hash")
    return FileResponse(path, media_type="application/octet-stream")
