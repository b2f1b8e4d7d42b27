"""Sync bundle format overhead: ``make bench`` (or ``python -m tests.benchmarks.bench_bundle_format``).

Bytes only, no server: what the bundle frame (clear header, HPKE seal, signature) adds to a request, empty and
with 1,000 message-like records (each a sealed body of a ~200-character text, as messaging pushes them), against
the gzip of the same records as ``POST /v1/sync`` would push them and against the gzip of the texts themselves.
Then the answer carrying the same 1,000 records to the mentor. Times are for writing and opening, one process.
"""

from __future__ import annotations

import os
import random
import time

import msgpack

from sync import bundle, envelope
from sync.bundle import AnswerContent, RequestContent
from sync.envelope import BoxKey, DeviceKey, ServerKeys
from sync.protocol import Record, gzip_bytes, new_record_id
from tests.benchmarks.report import row

AT = 1_796_094_900_000
WORDS = (
    "the patient was seen on the ward round today and we discussed the plan for discharge with the team "
    "i will read the chapter on heart failure before our next meeting thank you for the notes on the case "
    "could we meet on thursday after the clinic to go over the presentation and the questions for the exam"
).split()


def _texts(count: int, rng: random.Random) -> list[bytes]:
    out = []
    for _ in range(count):
        words: list[str] = []
        while len(" ".join(words)) < 200:
            words.append(rng.choice(WORDS))
        out.append(" ".join(words).encode())
    return out


def _records(texts: list[bytes]) -> list[Record]:
    key, thread, mentor = envelope.new_epoch_key(), os.urandom(16), os.urandom(16)
    records = []
    for n, text in enumerate(texts):
        rid = new_record_id(AT + n)
        body = envelope.seal(key, 1, thread, rid, "message", msgpack.packb({"text": text}))
        records.append(Record(i=rid, k="message", t=[mentor], h=(AT + n) << 16, b=body))
    return records


def _request(records: list[Record], server: ServerKeys, device: DeviceKey) -> bytes:
    content = RequestContent(
        account=os.urandom(16),
        device=os.urandom(16),
        request=os.urandom(16),
        created_ms=AT,
        push=records,
        cursor=1234,
        grants_only=True,
        budget=bundle.DEFAULT_BUDGET,
        uploads=[],
        wants=[],
    )
    return bundle.write_request(content, bundle.programme_id("https://osler.example.org"), server.box_public, device)


def main() -> None:
    rng = random.Random(19)
    server, device, box = ServerKeys.generate(), DeviceKey.generate(), BoxKey.generate()
    empty = _request([], server, device)
    print("sync bundle format (PROTOCOL.md §13.1)")
    row("empty request bundle (whole file)", len(empty), "B", fmt=".0f")
    row("  of which clear header + frame", bundle.read_header(empty).size - bundle.read_header(empty).payload_size,
        "B", fmt=".0f")  # fmt: skip

    texts = _texts(1000, rng)
    records = _records(texts)
    started = time.perf_counter()
    request = _request(records, server, device)
    written = time.perf_counter() - started
    started = time.perf_counter()
    opened = bundle.open_request(request, server)
    opened_s = time.perf_counter() - started
    assert len(opened.content.push) == 1000
    sync_push = gzip_bytes(msgpack.packb({"v": 1, "p": [bundle._dump(r) for r in records]}, use_bin_type=True))
    plain = gzip_bytes(b"\n".join(texts))
    row("1,000 messages: request bundle", len(request), "B", fmt=".0f")
    row("1,000 messages: gzip of the same push (POST /v1/sync body)", len(sync_push), "B", fmt=".0f")
    row("1,000 messages: bundle overhead over the sync push", len(request) - len(sync_push), "B", fmt=".0f")
    row("1,000 messages: gzip of the texts alone", len(plain), "B", fmt=".0f")
    row("1,000 messages: bundle / gzip of the texts", len(request) / len(plain), "x", fmt=".2f")
    row("1,000 messages: write request", written * 1000, "ms", fmt=".1f")
    row("1,000 messages: open request", opened_s * 1000, "ms", fmt=".1f")

    author, author_device = os.urandom(16), os.urandom(16)  # one student wrote them all
    pulled = [r.with_origin(author, author_device) for r in records]
    header = bundle.read_header(request)
    content = AnswerContent(header.request, AT + 1, 1000, [], pulled, 1234, 2234, False, None, [], [], [])
    started = time.perf_counter()
    answer = bundle.write_answer(content, header, server, box.public_bytes())
    written = time.perf_counter() - started
    started = time.perf_counter()
    bundle.open_answer(answer, box, server.sign_public, header.device, header.programme)
    opened_s = time.perf_counter() - started
    row("1,000 messages: answer bundle", len(answer), "B", fmt=".0f")
    row("1,000 messages: write answer", written * 1000, "ms", fmt=".1f")
    row("1,000 messages: open answer", opened_s * 1000, "ms", fmt=".1f")


if __name__ == "__main__":
    main()
