"""The one error shape every endpoint answers with (PROTOCOL.md §8), documented per route in OpenAPI."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Error(BaseModel):
    detail: str = Field(description="what went wrong, in a sentence")
    code: str = Field(description="machine-readable reason, e.g. invalid, conflict, device-revoked")
    ids: list[str] | None = Field(default=None, description="refused record ids (409, 422)")
    supported: list[int] | None = Field(default=None, description="protocol versions spoken here (426)")
    retry_after: int | None = Field(default=None, description="seconds to wait (429)")
    server_time: int | None = Field(
        default=None, description="the server's unix time in ms, when a signed request's timestamp is off (401)"
    )


_DESCRIPTIONS = {
    400: "the body is not valid gzip, MessagePack or JSON",
    401: "missing, unknown or expired credentials, a revoked device, or a signed request off the clock or replayed",
    403: "not allowed, or an unknown or used invite",
    404: "no such thing",
    409: "a conflict: a pushed record id exists with other content, a link already used, a device revoking itself",
    410: "gone: the link expired",
    413: "over a size limit",
    415: "unsupported content type or encoding",
    422: "well-formed but invalid",
    426: "protocol version not spoken here",
    429: "too many attempts; see Retry-After",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": Error, "description": _DESCRIPTIONS[status]} for status in statuses}
