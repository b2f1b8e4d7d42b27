"""Sync without the internet, end to end with real processes (issue 19): a student device that never opens a
connection after joining reaches its mentor on a USB stick, and the mentor's reply comes back the same way; a
relay chain (device → classmate's Osler → clinic's edge relay → server) delivers everything exactly once, even
when requests are carried twice and answers imported twice or out of order.

The server is a real ``osler-server serve`` process, the edge relay a real ``osler-server serve --relay-for``
process, the coordinator's import a real ``osler-server import-bundle`` process, and the student's every step a
child process in which any network connection raises (tests/bundle_processes.py).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.bundle_processes import EdgeRelay, Offline, go_offline, import_bundle, joined, server_record_ids, session_of
from tests.clients import synced
from tests.servers import ProcessServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = ProcessServer(tmp_path_factory.mktemp("bundle-server") / "data").start()
    yield running
    running.stop()


def texts_from(state: dict, author: str) -> Counter:
    return Counter(body for _id, who, body in state["messages"] if who == author)


def mentor_texts(mentor_session, student: Offline) -> Counter:
    return Counter(m.body for m in mentor_session.vault.messages.iter_all() if m.author == student.account)


def mentor_sync(mentor_session) -> None:
    mentor_session.engine.sync_once()
    mentor_session.messaging.take_in()


def carry_and_answer(classmate, request: Path, usb: Path) -> Path:
    """A classmate's Osler takes the request from the stick, relays it, and writes the answer back to the stick."""
    taken = classmate.bundles.import_file(request)
    assert taken.state == "waiting" and taken.records >= 0, taken
    assert classmate.carry.relay() >= 1
    answers = classmate.carry.export_answers(usb)
    assert len(answers) == 1, answers
    return answers[0]


def test_an_offline_student_reaches_the_mentor_by_usb_and_the_reply_comes_back(server, tmp_path: Path):
    student = joined(tmp_path / "student", server, "Amina Student")
    mentor = joined(tmp_path / "mentor", server, "Dr Kofi Mensah", role="mentor")
    classmate = joined(tmp_path / "classmate", server, "Bola Classmate")
    synced(student, mentor, classmate, student, mentor, classmate)
    offline = go_offline(student, tmp_path / "student-data")  # from here on it never opens a connection
    mentor_session = session_of(mentor, tmp_path / "mentor-data")
    carrier = session_of(classmate, tmp_path / "classmate-data")
    usb = tmp_path / "usb"
    try:
        scan = tmp_path / "scan.txt"
        scan.write_bytes(b"ECG scan, lead II\n" * 400)
        question = "Dr Mensah, the ward round question: is this rhythm a flutter?"
        sent = offline.send(mentor.account.hex(), question, scan)
        before = offline.state()
        assert before["outbox"], "the question waits in the outbox"

        # round trip 1: the question and its attachment go out on the stick; the answer confirms them
        request = offline.export(usb)
        assert request.parent == usb and request.name.endswith(".oslersync")
        answer = carry_and_answer(carrier, request, usb)
        applied = offline.import_file(answer)
        assert applied["refused"] == 0, applied
        after = offline.state()
        assert "message" not in after["outbox_kinds"]  # (upkeep after the import may queue a keyring: new work)
        assert not set(before["outbox"]) & set(after["outbox"]), "every record the stick carried was accepted"
        assert after["attachments"][sent["id"]] == "uploaded"
        assert after["cursor"] >= before["cursor"]

        mentor_sync(mentor_session)
        assert mentor_texts(mentor_session, offline) == Counter({question: 1})
        mentor_session.download_attachment(sent["id"])
        entry = mentor_session.messaging.attachment(sent["id"])
        assert entry["state"] == "downloaded"
        assert mentor_session.vault.blobs.read_all(entry["plain"]) == scan.read_bytes()

        # the mentor replies online; round trip 2 takes a fresh request to the coordinator's import-bundle
        thread = mentor_session.messaging.start_direct(offline.account)
        reply = "Yes: sawtooth waves at 300 a minute. Bring the strip on Thursday."
        mentor_session.messaging.send(thread, reply)
        mentor_sync(mentor_session)
        second = offline.export(usb / "trip2")
        answer2 = import_bundle(Path(server.data_dir), second, usb / "trip2-answers")
        offline.import_file(answer2)
        state = offline.state()
        assert texts_from(state, mentor.account.hex()) == Counter({reply: 1})
        assert state["cursor"] > after["cursor"]

        # the same answers again, and the older one after the newer: harmless
        again = offline.import_file(answer2)
        assert again["nothing_new"] is True
        offline.import_file(answer)
        final = offline.state()
        assert final["cursor"] == state["cursor"], "an old answer never moves the cursor back"
        assert texts_from(final, mentor.account.hex()) == Counter({reply: 1})
        assert texts_from(final, offline.account) == Counter({question: 1})
        ids = server_record_ids(Path(server.data_dir), offline.device)
        assert len(ids) == len(set(ids))
        mentor_sync(mentor_session)
        assert mentor_texts(mentor_session, offline) == Counter({question: 1})
    finally:
        mentor_session.stop()
        carrier.stop()


