"""Delivery marks (PROTOCOL.md §4.5): a reader sends no delivery receipt; the cursor its device sends with any
request proves what it holds, and the server tells the author. Real clients, a real server."""

from __future__ import annotations

import os

import msgpack
import pytest

from desktop.vault.records import StoredRecord
from sync import PROTOCOL_VERSION
from sync.protocol import DELIVERED_KIND, HybridClock, Record, SyncRequest, pack_record
from tests.clients import acquainted, synced


@pytest.fixture
def conversation(client_factory):
    student, mentor = client_factory(), client_factory("mentor")
    acquainted(student, mentor)
    chat = student.messaging()
    thread = chat.start_direct(mentor.account.hex())
    return student, mentor, chat, thread


def test_the_readers_held_wait_is_enough_to_mark_delivery(conversation):
    """Live delivery on: the reader's wait, which starts right after its sync, carries the cursor: the author
    sees "delivered" without the reader sending anything else."""
    student, mentor, chat, thread = conversation
    first = chat.send(thread, "Could we meet on Thursday?")
    synced(student, mentor)
    assert not mentor.vault.records.by_state("outbox")
    synced(student)
    assert student.vault.messages.get(first).state == "sent"
    engine = mentor.engine()
    assert engine.authorized(lambda token: engine.transport.wait(mentor.cursor(), 0, token)) is False
    synced(student)
    assert student.vault.messages.get(first).state == "delivered"


def test_a_cursor_beyond_what_exists_marks_nothing_sent_later(conversation):
    student, mentor, chat, thread = conversation
    chat.send(thread, "opening")
    synced(student, mentor)
    engine = mentor.engine()
    ahead = SyncRequest(v=PROTOCOL_VERSION, c=2**62)
    engine.authorized(lambda token: engine.transport.sync(ahead, token))
    later = chat.send(thread, "written after the mentor's claim")
    synced(student)
    synced(student)
    assert student.vault.messages.get(later).state == "sent"  # the mentor's device has not got it
    synced(mentor, mentor, student)  # the mentor's device pulls it, then its next request says so
    assert student.vault.messages.get(later).state == "delivered"


def test_nobody_but_the_server_makes_delivery_marks(conversation):
    """A forged mark is refused (403; the client sets it aside as rejected) and the author's message stays
    "sent"."""
    student, mentor, chat, thread = conversation
    sent = chat.send(thread, "hello")
    synced(student)
    record_id = student.vault.records.by_state("sent")[-1].id
    body = msgpack.packb({"r": mentor.account, "i": bytes.fromhex(record_id)})
    forged = Record(i=os.urandom(16), k=DELIVERED_KIND, t=[student.account], h=HybridClock().now(), b=body)
    mentor.vault.records.enqueue(
        StoredRecord(forged.i.hex(), forged.k, mentor.account.hex(), forged.h, pack_record(forged))
    )
    mentor.engine().sync_once()
    assert [r.id for r in mentor.vault.records.by_state("rejected")] == [forged.i.hex()]  # refused for good
    synced(student)
    assert student.vault.messages.get(sent).state == "sent"
