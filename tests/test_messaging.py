"""End-to-end encrypted conversations between real clients through a real server: what each person sees, and
what the server (or anyone who is not a member) can never see."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from desktop.domain.messaging import MissingKeys, direct_thread_id
from tests.clients import Client

STEADY_SERVER = True  # its servers and clients share a clock on a fixed day (tests/conftest.py)


def _sync(*clients: Client) -> None:
    for client in clients:
        client.engine().sync_once()
        client.messaging().take_in()


@pytest.fixture
def people(client_factory):
    student, mentor, outsider = client_factory(), client_factory("mentor"), client_factory()
    student.publish_card("Amina Student")
    mentor.publish_card("Dr Kofi Mensah", role="mentor")
    outsider.publish_card("Somebody Else")
    _sync(student, mentor, outsider)
    _sync(student, mentor, outsider)  # everyone now has everyone's card
    return student, mentor, outsider


def test_a_conversation_with_states_and_receipts(people):
    student, mentor, outsider = people
    chat = student.messaging()
    thread = chat.start_direct(mentor.account.hex())
    assert thread == direct_thread_id(mentor.account.hex(), student.account.hex())
    first = chat.send(thread, "Could you look at my abstract before Friday?")
    assert student.vault.messages.get(first).state == "queued"
    _sync(student)
    assert student.vault.messages.get(first).state == "sent"
    _sync(mentor)
    seen = mentor.vault.messages.in_thread(thread)
    assert [(m.body, m.state, m.author) for m in seen] == [
        ("Could you look at my abstract before Friday?", "received", student.account.hex())
    ]
    _sync(mentor, student)  # the mentor's device returns a delivery receipt
    assert student.vault.messages.get(first).state == "delivered"
    [listed] = mentor.messaging().threads()
    assert listed.unread == 1 and listed.last.body == "Could you look at my abstract before Friday?"
    assert mentor.messaging().mark_read(thread) == 1
    assert mentor.messaging().threads()[0].unread == 0
    reply = mentor.messaging().send(thread, "Yes, send it over. Merci !")
    _sync(mentor, student)
    assert student.vault.messages.get(first).state == "read"
    assert [m.body for m in student.vault.messages.in_thread(thread)] == [
        "Could you look at my abstract before Friday?",
        "Yes, send it over. Merci !",
    ]
    assert reply in {m.id for m in student.vault.messages.in_thread(thread)}
    _sync(outsider)
    assert outsider.vault.messages.count() == 0 and outsider.vault.threads.all() == []


def test_group_threads_reach_every_member(people):
    student, mentor, outsider = people
    group = mentor.messaging().start_group("Sepsis paper", [student.account.hex(), outsider.account.hex()])
    mentor.messaging().send(group, "Kick-off call on Monday?")
    _sync(mentor, student, outsider)
    for member in (student, outsider):
        assert [m.body for m in member.vault.messages.in_thread(group)] == ["Kick-off call on Monday?"]
        assert member.messaging().thread(group)["title"] == "Sepsis paper"


def test_writing_to_someone_without_keys_says_so(client_factory, people):
    student, _mentor, _outsider = people
    silent = client_factory()
    _sync(silent)
    thread = student.messaging().start_direct(silent.account.hex())
    with pytest.raises(MissingKeys) as caught:
        student.messaging().send(thread, "hello?")
    assert caught.value.accounts == [silent.account.hex()]


def test_the_server_never_sees_a_word(people, server, caplog, tmp_path: Path):
    student, mentor, _outsider = people
    canaries = [f"CANARY-{n:03d}-haemoptysis" for n in range(100)]
    with caplog.at_level(logging.DEBUG):
        chat = student.messaging()
        thread = chat.start_direct(mentor.account.hex())
        for canary in canaries:
            chat.send(thread, f"patient note {canary}")
        _sync(student, mentor)
    assert len(mentor.vault.messages.in_thread(thread)) == 100
    server_bytes = b"".join(p.read_bytes() for p in Path(server.data_dir).rglob("*") if p.is_file())
    vault_bytes = b"".join(p.read_bytes() for p in Path(student.vault.folder).rglob("*") if p.is_file())
    for canary in canaries:
        assert canary.encode() not in server_bytes, "no plaintext in the server's database, WAL or blobs"
        assert canary.encode() not in vault_bytes, "the vault keeps messages sealed at rest"
        assert canary not in caplog.text, "nor in any log"


def test_tampered_replayed_or_misaddressed_records_show_nothing(people, server):
    from sync import PROTOCOL_VERSION
    from sync.protocol import SyncRequest, unpack_record

    student, mentor, outsider = people
    thread = student.messaging().start_direct(mentor.account.hex())
    student.messaging().send(thread, "for the mentor only")
    _sync(student)
    sent = [unpack_record(r.wire) for r in student.vault.records.by_state("sent") if r.kind == "message"][-1]
    # The outsider re-sends the sealed body as their own record to themselves: it opens for nobody.
    engine = outsider.engine()
    token = engine._token_value(engine.transport)
    copy = sent.model_copy(update={"i": bytes(reversed(sent.i)), "t": [outsider.account], "s": None})
    engine.transport.sync(SyncRequest(v=PROTOCOL_VERSION, p=[copy]), token)
    flipped = sent.model_copy(
        update={"i": bytes(16), "b": sent.b[:-1] + bytes([sent.b[-1] ^ 1]), "t": [mentor.account]}
    )
    engine.transport.sync(SyncRequest(v=PROTOCOL_VERSION, p=[flipped]), token)
    # Replaying the student's original push changes nothing (same id, same content).
    student_engine = student.engine()
    student_engine.transport.sync(
        SyncRequest(v=PROTOCOL_VERSION, p=[sent]), student_engine._token_value(student_engine.transport)
    )
    mentor.engine().sync_once()
    mentor_chat = mentor.messaging()
    mentor_chat.take_in()
    assert [m.body for m in mentor.vault.messages.in_thread(thread)] == ["for the mentor only"]
    assert mentor_chat.refused == 1, "the altered copy is counted and reported, never shown"
    _sync(outsider)
    assert outsider.vault.messages.count() == 0


def test_attachments_travel_sealed_small_ones_arrive_by_themselves(people, server, tmp_path: Path):
    from desktop.domain.session import Session
    from desktop.domain.settings import SettingsStore

    student, mentor, _outsider = people
    sessions = {
        c.account: Session(c.vault, tmp_path / name, SettingsStore(tmp_path / f"{name}.json"))
        for c, name in ((student, "s"), (mentor, "m"))
    }
    try:
        cv = tmp_path / "cv.txt"
        cv.write_bytes(b"CANARY-ATTACH curriculum vitae\n" * 2000)  # 62 KB: small, comes by itself
        thesis = tmp_path / "thesis.pdf"
        thesis.write_bytes(b"CANARY-THESIS " + bytes(range(256)) * 2000)  # 512 KB: waits to be asked for
        chat = sessions[student.account].messaging
        thread = chat.start_direct(mentor.account.hex())
        with_cv = chat.send(thread, "My CV", attachment=cv)
        with_thesis = chat.send(thread, "", attachment=thesis)
        sessions[student.account].engine.sync_once()
        assert [e["state"] for _, e in sorted(chat.attachments().items())] == ["uploaded", "uploaded"]
        sessions[mentor.account].engine.sync_once()
        theirs = sessions[mentor.account].messaging
        assert theirs.attachment(with_cv)["state"] == "downloaded"
        assert theirs.attachment(with_thesis)["state"] == "remote"
        sessions[mentor.account].download_attachment(with_thesis)
        entry = theirs.attachment(with_thesis)
        assert entry["state"] == "downloaded" and mentor.vault.blobs.read_all(entry["plain"]) == thesis.read_bytes()
        assert mentor.vault.blobs.read_all(theirs.attachment(with_cv)["plain"]) == cv.read_bytes()
        server_bytes = b"".join(p.read_bytes() for p in Path(server.data_dir).rglob("*") if p.is_file())
        mentor_bytes = b"".join(p.read_bytes() for p in (tmp_path / "m").rglob("*") if p.is_file())
        vault_bytes = b"".join(p.read_bytes() for p in mentor.vault.folder.rglob("*") if p.is_file())
        for canary in (b"CANARY-ATTACH", b"CANARY-THESIS"):
            assert canary not in server_bytes and canary not in mentor_bytes and canary not in vault_bytes
        too_big = tmp_path / "video.mp4"
        with too_big.open("wb") as handle:
            handle.truncate(26 * 1024 * 1024)
        with pytest.raises(ValueError):
            chat.send(thread, "too big", attachment=too_big)
    finally:
        for session in sessions.values():
            session.stop()


def test_edits_and_deletions_reach_the_other_side_and_only_authors_may_make_them(people):
    student, mentor, _outsider = people
    chat = student.messaging()
    thread = chat.start_direct(mentor.account.hex())
    typo = chat.send(thread, "See you on Tursday")
    oops = chat.send(thread, "wrong thread, sorry")
    _sync(student, mentor)
    chat.edit(typo, "See you on Thursday")
    chat.delete(oops)
    _sync(student, mentor)
    bodies = {m.id: m.body for m in mentor.vault.messages.in_thread(thread)}
    assert bodies == {typo: "See you on Thursday", oops: ""}
    assert mentor.messaging().marks() == {typo: "edited", oops: "deleted"}
    with pytest.raises(ValueError):
        mentor.messaging().edit(typo, "I rewrite your words")


def test_a_new_epoch_on_membership_change_and_after_a_month(people):
    student, mentor, outsider = people
    chat = mentor.messaging()
    group = chat.start_group("Journal club", [student.account.hex()])
    chat.send(group, "first")
    first_epoch = chat.thread(group)["current"]
    chat.send(group, "second")
    assert chat.thread(group)["current"] == first_epoch, "the same epoch while nothing changed"
    meta = chat.thread(group)
    meta["members"] = sorted({*meta["members"], outsider.account.hex()})
    mentor.vault.threads.put(group, meta)
    chat.send(group, "welcome, newcomer")
    second_epoch = chat.thread(group)["current"]
    assert second_epoch != first_epoch, "a member joined: new key"
    meta = chat.thread(group)
    meta["epoch_started"] -= 31 * 24 * 3600 * 1000
    mentor.vault.threads.put(group, meta)
    chat.send(group, "a month later")
    assert chat.thread(group)["current"] not in (first_epoch, second_epoch)
    assert mentor.vault.get_secret(f"epoch:{group}:{first_epoch}") is None, "keys two epochs old are dropped"
    assert mentor.vault.get_secret(f"epoch:{group}:{second_epoch}") is not None, "the previous one stays a while"
    _sync(mentor, student, outsider)
    assert [m.body for m in outsider.vault.messages.in_thread(group)] == ["welcome, newcomer", "a month later"]
    assert len(student.vault.messages.in_thread(group)) == 4
    assert student.vault.get_secret(f"epoch:{group}:{first_epoch}") is None, "dropped once its messages were in"


def test_messages_written_offline_travel_as_one_bundle(people):
    student, mentor, _outsider = people
    chat = student.messaging()
    thread = chat.start_direct(mentor.account.hex())
    chat.send(thread, "opening the thread")
    _sync(student)
    before = student.vault.records.outbox_totals()[0]
    ids = [chat.send(thread, f"offline note {n}") for n in range(5)]
    assert student.vault.records.outbox_totals()[0] == before + 1, "five messages, one record"
    _sync(student, mentor)
    assert [m.body for m in mentor.vault.messages.in_thread(thread)][-5:] == [f"offline note {n}" for n in range(5)]
    assert {student.vault.messages.get(i).state for i in ids} == {"sent"}
    _sync(mentor, student)
    assert {student.vault.messages.get(i).state for i in ids} == {"delivered"}


def test_a_group_message_relabelled_as_another_members_is_refused(people):
    """A member who colludes with the server can seal for the group, but cannot sign as someone else."""
    import msgpack

    from desktop.vault.records import StoredRecord
    from sync import envelope
    from sync.protocol import Record, new_record_id, pack_record

    student, mentor, outsider = people
    group = mentor.messaging().start_group("Study group", [student.account.hex(), outsider.account.hex()])
    mentor.messaging().send(group, "real message from the mentor")
    _sync(mentor, student, outsider)
    _sync(mentor, student, outsider)
    assert len({c.messaging().thread(group)["current"] for c in (mentor, student, outsider)}) == 1, (
        "receipts travel in the sender's epoch: receiving never starts a new one"
    )
    meta = outsider.messaging().thread(group)
    epoch = meta["current"]
    key = outsider.vault.get_secret(f"epoch:{group}:{epoch}")
    record_id = new_record_id()
    body = envelope.seal(key, epoch, bytes.fromhex(group), record_id, "group-message", msgpack.packb({"x": "forged"}))
    mentor_device = mentor.program.credentials.device
    forged = Record(i=record_id, k="group-message", a=mentor.account, d=mentor_device, t=None, h=1, b=body)
    forged = outsider.program.credentials.key.sign_record(forged, mentor.account, mentor_device)
    student.vault.records.apply_inbound(
        student.server_url,
        [StoredRecord(record_id.hex(), "group-message", mentor.account.hex(), 1, pack_record(forged), "inbound")],
        student.cursor(),
    )
    chat = student.messaging()
    chat.take_in()
    assert [m.body for m in student.vault.messages.in_thread(group)] == ["real message from the mentor"]
    assert chat.refused == 1


def test_the_server_never_sees_a_group_title(people, server):
    """The server routes by account ids (it must); the group's title travels sealed under the epoch key."""
    student, mentor, outsider = people
    title = "CANARY-GROUP-TITLE Dr Mensah's sepsis cohort"
    group = mentor.messaging().start_group(title, [student.account.hex(), outsider.account.hex()])
    mentor.messaging().send(group, "Kick-off call on Monday?")
    _sync(mentor, student, outsider)
    for member in (student, outsider):
        assert member.messaging().thread(group)["title"] == title
    server_bytes = b"".join(p.read_bytes() for p in Path(server.data_dir).rglob("*") if p.is_file())
    assert b"CANARY-GROUP-TITLE" not in server_bytes, "no group title in the server's database, log or blobs"


def test_grants_from_before_sealed_titles_still_open(people):
    """An older Osler put the title in clear in the grant; those grants keep working."""
    import secrets

    import msgpack

    from sync import envelope

    student, mentor, _outsider = people
    thread, epoch, key = secrets.token_bytes(16), 5, envelope.new_epoch_key()
    known = mentor.messaging().peers()
    members = sorted([mentor.account.hex(), student.account.hex(), _outsider.account.hex()])
    grants = {
        known[m].device: envelope.grant_epoch(
            key, known[m].box, thread, epoch, bytes.fromhex(m), bytes.fromhex(known[m].device)
        )
        for m in members
    }
    body = msgpack.packb({"t": thread, "e": epoch, "m": members, "n": "Journal club", "g": grants}, use_bin_type=True)
    mentor.send(body, [bytes.fromhex(m) for m in members], kind="epoch-grant", signed=True)
    _sync(mentor, student)
    assert student.messaging().thread(thread.hex())["title"] == "Journal club"
