"""Bytes near the compressed text (issue 11): receipts are watermarks, not lists of every message id, and the
message ids of a bundle are derived on both sides instead of travelling; records in the old formats still open."""

from __future__ import annotations

import msgpack
import pytest

from sync import envelope
from sync.protocol import unpack_record
from tests.clients import Client


def _sync(*clients: Client) -> None:
    for client in clients:
        client.engine().sync_once()
        client.messaging().take_in()


@pytest.fixture
def pair(client_factory):
    student, mentor = client_factory(), client_factory("mentor")
    student.publish_card("Amina Student")
    mentor.publish_card("Dr Kofi Mensah", role="mentor")
    _sync(student, mentor)
    _sync(student, mentor)
    return student, mentor


def _outbox(client: Client, kind: str) -> list[bytes]:
    return [r.wire for r in client.vault.records.by_state("outbox") if r.kind == kind]


def _opened(client: Client, wire: bytes) -> dict:
    record = unpack_record(wire)
    thread, epoch = envelope.envelope_epoch(record.b)
    key = client.vault.get_secret(f"epoch:{thread.hex()}:{epoch}")
    return msgpack.unpackb(envelope.open_sealed(key, record.i, record.k, record.b), raw=False)


def test_delivery_costs_the_reader_nothing_and_a_read_receipt_is_a_watermark(pair):
    student, mentor = pair
    chat = student.messaging()
    thread = chat.start_direct(mentor.account.hex())
    sent = [chat.send(thread, f"note {n}: the ward had {n} admissions") for n in range(100)]
    _sync(student)
    mentor.engine().sync_once()
    mentor.messaging().take_in()
    assert not mentor.vault.records.by_state("outbox"), "no delivery receipt: the next request's cursor says it"
    _sync(student)
    assert {student.vault.messages.get(m).state for m in sent} == {"sent"}  # the mentor has not said anything yet
    mentor.engine().sync_once()  # any request (here a sync with nothing to push) proves what the device holds
    _sync(student)
    assert {student.vault.messages.get(m).state for m in sent} == {"delivered"}
    later = chat.send(thread, "one more")
    _sync(student, mentor)
    assert mentor.messaging().mark_read(thread) == 101
    [receipt] = _outbox(mentor, "receipt")
    assert len(receipt) < 300, f"a read receipt for 101 messages costs {len(receipt)} B"
    _sync(mentor, student)
    assert {student.vault.messages.get(m).state for m in [*sent, later]} == {"read"}


def test_a_watermark_never_moves_messages_the_reader_has_not_got(pair):
    student, mentor = pair
    chat = student.messaging()
    thread = chat.start_direct(mentor.account.hex())
    first = chat.send(thread, "first")
    _sync(student, mentor, mentor, student)
    assert student.vault.messages.get(first).state == "delivered"
    waiting = chat.send(thread, "still in the outbox")
    assert mentor.messaging().mark_read(thread) == 1
    _sync(mentor, student)
    assert student.vault.messages.get(first).state == "read"
    assert student.vault.messages.get(waiting).state == "sent"  # pushed by this sync, not yet read


def test_receipts_in_the_old_list_format_still_move_messages(pair):
    student, mentor = pair
    chat = student.messaging()
    thread = chat.start_direct(mentor.account.hex())
    ids = [chat.send(thread, f"message {n}") for n in range(3)]
    _sync(student, mentor)
    reader = mentor.messaging()
    old = {"s": "read", "m": [bytes.fromhex(i) for i in ids[:2]]}  # as clients before watermarks wrote them
    with mentor.vault.transaction():
        reader._sealed_record(thread, "receipt", old, audience=[mentor.account.hex(), student.account.hex()])
    _sync(mentor, student)
    assert [student.vault.messages.get(i).state for i in ids] == ["read", "read", "delivered"]


def test_a_bundle_carries_no_message_ids_yet_both_sides_name_messages_alike(pair):
    student, mentor = pair
    chat = student.messaging()
    thread = chat.start_direct(mentor.account.hex())
    sent = [chat.send(thread, f"note {n}") for n in range(30)]  # each one re-bundles the waiting ones
    [bundle] = _outbox(student, "message")
    content = _opened(student, bundle)
    assert [item.get("i") for item in content["b"]] == [None] * 30
    _sync(student, mentor)
    assert [m.id for m in mentor.vault.messages.in_thread(thread)] == sent
    chat.edit(sent[7], "note 7, corrected")  # an edit names the id both sides derived
    _sync(student, mentor)
    assert mentor.vault.messages.get(sent[7]).body == "note 7, corrected"


def test_bundles_with_explicit_ids_still_open_and_a_waiting_one_takes_new_messages_along(pair):
    student, mentor = pair
    chat = student.messaging()
    thread = chat.start_direct(mentor.account.hex())
    chat.send(thread, "opens the thread")
    _sync(student)
    old_id = "ab" * 16
    item = {"i": bytes.fromhex(old_id), "x": "written before derived ids"}  # as an older client queued it
    with student.vault.transaction():
        record_id = chat._sealed_record(thread, "message", {"b": [item]})
        epoch, _ = chat._epoch(thread)
        bundles = chat._bundles()
        bundles[record_id] = {"thread": thread, "epoch": epoch, "items": [item], "size": 40}
        chat._save_bundles(bundles)
        from desktop.vault import StoredMessage

        student.vault.messages.put(StoredMessage(old_id, thread, student.account.hex(), 1, "queued", item["x"]))
    new = chat.send(thread, "written after the upgrade")
    _sync(student, mentor)
    held = {m.id: m.body for m in mentor.vault.messages.in_thread(thread)}
    assert held[old_id] == "written before derived ids" and held[new] == "written after the upgrade"
    assert student.vault.messages.get(old_id).state == "sent" and student.vault.messages.get(new).state == "sent"


def test_more_short_messages_than_a_reader_takes_from_one_bundle_all_arrive(pair):
    student, mentor = pair
    chat = student.messaging()
    thread = chat.start_direct(mentor.account.hex())
    sent = [chat.send(thread, f"ok {n}") for n in range(520)]  # tiny: 520 fit in 32 KiB, readers take 500
    assert len(set(sent)) == 520
    _sync(student, mentor)
    assert [m.id for m in mentor.vault.messages.in_thread(thread)] == sent


def test_a_week_of_writing_fills_records_not_32_kib_of_text_and_never_overflows_one(pair):
    import base64
    import random

    from tests.benchmarks.bench_messaging import varied_english

    student, mentor = pair
    chat = student.messaging()
    thread = chat.start_direct(mentor.account.hex())
    prose = varied_english(300, seed=4)  # ~120 KB of English: compresses to well under one record
    rng = random.Random(5)
    noise = [base64.b64encode(rng.randbytes(300)).decode() for _ in range(300)]  # ~120 KB that barely compresses
    sent = [chat.send(thread, text) for text in prose]
    assert len(_outbox(student, "message")) == 1, "one compression context for the week's prose"
    sent += [chat.send(thread, text) for text in noise]
    bodies = [len(unpack_record(wire).b) for wire in _outbox(student, "message")]
    assert max(bodies) <= 48 * 1024 and len(bodies) >= 3
    _sync(student, mentor)
    assert [m.id for m in mentor.vault.messages.in_thread(thread)] == sent
