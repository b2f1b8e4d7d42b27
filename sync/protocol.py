"""Wire types of the Osler sync protocol (``sync/PROTOCOL.md``), shared by client and server.

One set of pydantic models describes both encodings: MessagePack on the wire (compact, binary-safe) and JSON
(for the OpenAPI contract and debugging, bytes as base64). Field names are the short keys of the spec.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import struct
import threading
import time
import zlib
from typing import Annotated, Any, Literal, TypeVar

import msgpack
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sync.clock import SYSTEM, Clock, now_ms

MEDIA_MSGPACK = "application/vnd.osler+msgpack"
MEDIA_JSON = "application/json"

MAX_WIRE_BYTES = 2 * 1024 * 1024
MAX_INFLATED_BYTES = 8 * 1024 * 1024
MAX_PUSH_RECORDS = 500
MAX_RECORD_BODY = 64 * 1024
MAX_AUDIENCE = 256
MAX_REPLACES = 500  # a record may replace this many of its author's earlier ones (PROTOCOL.md §4.4)
DEFAULT_PULL_BUDGET = 256 * 1024
MIN_PULL_BUDGET, MAX_PULL_BUDGET = 4 * 1024, 1024 * 1024
BLOB_CHUNK = 65_536
MAX_BLOB_BYTES = 512 * 1024 * 1024
GZIP_MIN_BYTES = 512
MAX_NESTING = 16  # a sync message nests 4 deep (request, push list, record, audience); anything deeper is hostile

CIRCLE_KINDS = frozenset({"circle-key", "circle-post", "circle-announce", "project", "circle-leave", "circle-card"})
SIGNED_KINDS = (
    frozenset(
        {"card", "material", "pack", "group-message", "epoch-grant", "introduction", "account-key", "programme-admin"}
    )
    | CIRCLE_KINDS
)
STATUS_KIND = "status"  # programme metadata for admins (PROTOCOL.md §3.4)
DELIVERED_KIND = "delivered"  # delivery marks, made by the server alone (PROTOCOL.md §4.5)
SERVER_ID = bytes(16)  # the author account and device of what the server itself makes
MARKED_KINDS = ("message", "group-message")  # the kinds whose delivery the server marks
ADMIN_KINDS = frozenset({"introduction", "programme-admin"})  # only admin accounts may push these (§3.4)
PUBLISHER_KINDS = frozenset({"material", "pack"})  # only mentor and admin accounts may push these (§7.1)
PUBLISHER_ROLES = frozenset({"mentor", "admin"})
MAX_STATUS_BODY = 512
KIND_PATTERN = r"^[a-z][a-z0-9-]{0,31}$"
_KIND = re.compile(KIND_PATTERN)
M = TypeVar("M", bound=BaseModel)

Id16 = Annotated[bytes, Field(min_length=16, max_length=16)]
Sig = Annotated[bytes, Field(min_length=64, max_length=64)]
Hlc = Annotated[int, Field(ge=0, lt=2**63)]
Cursor = Annotated[int, Field(ge=0, lt=2**63)]


class ProtocolError(Exception):
    """A request or answer that breaks the spec: ``status`` and ``code`` are those of PROTOCOL.md §8."""

    def __init__(self, status: int, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.extra = status, code, detail, extra


class _Wire(BaseModel):
    model_config = ConfigDict(
        extra="forbid", strict=True, ser_json_bytes="base64", val_json_bytes="base64", frozen=True
    )


class Record(_Wire):
    """A record as it travels. ``a``/``d`` are absent on push (the session implies them), present on pull."""

    i: Id16 = Field(description="record id, UUIDv7")
    k: str = Field(pattern=KIND_PATTERN, description="kind")
    a: Id16 | None = Field(default=None, description="author account (pull only)")
    d: Id16 | None = Field(default=None, description="author device (pull only)")
    t: list[Id16] | None = Field(default=None, max_length=MAX_AUDIENCE, description="audience; absent = programme")
    h: Hlc = Field(description="hybrid logical clock")
    x: bool = Field(default=False, description="tombstone")
    b: bytes = Field(max_length=MAX_RECORD_BODY, description="body")
    s: Sig | None = Field(default=None, description="Ed25519 signature by the author device")
    r: list[Id16] | None = Field(
        default=None, max_length=MAX_REPLACES, description="ids of the author's earlier records this one replaces"
    )

    def with_origin(self, author: bytes, device: bytes) -> Record:
        return self.model_copy(update={"a": author, "d": device})

    def without_origin(self) -> Record:
        return self.model_copy(update={"a": None, "d": None})


Hex32 = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]


class StatusBody(BaseModel):
    """The body of a ``status`` record (PROTOCOL.md §3.4): what a programme admin may know of a mentorship, and
    nothing else. Unknown fields are refused, so a client cannot leak content through it by mistake."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    e: Literal["request", "answer", "activity", "closed", "meeting-held"] = Field(description="what happened")
    r: Hex32 = Field(description="the request id (also the id of the mentorship it became)")
    at: int = Field(ge=0, lt=2**53, description="when, unix ms")
    s: Hex32 | None = Field(default=None, description="student account (request)")
    m: Hex32 | None = Field(default=None, description="mentor account (request)")
    by: Literal["student", "mentor"] | None = Field(default=None, description="who asked (request)")
    st: Literal["accepted", "declined"] | None = Field(default=None, description="the answer (answer)")


