"""An online sender's messages, sent one record each, reach someone who was away as one bundle (PROTOCOL.md
§4.4, desktop/domain/repack.py): the reader downloads fewer, larger records and still holds every message once,
in the order and with the times it was written. Real clients, a real server."""

from __future__ import annotations

import os

import pytest

from desktop.domain.repack import REPACK_AFTER_MS, repack
from desktop.vault.records import StoredRecord
from sync.clock import SYSTEM, ManualClock
from sync.protocol import HybridClock, Record, pack_record
from tests.clients import Client, acquainted, synced

LATER = REPACK_AFTER_MS + 60_000


@pytest.fixture
def online_mentor(client_factory):
    """A student and a mentor in one conversation; then the student goes away while the mentor, online, sends
    five messages and syncs after each one."""
    student, mentor = client_factory(), client_factory("mentor")
    mentor.clock = HybridClock(wall=ManualClock(SYSTEM.time()))  # the mentor's app, whose time the test moves
    acquainted(student, mentor)
    chat = mentor.messaging()
    thread = chat.start_direct(student.account.hex())
    chat.send(thread, "Welcome to the programme.")
    synced(mentor, student, student, mentor)  # the student has it, and the mentor has the student's receipt
    texts = [f"Note {i}: the district hospital enrolled {10 * i} patients with suspected sepsis." for i in range(5)]
    for text in texts:
        chat.send(thread, text)
        synced(mentor)
    return student, mentor, thread, texts


def _now(client: Client) -> int:
    return client.clock.now() >> 16


def _later(client: Client) -> int:
    """Half an hour and a minute on in the mentor's app; the time then."""
    wall = client.clock.wall
    wall.set(wall.time() + LATER / 1000)
    return _now(client)


def test_someone_away_gets_an_online_senders_messages_as_one_record(online_mentor):
    student, mentor, thread, texts = online_mentor
    written = {m.body: m.sent_at for m in mentor.vault.messages.in_thread(thread)}
    assert repack(mentor.messaging(), _now(mentor)) == 0  # sent moments ago: the reader may be about to take them
    assert repack(mentor.messaging(), _later(mentor)) == 5
    synced(mentor)
    assert not mentor.vault.records.by_state("outbox")

    pulled = student.engine().sync_once()
    assert pulled.records_down == 1  # one bundle instead of five records
    student.messaging().take_in()
    held = [m for m in student.vault.messages.in_thread(thread) if m.author == mentor.account.hex()]
    assert [m.body for m in held][-5:] == texts  # each once, in the order written
    assert all(abs(m.sent_at - written[m.body]) < 1000 for m in held if m.body in texts)  # and when, not later

    student.engine().sync_once()
    synced(mentor)  # the student's delivery receipt names the messages by their ids: they are delivered
    assert {m.state for m in mentor.vault.messages.in_thread(thread) if m.body in texts} == {"delivered"}
    assert repack(mentor.messaging(), _later(mentor)) == 0  # nothing is repacked twice


def test_a_reader_who_already_took_some_keeps_one_copy_of_each(online_mentor, client_factory):
    student, mentor, thread, texts = online_mentor
    student.engine().sync_once()  # took the five (not opened yet, so no receipt yet)
    assert repack(mentor.messaging(), _later(mentor)) == 5
    synced(mentor)
    synced(student)
    bodies = [m.body for m in student.vault.messages.in_thread(thread)]
    assert all(bodies.count(t) == 1 for t in texts)


def test_delivered_messages_are_not_repacked(online_mentor):
    student, mentor, _thread, _texts = online_mentor
    synced(student, student, mentor)  # the student took the five in and sent the receipt; the mentor has it
    assert repack(mentor.messaging(), _later(mentor)) == 0
    assert not mentor.vault.records.by_state("outbox")


def test_only_the_author_can_hide_records_by_replacing_them(client_factory):
    """The server honours a replacement only for the author's own records of the same kind and audience: a
    stranger, or the author with another audience, hides nothing."""
    alice, bob, reader = client_factory(), client_factory(), client_factory()
    original = alice.send(os.urandom(200), [reader.account])
    alice.engine().sync_once()
    clock = HybridClock()
    for forger, audience in ((bob, [reader.account]), (alice, [reader.account, bob.account])):
        forged = Record(i=os.urandom(16), k="message", t=audience, h=clock.now(), b=os.urandom(64), r=[original.i])
        stored = StoredRecord(forged.i.hex(), forged.k, forger.account.hex(), forged.h, pack_record(forged))
        forger.vault.records.enqueue(stored)
        assert forger.engine().sync_once().records_up == 1
    reader.engine().sync_once()
    assert original.i.hex() in {r.id for r in reader.vault.records.by_state("inbound")}
