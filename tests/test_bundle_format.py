"""The sync bundle file format (PROTOCOL.md §13.1): round trips, and every kind of bad file refused with its code.

Keys are made once per module (ML-KEM key generation is the slow part); every bundle is small.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import tracemalloc
import zlib

import msgpack
import pytest

from desktop.domain import content_packs
from desktop.domain.sync_adapter import Program
from sync import bundle, bundle_frame, envelope
from sync.bundle import (
    AnswerContent,
    BlobPiece,
    BundleError,
    Refusal,
    RequestContent,
    WantedBlob,
)
from sync.envelope import BoxKey, DeviceKey, ServerKeys
from sync.protocol import BLOB_CHUNK, Record, new_record_id

PROGRAMME = bundle.programme_id("https://osler.example.org/")
ACCOUNT, DEVICE = os.urandom(16), os.urandom(16)
AT = 1_796_094_900_000  # 2026-12-01T03:15:00Z


@pytest.fixture(scope="module")
def keys():
    return {
        "server": ServerKeys.generate(),
        "other_server": ServerKeys.generate(),
        "device": DeviceKey.generate(),
        "other_device": DeviceKey.generate(),
        "box": BoxKey.generate(),
        "other_box": BoxKey.generate(),
    }


def record(n: int, body: bytes = b"sealed body") -> Record:
    return Record(i=new_record_id(AT + n, bytes(10)), k="message", t=[os.urandom(16)], h=(AT + n) << 16, b=body)


def blob(size: int) -> tuple[str, bytes]:
    data = os.urandom(size)
    return hashlib.sha256(data).hexdigest(), data


def request_content(**changes) -> RequestContent:
    sha, data = blob(BLOB_CHUNK + 100)
    fields = dict(
        account=ACCOUNT,
        device=DEVICE,
        request=os.urandom(16),
        created_ms=AT,
        push=[record(n) for n in range(3)],
        cursor=41,
        grants_only=True,
        budget=bundle.DEFAULT_BUDGET,
        uploads=[BlobPiece(sha, len(data), 0, data)],
        wants=[WantedBlob("ab" * 32, 3 * BLOB_CHUNK, 1)],
    )
    return RequestContent(**(fields | changes))


def make_request(keys, content: RequestContent | None = None, server: str = "server", device: str = "device"):
    content = content or request_content()
    return bundle.write_request(content, PROGRAMME, keys[server].box_public, keys[device])


def answer_content(request: bytes, **changes) -> AnswerContent:
    sha, data = blob(2 * BLOB_CHUNK + 5)
    pulled = [record(n).with_origin(os.urandom(16), os.urandom(16)) for n in range(4)]
    fields = dict(
        request=request,
        created_ms=AT + 60_000,
        accepted=2,
        refused=[Refusal("forbidden", "the audience is not allowed", [os.urandom(16)])],
        records=pulled,
        from_cursor=41,
        cursor=97,
        more=True,
        waiting=12,
        uploaded=[("cd" * 32, True)],
        blobs=[BlobPiece(sha, len(data), 1, data[BLOB_CHUNK:])],
        unavailable=["ef" * 32],
    )
    return AnswerContent(**(fields | changes))


def make_answer(keys, content: AnswerContent | None = None, box: str = "box"):
    request = bundle.read_header(make_request(keys))
    content = content or answer_content(request.request)
    return bundle.write_answer(content, request, keys["server"], keys[box].public_bytes()), content


def open_answer(keys, data: bytes, box: str = "box"):
    return bundle.open_answer(data, keys[box], keys["server"].sign_public, DEVICE, PROGRAMME)


def refused(code: str, fn, *args) -> BundleError:
    with pytest.raises(BundleError) as caught:
        fn(*args)
    assert caught.value.code == code, (caught.value.code, caught.value.detail)
    assert caught.value.detail
    return caught.value


# -- round trips ---------------------------------------------------------------------------------------------


def test_a_request_round_trips_and_its_header_is_all_a_carrier_reads(keys):
    content = request_content()
    data = make_request(keys, content)
    header = bundle.read_header(data)
    assert data.startswith(bundle.MAGIC) and header.size == len(data)
    assert (header.kind, header.programme, header.device, header.request) == (
        "request",
        PROGRAMME,
        DEVICE,
        content.request,
    )
    assert (header.created_ms, header.records, header.blob_bytes) == (AT, 3, BLOB_CHUNK + 100)
    for secret in (content.push[0].b, content.uploads[0].data[:32], ACCOUNT):
        assert secret not in data  # sealed: a carrier sees none of it
    opened = bundle.open_request(data, keys["server"])
    assert opened.content == content and opened.header == header
    assert opened.verify(keys["device"].public_bytes())
    assert bundle.file_name(header) == f"osler-request-{DEVICE[:4].hex().upper()}-20261201T031500Z.oslersync"
    digits = DEVICE[:8].hex().upper()
    assert header.fingerprint() == f"{digits[:4]} {digits[4:8]} {digits[8:12]} {digits[12:]}"


def test_an_empty_push_only_request_round_trips(keys):
    content = request_content(push=[], cursor=None, grants_only=False, uploads=[], wants=[])
    opened = bundle.open_request(make_request(keys, content), keys["server"])
    assert opened.content == content and opened.header.records == 0


def test_an_answer_round_trips(keys):
    data, content = make_answer(keys)
    header, opened = open_answer(keys, data)
    assert opened == content
    assert (header.kind, header.device, header.records, header.request) == ("answer", DEVICE, 4, content.request)
    assert bundle.file_name(header).startswith("osler-answer-")


def test_programme_id_is_the_content_packs_one():
    credentials = type("C", (), {})()
    program = Program(server_url="https://Osler.example.org/", credentials=credentials, role="student")  # type: ignore[arg-type]
    assert content_packs.programme_id(program) == PROGRAMME
    expected = hashlib.sha256(b"osler-programme\0https://osler.example.org").hexdigest()[:32]
    assert expected == PROGRAMME
    demo = Program(server_url="http://127.0.0.1:5", credentials=credentials, role="student", demo=True)  # type: ignore[arg-type]
    assert content_packs.programme_id(demo) == bundle.programme_id("demo")


def test_server_keys_survive_their_private_bytes_and_never_show_them(keys):
    server = keys["server"]
    again = ServerKeys.from_private_bytes(server.private_bytes())
    assert (again.box_public, again.sign_public) == (server.box_public, server.sign_public)
    assert "secret" in repr(server) and server.private_bytes().hex() not in repr(server)
    with pytest.raises(ValueError):
        envelope.sign_bundle(server, "request", b"h", b"g")  # a server never signs a request
    with pytest.raises(ValueError):
        envelope.sign_bundle(keys["device"], "answer", b"h", b"g")


# -- damage ----------------------------------------------------------------------------------------------------


def test_a_changed_header_byte_is_refused(keys):
    data = make_request(keys)
    header = bundle.read_header(data)
    # in the header's length: the frame no longer adds up
    length_at = len(bundle.MAGIC) + 1
    bad = data[:length_at] + struct.pack(">H", len(header.raw) + 1) + data[length_at + 2 :]
    refused("damaged", bundle.read_header, bad)
    # in a value (the created time): the frame still reads, but the seal is bound to the header and fails
    where = data.index(struct.pack(">Q", AT)[2:])
    bad = data[:where] + bytes([data[where] ^ 1]) + data[where + 1 :]
    refused("other-programme", bundle.open_request, bad, keys["server"])


def test_a_changed_payload_byte_is_refused_anywhere(keys):
    data = make_request(keys)
    start = bundle.read_header(data).size - bundle.read_header(data).payload_size
    for at in (start, start + 500, start + 1200, len(data) - 1):
        bad = data[:at] + bytes([data[at] ^ 0x40]) + data[at + 1 :]
        refused("other-programme", bundle.open_request, bad, keys["server"])
    answer, _ = make_answer(keys)
    bad = answer[:-10] + bytes([answer[-10] ^ 1]) + answer[-9:]
    refused("not-for-me", open_answer, keys, bad)


def test_trailing_bytes_and_truncation_are_damage(keys):
    data = make_request(keys)
    refused("damaged", bundle.read_header, data + b"\0")
    header = bundle.read_header(data)
    for cut in (3, 10, 12, 20, bundle_frame.PREFIX + len(header.raw) - 1, bundle_frame.PREFIX + len(header.raw) + 7,
                len(data) // 2, len(data) - 1):  # fmt: skip
        refused("damaged", bundle.read_header, data[:cut])
    refused("not-a-bundle", bundle.read_header, b"")
    small = make_request(keys, request_content(push=[], uploads=[], wants=[]))
    for cut in range(1, len(small)):  # cut at every byte: always "damaged", before any key is used
        refused("damaged", bundle.read_header, small[:cut])


def test_not_a_bundle_newer_version_and_oversize(keys, monkeypatch):
    data = make_request(keys)
    refused("not-a-bundle", bundle.read_header, b"PK\x03\x04" + data[4:])
    refused("not-a-bundle", bundle.read_header, b"%PDF-1.7\n" * 4)
    newer = data[: len(bundle.MAGIC)] + bytes([2]) + data[len(bundle.MAGIC) + 1 :]
    refused("newer-version", bundle.read_header, newer)
    refused("too-large", bundle.read_header, bundle.MAGIC + b"\1" + bytes(bundle.MAX_BUNDLE_BYTES))
    monkeypatch.setattr(bundle_frame, "MAX_BUNDLE_BYTES", 1 << 20)  # a smaller limit: the same code, less memory
    sha, data = blob(2 << 20)  # random: it does not compress below the limit
    big = BlobPiece(sha, len(data), 0, data)
    refused("too-large", make_request, keys, request_content(uploads=[big], budget=bundle.MIN_BUDGET))  # not written


# -- keys ------------------------------------------------------------------------------------------------------


def test_a_request_sealed_to_another_server_does_not_open(keys):
    data = make_request(keys, server="other_server")
    refused("other-programme", bundle.open_request, data, keys["server"])


def test_a_request_signed_by_another_device_key_does_not_verify(keys):
    opened = bundle.open_request(make_request(keys, device="other_device"), keys["server"])
    assert not opened.verify(keys["device"].public_bytes())
    assert opened.verify(keys["other_device"].public_bytes())  # the key that signed it, not the registered one


def test_an_answer_for_another_device_or_programme_or_forged_is_refused(keys):
    answer, _ = make_answer(keys, box="other_box")
    refused("not-for-me", open_answer, keys, answer)  # opened with another device's box key
    answer, _ = make_answer(keys)
    refused("wrong-device", bundle.open_answer, answer, keys["box"], keys["server"].sign_public, os.urandom(16),
            PROGRAMME)  # fmt: skip
    refused("other-programme", bundle.open_answer, answer, keys["box"], keys["server"].sign_public, DEVICE,
            bundle.programme_id("https://elsewhere.example"))  # fmt: skip
    refused("bad-signature", bundle.open_answer, answer, keys["box"], keys["other_server"].sign_public, DEVICE,
            PROGRAMME)  # fmt: skip
    refused("not-for-me", open_answer, keys, make_request(keys))  # a request is not an answer
    refused("not-for-me", bundle.open_request, answer, keys["server"])  # nor an answer a request


# -- hostile content, sealed properly ------------------------------------------------------------------------------


def sealed_request(keys, gzipped: bytes, records: int = 0, blob_bytes: int = 0, request: bytes = b"q" * 16) -> bytes:
    """A request bundle around any gzip part, validly framed, signed and sealed (what a hostile device could
    make with the server's public key)."""
    return bundle_frame.frame("request", PROGRAMME, DEVICE, request, AT, records, blob_bytes, gzipped, keys["device"],
                         keys["server"].box_public)  # fmt: skip


def packed(obj) -> bytes:
    return gzip.compress(msgpack.packb(obj, use_bin_type=True), mtime=0)


def base(**changes):
    return {"v": 1, "a": ACCOUNT, "d": DEVICE, "q": b"q" * 16, "at": AT, "p": [], "l": bundle.MIN_BUDGET} | changes


def test_a_well_formed_hostile_request_opens_as_the_baseline(keys):
    opened = bundle.open_request(sealed_request(keys, packed(base())), keys["server"])
    assert opened.content.push == [] and opened.verify(keys["device"].public_bytes())


def _bomb(inflated: int) -> bytes:
    """A gzip stream inflating to ``inflated`` zero bytes, built without ever holding them: a full-flushed
    deflate block of 1 MiB of zeros repeats byte for byte."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(1 << 20)
    deflater.compress(zeros)
    deflater.flush(zlib.Z_FULL_FLUSH)
    deflater.compress(zeros)
    block = deflater.flush(zlib.Z_FULL_FLUSH)
    tail = deflater.flush()
    head = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return head + block * (inflated >> 20) + tail + struct.pack("<II", 0, inflated & 0xFFFFFFFF)


def test_a_gzip_bomb_is_refused_while_inflating_never_held_whole(keys):
    bomb = _bomb(4 << 30)  # 4 GiB of zeros in about 4 MiB
    assert len(bomb) < bundle.MAX_BUNDLE_BYTES
    data = sealed_request(keys, bomb)
    tracemalloc.start()
    try:
        refused("too-large", bundle.open_request, data, keys["server"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * bundle.MAX_CONTENT  # the limit (and its buffer while growing), never the 4 GiB


def test_content_that_breaks_the_format_is_invalid(keys):
    deep: list = []
    for _ in range(40):
        deep = [deep]
    sha, data = blob(3 * BLOB_CHUNK)
    cases = {
        "bad nesting": (base(p=deep), 0, 0),
        "not gzip": (None, 0, 0),
        "gzip then more": ("more", 0, 0),
        "unknown key": (base(z=1), 0, 0),
        "pushed with author": (base(p=[record(1).with_origin(ACCOUNT, DEVICE).model_dump(exclude_none=True)]), 1, 0),
        "budget too small": (base(l=1024), 0, 0),
        "piece off a chunk boundary": (base(u=[[sha, len(data), 0, data[: BLOB_CHUNK + 1]]]), 0, BLOB_CHUNK + 1),
        "piece past the end": (base(u=[[sha, len(data), 2, data[: 2 * BLOB_CHUNK]]]), 0, 2 * BLOB_CHUNK),
        "header lies about records": (base(), 5, 0),
        "header lies about blob bytes": (base(u=[[sha, len(data), 0, data]]), 0, 7),
    }
    for name, (obj, records, blob_bytes) in cases.items():
        if obj is None:
            gzipped = b"not gzip at all"
        elif obj == "more":
            gzipped = packed(base()) + b"junk"
        else:
            gzipped = packed(obj)
        with pytest.raises(BundleError) as caught:
            bundle.open_request(sealed_request(keys, gzipped, records, blob_bytes), keys["server"])
        assert caught.value.code == "invalid", name
    # the same pieces are refused when writing, before anything is sealed
    off = BlobPiece(sha, len(data), 0, data[: BLOB_CHUNK + 1])
    refused("invalid", make_request, keys, request_content(uploads=[off]))
    last = BlobPiece(sha, len(data), 1, data[BLOB_CHUNK:])  # two whole chunks to the end: fine
    assert bundle.open_request(make_request(keys, request_content(uploads=[last])), keys["server"])


def test_more_records_than_a_bundle_carries_are_refused(keys):
    many = [record(0)] * (bundle.MAX_BUNDLE_RECORDS + 1)
    refused("too-large", make_request, keys, request_content(push=many))
    # a header that claims too many is refused before the seal is touched
    data = sealed_request(keys, packed(base()))
    header = bundle.read_header(data)
    fields = msgpack.unpackb(header.raw) | {"n": bundle.MAX_BUNDLE_RECORDS + 1}
    raw = msgpack.packb(fields, use_bin_type=True)
    forged = bundle.MAGIC + b"\1" + struct.pack(">H", len(raw)) + raw + data[header.size - header.payload_size :]
    refused("too-large", bundle.read_header, forged)
    # and content that holds more than its (signed) header allows
    gzipped = packed(base(p=[record(0).model_dump(exclude_none=True)] * (bundle.MAX_BUNDLE_RECORDS + 1)))
    refused("too-large", bundle.open_request, sealed_request(keys, gzipped, 0), keys["server"])
