"""Sync bundles (PROTOCOL.md §13.1): a sync carried as a file, on a USB stick or through a relay.

A request bundle is an offline ``POST /v1/sync``: the device's outbox, the blob pieces it uploads, the blobs it
wants and its cursor, signed by the device and sealed to the programme server's bundle key. The answer bundle is
what the server made of it, signed by the server's bundle key and sealed to the device's registered box key. A
carrier reads only the small clear header (``sync/bundle_frame.py``, re-exported here). Pure: bytes in, bytes
out; every primitive is in ``sync/envelope.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgpack
from pydantic import ValidationError

from sync import envelope
from sync.bundle_frame import (
    BUNDLE_MEDIA,
    FORMAT,
    KINDS,
    MAGIC,
    MAX_BUNDLE_BYTES,
    MAX_BUNDLE_RECORDS,
    MAX_HEADER,
    MAX_MS,
    SIGNATURE_BYTES,
    SUFFIX,
    BundleError,
    Header,
    file_name,
    frame,
    is_id16,
    is_uint,
    programme_id,
    read_header,
    unseal,
)
from sync.envelope import BoxKey, DeviceKey, ServerKeys
from sync.protocol import (
    BLOB_CHUNK,
    MAX_BLOB_BYTES,
    MAX_NESTING,
    ProtocolError,
    Record,
    depth_over,
    gunzip_limited,
    gzip_bytes,
)

__all__ = [
    "BUNDLE_MEDIA", "DEFAULT_BUDGET", "FORMAT", "KINDS", "MAGIC", "MAX_BUNDLE_BYTES", "MAX_BUNDLE_RECORDS",
    "MAX_CONTENT", "MAX_HEADER", "MIN_BUDGET", "SIGNATURE_BYTES", "SUFFIX", "AnswerContent", "BlobPiece",
    "BundleError", "Header", "OpenedRequest", "Refusal", "RequestContent", "WantedBlob", "file_name",
    "open_answer", "open_request", "programme_id", "read_header", "write_answer", "write_request",
]  # fmt: skip

MAX_CONTENT = 128 << 20
DEFAULT_BUDGET = 8 << 20
MIN_BUDGET = 64 << 10
_SHA = re.compile(r"^[0-9a-f]{64}$")
_MAX_CURSOR = 2**63


@dataclass(frozen=True)
class BlobPiece:
    """Whole chunks of one blob, from chunk ``first`` (the last chunk may be short at the blob's end)."""

    sha: str
    size: int
    first: int
    data: bytes


@dataclass(frozen=True)
class WantedBlob:
    sha: str
    size: int
    first: int = 0


@dataclass(frozen=True)
class RequestContent:
    account: bytes
    device: bytes
    request: bytes
    created_ms: int
    push: list[Record]
    cursor: int | None
    grants_only: bool
    budget: int
    uploads: list[BlobPiece]
    wants: list[WantedBlob]


@dataclass(frozen=True)
class Refusal:
    code: str
    detail: str
    ids: list[bytes]


@dataclass(frozen=True)
class AnswerContent:
    request: bytes
    created_ms: int
    accepted: int
    refused: list[Refusal]
    records: list[Record]
    from_cursor: int | None
    cursor: int | None
    more: bool
    waiting: int | None
    uploaded: list[tuple[str, bool]]
    blobs: list[BlobPiece]
    unavailable: list[str]


@dataclass(frozen=True)
class OpenedRequest:
    header: Header
    content: RequestContent
    signature: bytes
    signed: bytes  # what the signature covers (envelope.bundle_signed_input)

    def verify(self, device_sign_public: bytes) -> bool:
        return envelope.verify_bundle(device_sign_public, self.signed, self.signature)


def _content(gzipped: bytes) -> dict[str, Any]:
    """The content map: inflated with a limit (a zip bomb is refused while inflating), MessagePack, shallow."""
    try:
        packed = gunzip_limited(gzipped, MAX_CONTENT, whole=True)
    except ProtocolError as exc:
        if exc.code == "too-large":
            raise BundleError("too-large", f"the bundle's content inflates beyond {MAX_CONTENT} bytes") from None
        raise BundleError("invalid", "the bundle's content is not valid gzip") from None
    try:
        obj = msgpack.unpackb(packed, raw=False, strict_map_key=True, max_bin_len=MAX_CONTENT)
    except Exception:  # malformed MessagePack, too deep for the unpacker's stack
        raise BundleError("invalid", "the bundle's content is not MessagePack") from None
    if depth_over(obj, MAX_NESTING):
        raise BundleError("invalid", f"the bundle's content is nested deeper than {MAX_NESTING} levels")
    if not isinstance(obj, dict) or obj.get("v") != FORMAT:
        raise BundleError("invalid", "the bundle's content is not a version 1 map")
    return obj


# -- requests ----------------------------------------------------------------------------------------------------


def write_request(content: RequestContent, programme: str, server_box_public: bytes, key: DeviceKey) -> bytes:
    """A request bundle for ``programme``'s server, signed by ``key`` (the device's registered sign key)."""
    _check_request(content)
    push = [_dump(r.without_origin()) for r in content.push]
    obj: dict[str, Any] = {"v": FORMAT, "a": content.account, "d": content.device, "q": content.request}
    obj |= {"at": content.created_ms, "p": push, "l": content.budget}
    if content.cursor is not None:
        obj["c"] = content.cursor
    if content.grants_only:
        obj["g"] = 1
    if content.uploads:
        obj["u"] = [[p.sha, p.size, p.first, p.data] for p in content.uploads]
    if content.wants:
        obj["w"] = [[w.sha, w.size, w.first] for w in content.wants]
    gzipped = gzip_bytes(msgpack.packb(obj, use_bin_type=True))
    blob_bytes = sum(len(p.data) for p in content.uploads)
    return frame("request", programme, content.device, content.request, content.created_ms, len(content.push),
                  blob_bytes, gzipped, key, server_box_public)  # fmt: skip


def open_request(data: bytes, server: ServerKeys) -> OpenedRequest:
    """A request sealed to this server, with its content checked against the format. The signature is checked
    by the caller, who knows the device's registered key: ``opened.verify(sign_public)``."""
    header = read_header(data)
    if header.kind != "request":
        raise BundleError("not-for-me", "this is an answer bundle, for a device: a server opens only requests")
    signature, gzipped = unseal(
        data, header, server.box, "other-programme", "the bundle does not open with this server's key"
    )
    obj = _content(gzipped)
    try:
        content = _request_content(obj)
    except (KeyError, TypeError, ValueError, ValidationError):
        raise BundleError("invalid", "the request's content breaks the format") from None
    if content.device != header.device:
        raise BundleError("wrong-device", "the request's content names another device than its header")
    _check_request(content)
    _check_matches(header, content.request, content.created_ms, len(content.push), content.uploads)
    return OpenedRequest(header, content, signature, envelope.bundle_signed_input("request", header.raw, gzipped))


def _request_content(obj: dict[str, Any]) -> RequestContent:
    _only(obj, {"v", "a", "d", "q", "at", "p", "c", "g", "l", "u", "w"})
    push = [Record.model_validate(r) for r in _list(obj["p"])]
    if any(r.a is not None or r.d is not None for r in push):
        raise ValueError("pushed records carry no author")
    if obj.get("g", 1) != 1 or (obj.get("c") is not None and not is_uint(obj["c"], _MAX_CURSOR)):
        raise ValueError("bad cursor or grants flag")
    wants = [WantedBlob(*_fields(w, (str, int, int))) for w in _list(obj.get("w", []))]
    return RequestContent(
        account=obj["a"],
        device=obj["d"],
        request=obj["q"],
        created_ms=obj["at"],
        push=push,
        cursor=obj.get("c"),
        grants_only="g" in obj,
        budget=obj["l"],
        uploads=_pieces(obj.get("u", [])),
        wants=wants,
    )


def _check_request(c: RequestContent) -> None:
    ok = is_id16(c.account) and is_id16(c.device) and is_id16(c.request) and is_uint(c.created_ms, MAX_MS)
    if not ok or (c.cursor is not None and not is_uint(c.cursor, _MAX_CURSOR)):
        raise BundleError("invalid", "a request names its account, device, request id, time and cursor")
    if not (isinstance(c.budget, int) and MIN_BUDGET <= c.budget <= MAX_BUNDLE_BYTES):
        raise BundleError("invalid", f"a request's answer budget is {MIN_BUDGET} to {MAX_BUNDLE_BYTES} bytes")
    if len(c.push) > MAX_BUNDLE_RECORDS:
        raise BundleError("too-large", f"a sync bundle carries at most {MAX_BUNDLE_RECORDS} records")
    for piece in c.uploads:
        _check_piece(piece)
    for w in c.wants:
        if not (_SHA.match(w.sha) and is_uint(w.size, MAX_BLOB_BYTES + 1) and is_uint(w.first)):
            raise BundleError("invalid", "a wanted blob is named by its SHA-256, size and first chunk")
        if w.first * BLOB_CHUNK > w.size:
            raise BundleError("invalid", "a wanted blob's first chunk is beyond its end")


# -- answers -----------------------------------------------------------------------------------------------------


def write_answer(content: AnswerContent, request: Header, server: ServerKeys, device_box_public: bytes) -> bytes:
    """The answer to ``request``, signed by the server's bundle key and sealed to the device's box key."""
    if content.request != request.request:
        raise ValueError("an answer repeats its request's id")
    _check_answer(content)
    obj: dict[str, Any] = {"v": FORMAT, "q": content.request, "at": content.created_ms, "n": content.accepted}
    obj |= {"r": [_dump(r) for r in content.records], "m": content.more}
    if content.refused:
        obj["x"] = [[x.code, x.detail, list(x.ids)] for x in content.refused]
    for key, value in (("c0", content.from_cursor), ("c", content.cursor), ("w", content.waiting)):
        if value is not None:
            obj[key] = value
    if content.uploaded:
        obj["u"] = [[sha, done] for sha, done in content.uploaded]
    if content.blobs:
        obj["b"] = [[p.sha, p.size, p.first, p.data] for p in content.blobs]
    if content.unavailable:
        obj["e"] = list(content.unavailable)
    gzipped = gzip_bytes(msgpack.packb(obj, use_bin_type=True))
    blob_bytes = sum(len(p.data) for p in content.blobs)
    return frame("answer", request.programme, request.device, request.request, content.created_ms,
                  len(content.records), blob_bytes, gzipped, server, device_box_public)  # fmt: skip


def open_answer(
    data: bytes, box: BoxKey, server_sign_public: bytes, device: bytes, programme: str
) -> tuple[Header, AnswerContent]:
    """An answer for this device of this programme, opened with its box key and signed by its server: the
    signature is checked before anything is inflated."""
    header = read_header(data)
    if header.kind != "answer":
        raise BundleError("not-for-me", "this is a request bundle, for the server, not an answer")
    if header.programme != programme:
        raise BundleError("other-programme", "the answer belongs to another programme")
    if header.device != device:
        raise BundleError("wrong-device", "the answer is for another device")
    signature, gzipped = unseal(data, header, box, "not-for-me", "the answer does not open with this device's key")
    if not envelope.verify_bundle(
        server_sign_public, envelope.bundle_signed_input("answer", header.raw, gzipped), signature
    ):
        raise BundleError("bad-signature", "the answer is not signed by this programme's server")
    obj = _content(gzipped)
    try:
        content = _answer_content(obj)
    except (KeyError, TypeError, ValueError, ValidationError):
        raise BundleError("invalid", "the answer's content breaks the format") from None
    _check_answer(content)
    _check_matches(header, content.request, content.created_ms, len(content.records), content.blobs)
    return header, content


def _answer_content(obj: dict[str, Any]) -> AnswerContent:
    _only(obj, {"v", "q", "at", "n", "x", "r", "c0", "c", "m", "w", "u", "b", "e"})
    refused = []
    for item in _list(obj.get("x", [])):
        code, detail, ids = _fields(item, (str, str, list))
        refused.append(Refusal(code, detail, list(ids)))
    records = [Record.model_validate(r) for r in _list(obj["r"])]
    if any(r.a is None or r.d is None for r in records):
        raise ValueError("pulled records name their author")
    uploaded = [tuple(_fields(u, (str, bool))) for u in _list(obj.get("u", []))]
    unavailable = _list(obj.get("e", []))
    if not isinstance(obj["m"], bool) or not all(isinstance(s, str) for s in unavailable):
        raise ValueError("bad answer fields")
    return AnswerContent(
        request=obj["q"],
        created_ms=obj["at"],
        accepted=obj["n"],
        refused=refused,
        records=records,
        from_cursor=obj.get("c0"),
        cursor=obj.get("c"),
        more=obj["m"],
        waiting=obj.get("w"),
        uploaded=uploaded,  # type: ignore[arg-type]
        blobs=_pieces(obj.get("b", [])),
        unavailable=unavailable,
    )


def _check_answer(c: AnswerContent) -> None:
    cursors = (c.from_cursor, c.cursor, c.waiting)
    ok = is_id16(c.request) and is_uint(c.created_ms, MAX_MS) and is_uint(c.accepted, MAX_BUNDLE_RECORDS + 1)
    if not ok or not all(v is None or is_uint(v, _MAX_CURSOR) for v in cursors):
        raise BundleError("invalid", "an answer names its request, time, counts and cursors")
    if len(c.records) > MAX_BUNDLE_RECORDS:
        raise BundleError("too-large", f"a sync bundle carries at most {MAX_BUNDLE_RECORDS} records")
    if not all(is_id16(i) for x in c.refused for i in x.ids) or not all(_SHA.match(s) for s in c.unavailable):
        raise BundleError("invalid", "an answer's refusals name record ids and its missing blobs SHA-256s")
    if not all(_SHA.match(sha) and isinstance(done, bool) for sha, done in c.uploaded):
        raise BundleError("invalid", "an answer says of each upload its SHA-256 and whether it is complete")
    for piece in c.blobs:
        _check_piece(piece)


# -- shared checks -----------------------------------------------------------------------------------------------


def _check_piece(p: BlobPiece) -> None:
    """A piece starts at a chunk boundary and holds whole chunks; only the blob's last chunk may be short."""
    if not (
        _SHA.match(p.sha) and is_uint(p.size, MAX_BLOB_BYTES + 1) and is_uint(p.first) and isinstance(p.data, bytes)
    ):
        raise BundleError("invalid", "a blob piece names its SHA-256, size and first chunk")
    start, end = p.first * BLOB_CHUNK, p.first * BLOB_CHUNK + len(p.data)
    whole = len(p.data) % BLOB_CHUNK == 0 or end == p.size
    if not p.data or end > p.size or start >= p.size or not whole:
        raise BundleError("invalid", "a blob piece holds whole 64 KiB chunks of its blob, from a chunk boundary")


def _check_matches(header: Header, request: bytes, created_ms: int, records: int, pieces: list[BlobPiece]) -> None:
    """The clear header says what the sealed content holds: a header that lies is refused."""
    blob_bytes = sum(len(p.data) for p in pieces)
    if (request, created_ms, records, blob_bytes) != (header.request, header.created_ms, header.records,
                                                       header.blob_bytes):  # fmt: skip
        raise BundleError("invalid", "the bundle's header does not match its content")


def _pieces(items: Any) -> list[BlobPiece]:
    return [BlobPiece(*_fields(p, (str, int, int, bytes))) for p in _list(items)]


def _fields(item: Any, types: tuple[type, ...]) -> list[Any]:
    if not isinstance(item, list) or len(item) != len(types):
        raise ValueError("wrong number of fields")
    for value, kind in zip(item, types, strict=True):
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueError("wrong field type")
    return item


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError("not a list")
    return value


def _only(obj: dict[str, Any], keys: set[str]) -> None:
    if not set(obj) <= keys:
        raise ValueError("unknown keys")


def _dump(record: Record) -> dict[str, Any]:
    return record.model_dump(exclude_none=True, exclude_defaults=True)
