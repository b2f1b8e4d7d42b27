"""The frame of a sync bundle (PROTOCOL.md §13.1): magic, version, the clear header, the sealed payload.

All a carrier or relay ever reads of a bundle is here (``read_header``); ``sync/bundle.py`` builds on it for the
content, which only the two ends open. Pure: bytes in, bytes out; every primitive is in ``sync/envelope.py``.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgpack

from sync import envelope
from sync.envelope import BoxKey, DeviceKey, EnvelopeError, ServerKeys

MAGIC = b"OSLERSYNC\n"
FORMAT = 1
MAX_BUNDLE_BYTES = 64 << 20
MAX_HEADER = 4096
MAX_BUNDLE_RECORDS = 10_000
BUNDLE_MEDIA = "application/vnd.osler.bundle"
SUFFIX = ".oslersync"
KINDS = ("request", "answer")
SIGNATURE_BYTES = envelope.BUNDLE_SIGNATURE_BYTES
PREFIX = len(MAGIC) + 3  # magic, format version (u8), header length (u16 BE)
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_HEADER_KEYS = frozenset({"v", "k", "p", "d", "q", "at", "n", "b", "z"})
MAX_MS = 2**53


class BundleError(Exception):
    """A bundle that cannot be read, opened or believed. ``code`` is for machines (PROTOCOL.md §13.1):
    not-a-bundle, damaged, too-large, newer-version, other-programme, wrong-device, bad-signature, not-for-me,
    invalid; ``detail`` an English sentence that never quotes content."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Header:
    """The clear header: all a carrier or relay ever reads of a bundle."""

    kind: str
    programme: str
    device: bytes
    request: bytes
    created_ms: int
    records: int
    blob_bytes: int
    payload_size: int
    raw: bytes

    def fingerprint(self) -> str:
        """The device id as a person compares it: its first 8 bytes as 4 groups of 4 upper-case hex digits."""
        digits = self.device[:8].hex().upper()
        return " ".join(digits[i : i + 4] for i in range(0, 16, 4))

    @property
    def size(self) -> int:
        return PREFIX + len(self.raw) + self.payload_size


def programme_id(server_url: str) -> str:
    """A programme's id, as bundles and content packs (§7.2) name it: derived from its server's address (a
    programme is its server; the demo's is ``demo``), 32 hex digits."""
    key = server_url.strip().rstrip("/").lower()
    return hashlib.sha256(b"osler-programme\0" + key.encode()).hexdigest()[:32]