def request_id(student: str, mentor: str, by: str, at_ms: int) -> str:
    """The id of a request, derived from who asked whom and when: a status about a request is believed only
    when its id matches, so nobody can pass off a request as someone else's (PROTOCOL.md §3.4)."""
    text = f"{student}{mentor}{at_ms}" if by == "student" else f"offer{mentor}{student}{at_ms}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def parse_status(body: bytes) -> StatusBody:
    """A status body, or ProtocolError 422: JSON, at most 512 bytes, only the fields of ``StatusBody``."""
    if len(body) > MAX_STATUS_BODY:
        raise ProtocolError(422, "invalid", f"status bodies are limited to {MAX_STATUS_BODY} bytes")
    try:
        status = StatusBody.model_validate_json(body)
    except ValidationError:
        raise ProtocolError(422, "invalid", "a status body holds only the metadata of PROTOCOL.md §3.4") from None
    if status.e == "request" and (status.s is None or status.m is None or status.by is None):
        raise ProtocolError(422, "invalid", "a request status names its student, mentor and asker")
    if status.e == "answer" and status.st is None:
        raise ProtocolError(422, "invalid", "an answer status says accepted or declined")
    return status


def status_body(status: StatusBody) -> bytes:
    return status.model_dump_json(exclude_none=True).encode()


class SyncRequest(_Wire):
    v: int = Field(description="protocol version")
    p: list[Record] | None = Field(default=None, max_length=MAX_PUSH_RECORDS, description="push batch")
    c: Cursor | None = Field(default=None, description="pull after this cursor; absent = push only")
    l: int | None = Field(  # noqa: E741 - the spec's key
        default=None, ge=MIN_PULL_BUDGET, le=MAX_PULL_BUDGET, description="response byte budget"
    )
    g: int | None = Field(
        default=None, ge=0, le=1, description="1: leave out epoch-grant records with no entry for the caller (§4)"
    )


class SyncResponse(_Wire):
    v: int
    n: int = Field(ge=0, description="pushed records accepted")
    r: list[Record] | None = Field(default=None, description="inbound records, seq order")
    c: Cursor | None = Field(default=None, description="new cursor")
    m: bool = Field(default=False, description="more records waiting")
    w: int | None = Field(default=None, ge=0, description="with m: about how many records still wait")


# -- encoding ------------------------------------------------------------------------------------------------


def media_of(content_type: str | None) -> str:
    base = (content_type or "").split(";")[0].strip().lower()
    if base == MEDIA_MSGPACK:
        return MEDIA_MSGPACK
    if base in ("", MEDIA_JSON):
        return MEDIA_JSON
    raise ProtocolError(415, "bad-encoding", f"unsupported content type {base!r}")


def encode(model: BaseModel, media: str) -> bytes:
    if media == MEDIA_MSGPACK:
        return msgpack.packb(model.model_dump(exclude_none=True, exclude_defaults=True), use_bin_type=True)
    return model.model_dump_json(exclude_none=True, exclude_defaults=True).encode()


def parse_raw(data: bytes, media: str) -> Any:
    """The body as plain data, before any schema: a malformed body is a 400, one nested deeper than any message
    of this protocol (``MAX_NESTING``) a 422."""
    if media == MEDIA_MSGPACK:
        try:
            obj = msgpack.unpackb(data, raw=False, strict_map_key=True, max_bin_len=MAX_INFLATED_BYTES)
        except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
            raise ProtocolError(400, "bad-encoding", f"body is not MessagePack ({type(exc).__name__})") from None
        except RecursionError:
            raise _too_deep() from None
    else:
        try:
            obj = json.loads(data)
        except ValueError:
            raise ProtocolError(400, "bad-encoding", "body is not JSON") from None
        except RecursionError:  # the parser recurses per level: a deep body must not reach the 500 handler
            raise _too_deep() from None
    if depth_over(obj, MAX_NESTING):
        raise _too_deep()
    return obj


