"""What a programme admin may ask the server (PROTOCOL.md §6.1): metadata about accounts, never content."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from sync.protocol import ProtocolError
from sync.server.errors import error_responses
from sync.server.security import current_session, storage_of
from sync.server.storage import DeviceSession

router = APIRouter(prefix="/v1/admin", tags=["admin"])


class PresenceOut(BaseModel):
    account: str = Field(pattern=r"^[0-9a-f]{32}$")
    role: str
    joined: int = Field(description="unix seconds")
    last_sync: int | None = Field(description="unix seconds of the last sync from any active device, or null")


def admin_session(session: DeviceSession = Depends(current_session)) -> DeviceSession:
    if session.role != "admin":
        raise ProtocolError(403, "forbidden", "only programme admins may ask this")
    return session


@router.get("/presence", response_model=list[PresenceOut], responses=error_responses(401, 403))
async def presence(request: Request, _admin: DeviceSession = Depends(admin_session)) -> list[PresenceOut]:
    """Every account's role, join date and last sync: how an admin tells "has not synced for a while" apart from
    "synced but has not answered"."""
    rows = await run_in_threadpool(storage_of(request).presence)
    return [PresenceOut(**row) for row in rows]