def file_name(header: Header) -> str:
    """``osler-request-3F2A9C1B-20261201T031500Z.oslersync``: kind, device, and the UTC time it was made."""
    when = datetime.fromtimestamp(header.created_ms / 1000, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"osler-{header.kind}-{header.device[:4].hex().upper()}-{when}{SUFFIX}"


# -- the frame ---------------------------------------------------------------------------------------------------


def read_header(data: bytes) -> Header:
    """The clear header, after checking the frame: magic, format version, lengths, the header's shape, and that
    exactly the sealed payload follows. Not the seal: a carrier calls this too."""
    if not data or not data[: len(MAGIC)] == MAGIC[: min(len(data), len(MAGIC))]:
        raise BundleError("not-a-bundle", "this file is not an Osler sync bundle")
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError("too-large", f"a sync bundle is at most {MAX_BUNDLE_BYTES} bytes")
    if len(data) < PREFIX:
        raise BundleError("damaged", "the bundle is cut short")
    version = data[len(MAGIC)]
    if version > FORMAT:
        raise BundleError("newer-version", "the bundle was made by a newer version of Osler")
    (length,) = struct.unpack(">H", data[len(MAGIC) + 1 : PREFIX])
    if version < 1 or not 1 <= length <= MAX_HEADER:
        raise BundleError("damaged", "the bundle's header is damaged")
    if len(data) < PREFIX + length:
        raise BundleError("damaged", "the bundle is cut short")
    raw = data[PREFIX : PREFIX + length]
    header = _parse_header(raw)
    rest = len(data) - PREFIX - length
    if rest < header.payload_size:
        raise BundleError("damaged", "the bundle is cut short")
    if rest > header.payload_size:
        raise BundleError("damaged", "the bundle has bytes after its end")
    return header


def _parse_header(raw: bytes) -> Header:
    try:
        obj = msgpack.unpackb(raw, raw=False, strict_map_key=True)
    except Exception:  # msgpack raises several types for malformed input; all mean the same here
        raise BundleError("damaged", "the bundle's header is damaged") from None
    if not isinstance(obj, dict) or set(obj) != _HEADER_KEYS:
        raise BundleError("damaged", "the bundle's header is damaged")
    if obj["v"] != FORMAT:
        raise BundleError(
            "newer-version" if is_uint(obj["v"]) and obj["v"] > FORMAT else "damaged", "bad header version"
        )
    ok = (
        obj["k"] in KINDS
        and isinstance(obj["p"], str)
        and _HEX32.match(obj["p"])
        and is_id16(obj["d"])
        and is_id16(obj["q"])
        and is_uint(obj["at"], MAX_MS)
        and is_uint(obj["n"], MAX_BUNDLE_RECORDS + 1)
        and is_uint(obj["b"], MAX_BUNDLE_BYTES + 1)
        and is_uint(obj["z"], MAX_BUNDLE_BYTES + 1)
        and obj["z"] > SIGNATURE_BYTES
    )
    if not ok:
        if is_uint(obj["n"]) and obj["n"] > MAX_BUNDLE_RECORDS:
            raise BundleError("too-large", f"a sync bundle carries at most {MAX_BUNDLE_RECORDS} records")
        raise BundleError("damaged", "the bundle's header is damaged")
    return Header(obj["k"], obj["p"], obj["d"], obj["q"], obj["at"], obj["n"], obj["b"], obj["z"], raw)


def is_uint(value: Any, below: int = 2**64) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < below


def is_id16(value: Any) -> bool:
    return isinstance(value, bytes) and len(value) == 16


def frame(kind: str, programme: str, device: bytes, request: bytes, created_ms: int, records: int,
           blob_bytes: int, gzipped: bytes, signer: DeviceKey | ServerKeys, box_public: bytes) -> bytes:  # fmt: skip
    """Sign and seal ``gzipped`` under a header made of the other arguments; the payload's size is known before
    sealing (HPKE adds a fixed overhead), so the header can name it and be bound into the seal."""
    size = envelope.BUNDLE_SEAL_OVERHEAD + SIGNATURE_BYTES + len(gzipped)
    fields = {"v": FORMAT, "k": kind, "p": programme, "d": device, "q": request, "at": created_ms}
    fields |= {"n": records, "b": blob_bytes, "z": size}
    raw = msgpack.packb(fields, use_bin_type=True)
    if len(raw) > MAX_HEADER:
        raise BundleError("invalid", "the bundle's header is too long")
    signature = envelope.sign_bundle(signer, kind, raw, gzipped)
    sealed = envelope.seal_bundle(box_public, kind, raw, signature + gzipped)
    assert len(sealed) == size
    data = MAGIC + bytes([FORMAT]) + struct.pack(">H", len(raw)) + raw + sealed
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError("too-large", f"a sync bundle is at most {MAX_BUNDLE_BYTES} bytes")
    return data


def unseal(data: bytes, header: Header, box: BoxKey, code: str, what: str) -> tuple[bytes, bytes]:
    """The signature and the gzip part of a bundle's sealed payload."""
    try:
        plain = envelope.open_bundle(data[header.size - header.payload_size :], box, header.kind, header.raw)
    except EnvelopeError:
        raise BundleError(code, what) from None
    if len(plain) <= SIGNATURE_BYTES:
        raise BundleError("invalid", "the bundle's payload is empty")
    return plain[:SIGNATURE_BYTES], plain[SIGNATURE_BYTES:]