def _too_deep() -> ProtocolError:
    return ProtocolError(422, "invalid", f"body is nested deeper than {MAX_NESTING} levels")


def depth_over(obj: Any, limit: int) -> bool:
    """Whether ``obj`` nests lists or maps more than ``limit`` deep (iteratively: no recursion to exhaust)."""
    stack = [(obj, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def dump_raw(obj: Any, media: str) -> bytes:
    return msgpack.packb(obj, use_bin_type=True) if media == MEDIA_MSGPACK else json.dumps(obj).encode()


def decode(model: type[M], data: bytes, media: str) -> M:
    """Parse ``data``; a malformed body is a 400, a well-formed but invalid one a 422 with the reasons."""
    obj = parse_raw(data, media)
    try:
        if media == MEDIA_MSGPACK:
            return model.model_validate(obj)
        return model.model_validate_json(data)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()[:5]
        )
        raise ProtocolError(422, "invalid", reasons) from None


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def gunzip_limited(data: bytes, limit: int = MAX_INFLATED_BYTES, whole: bool = False) -> bytes:
    """Inflate at most ``limit`` bytes: a small compressed body cannot expand into a memory bomb. ``whole``:
    also refuse bytes after the gzip stream (a sync bundle's gzip part is exactly one stream)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        raise ProtocolError(400, "bad-encoding", "body is not valid gzip") from None
    if len(out) > limit:
        raise ProtocolError(413, "too-large", f"body inflates beyond {limit} bytes")
    if not inflater.eof:
        raise ProtocolError(400, "bad-encoding", "gzip body is truncated")
    if whole and inflater.unused_data:
        raise ProtocolError(400, "bad-encoding", "gzip body has bytes after its end")
    return out


# -- records -------------------------------------------------------------------------------------------------


def signature_input(record: Record, author: bytes, device: bytes) -> bytes:
    """The bytes an author device signs (PROTOCOL.md §3.1)."""
    kind = record.k.encode()
    audience = b"\xff\xff" if record.t is None else struct.pack(">H", len(record.t)) + b"".join(sorted(record.t))
    return b"".join(
        (
            b"osler-record-v1\0",
            record.i,
            bytes([len(kind)]),
            kind,
            author,
            device,
            struct.pack(">QB", record.h, 1 if record.x else 0),
            audience,
            hashlib.sha256(record.b).digest(),
        )
    )


def content_digest(record: Record, author: bytes, device: bytes) -> bytes:
    """What "the same content" means for idempotent pushes: every field, signature and replaced ids included."""
    replaces = b"osler-replaces\0" + b"".join(record.r) if record.r else b""
    return hashlib.sha256(signature_input(record, author, device) + (record.s or b"") + replaces).digest()


def new_record_id(now_ms: int | None = None, random_bytes: bytes | None = None) -> bytes:
    """A UUIDv7 (RFC 9562): 48-bit unix ms, version 7, 74 random bits. Time-ordered, so ids compress.
    ``random_bytes`` (10) makes it reproducible, for generated demo data."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms  # ids only order records; no decision reads them
    rand = bytearray(random_bytes if random_bytes is not None else os.urandom(10))
    rand[0] = 0x70 | (rand[0] & 0x0F)
    rand[2] = 0x80 | (rand[2] & 0x3F)
    return ms.to_bytes(6, "big") + bytes(rand)


class HybridClock:
    """Hybrid logical clock (Kulkarni et al.): wall-clock ms in the high 48 bits, a counter in the low 16, so
    causally later events always compare greater even when a laptop's clock is behind."""

    def __init__(self, last: int = 0, wall: Clock = SYSTEM) -> None:
        self._last = last
        self.wall = wall  # the injected wall clock: everything that decides by the time reads this one
        self._lock = threading.Lock()

    @property
    def last(self) -> int:
        return self._last

    def now(self) -> int:
        with self._lock:
            wall = now_ms(self.wall) << 16
            self._last = wall if wall > self._last else self._last + 1
            return self._last

    def observe(self, remote: int) -> None:
        """Move past a clock value seen in an inbound record."""
        with self._lock:
            if remote > self._last:
                self._last = remote


def check_kind(kind: str) -> bool:
    return bool(_KIND.match(kind))


def pack_record(record: Record) -> bytes:
    """A record as stored locally (MessagePack, the same fields as on the wire)."""
    return msgpack.packb(record.model_dump(exclude_none=True, exclude_defaults=True), use_bin_type=True)


def unpack_record(data: bytes) -> Record:
    return Record.model_validate(msgpack.unpackb(data, raw=False))