def test_a_relay_chain_device_classmate_clinic_server_delivers_everything_exactly_once(server, tmp_path: Path):
    student = joined(tmp_path / "student", server, "Chidi Student")
    mentor = joined(tmp_path / "mentor", server, "Dr Ama Owusu", role="mentor")
    classmate = joined(tmp_path / "classmate", server, "Efua Classmate")
    synced(student, mentor, classmate, student, mentor, classmate)
    offline = go_offline(student, tmp_path / "student-data")
    # the classmate has no internet either: only the clinic's relay on the LAN (the server's port is out of reach)
    carrier = go_offline(classmate, tmp_path / "classmate-data", blocked=str(server.port))
    mentor_session = session_of(mentor, tmp_path / "mentor-data")
    usb = tmp_path / "usb"
    try:
        with EdgeRelay(tmp_path / "clinic", server.url) as clinic:
            questions = [f"Question {n} about the anatomy practical" for n in range(6)]
            offline.send_all(mentor.account.hex(), questions[:3])
            first = offline.export(usb / "a")
            offline.send_all(mentor.account.hex(), questions[3:])
            second = offline.export(usb / "b")  # carries the first three again, and three more
            carried = set(offline.state()["outbox"])
            for request in (first, second, first):  # the first stick is handed over twice
                carrier.run("carry-take", request)
            assert len(carrier.run("carry-items")["items"]) == 2, "the same request taken twice is one entry"
            assert carrier.run("carry-relay", clinic.url)["answered"] == 2
            answers = [Path(p) for p in carrier.run("carry-export", usb / "answers")["paths"]]
            assert len(answers) == 1, "the newest answer for the device (it covers the older request's records)"
            applied = offline.import_file(answers[0])
            assert applied["accepted"] >= 1 and applied["refused"] == 0, applied
            assert offline.import_file(answers[0])["nothing_new"] is True
            state = offline.state()
            assert not carried & set(state["outbox"]), "every record the sticks carried was accepted"

            mentor_sync(mentor_session)
            assert mentor_texts(mentor_session, offline) == Counter({text: 1 for text in questions})
            ids = server_record_ids(Path(server.data_dir), offline.device)
            assert len(ids) == len(set(ids)), "no record was stored twice"

            thread = mentor_session.messaging.start_direct(offline.account)
            replies = [f"Reply {n}: see the atlas, plate {n + 10}" for n in range(4)]
            for text in replies:
                mentor_session.messaging.send(thread, text)
            mentor_sync(mentor_session)
            third = offline.export(usb / "c")
            carrier.run("carry-take", third)
            assert carrier.run("carry-relay", clinic.url)["answered"] == 1
            back = [Path(p) for p in carrier.run("carry-export", usb / "answers3")["paths"]]
            for answer in back:  # the new answer, and the two old ones again: harmless
                offline.import_file(answer)
            state = offline.state()
            assert texts_from(state, mentor.account.hex()) == Counter({text: 1 for text in replies})
            assert texts_from(state, offline.account) == Counter({text: 1 for text in questions})
            mentor_sync(mentor_session)
            assert mentor_texts(mentor_session, offline) == Counter({text: 1 for text in questions})
    finally:
        mentor_session.stop()
