"""A student whose link is cut syncs through a USB stick: the request bundle goes with a classmate who is
online, the classmate's Osler relays it to the real server and brings the answer back, and importing it is a
sync (PROTOCOL.md §13.3). Real uvicorn server, real vaults, real files on a "stick" folder."""

from __future__ import annotations

import random
import string
from pathlib import Path

import pytest

from desktop.domain.bundles import BundleRefused
from tests.bundle_people import World
from tests.servers import ThreadServer


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One server and one set of people for the module (setting them up is most of each test's time): each test
    asserts what its own round trips change."""
    with ThreadServer(tmp_path_factory.mktemp("server")) as server:
        made = World(server, tmp_path_factory.mktemp("people"))
        yield made
        made.close()


def test_a_cut_off_student_syncs_by_stick_and_a_second_import_changes_nothing(world: World):
    student = world.student
    earlier = world.mentor_says("Bring your logbook on Monday.")
    mine = student.messaging.send(world.thread(), "CANARY-STICK I will, and my case notes too.")
    cursor = student.store.cursor()
    wire = student.transport.wire_bytes()
    exported = student.bundles.export_request(world.stick)
    assert exported.path is not None and exported.path.exists() and exported.records >= 1
    answer = world.carry_round(exported.path)
    assert b"CANARY-STICK" not in b"".join(p.read_bytes() for p in (world.carrier.data_dir / "carry").iterdir())

    applied = student.bundles.import_file(answer)
    assert applied.accepted >= 1 and applied.records_in >= 1 and not applied.nothing_new
    assert student.vault.messages.get(mine).state == "sent"
    assert earlier in {m.id for m in student.vault.messages.in_thread(world.thread())}
    moved = student.store.cursor()
    assert moved > cursor
    assert student.transport.wire_bytes() == wire  # the student's own link carried nothing
    # the mentor receives the message online, as if the student had synced
    world.mentor.engine.sync_once()
    world.mentor.after_sync(1)
    assert mine in {m.id for m in world.mentor.vault.messages.in_thread(world.thread())}

    again = student.bundles.import_file(answer)
    assert again.nothing_new and again.records_in == 0 and again.accepted == 0
    assert student.store.cursor() == moved


def test_an_older_answer_after_a_newer_one_does_not_move_the_cursor_back(world: World):
    student = world.student
    world.mentor_says("First note.")
    first = world.carry_round(student.bundles.export_request(world.stick).path)
    second_note = world.mentor_says("Second note.")
    second = world.carry_round(student.bundles.export_request(world.stick).path)
    student.bundles.import_file(second)
    newest = student.store.cursor()
    assert second_note in {m.id for m in student.vault.messages.in_thread(world.thread())}
    older = student.bundles.import_file(first)
    assert older.nothing_new and student.store.cursor() == newest


def test_without_the_servers_key_a_request_says_sync_online_first(world: World, tmp_path: Path):
    from desktop.domain.bundles import KEY_SECRET

    held = world.student.vault.get_secret(KEY_SECRET)
    world.student.vault.delete_secret(KEY_SECRET)
    before = set(world.stick.iterdir())
    try:
        with pytest.raises(BundleRefused) as refused:
            world.student.bundles.export_request(world.stick)
        assert "online" in refused.value.message
        assert set(world.stick.iterdir()) == before
    finally:
        world.student.vault.put_secret(KEY_SECRET, held)


def test_bundles_of_another_programme_or_device_are_refused_with_a_sentence(world: World, tmp_path: Path):
    from sync import bundle
    from sync.envelope import ServerKeys

    other = ServerKeys.generate()
    student = world.student
    creds = student.program.credentials
    content = bundle.RequestContent(
        account=creds.account, device=creds.device, request=b"\x01" * 16, created_ms=1, push=[], cursor=0,
        grants_only=False, budget=bundle.MIN_BUDGET, uploads=[], wants=[],
    )  # fmt: skip
    foreign = bundle.write_request(content, bundle.programme_id("https://other.example"), other.box_public, creds.key)
    path = tmp_path / "foreign.oslersync"
    path.write_bytes(foreign)
    with pytest.raises(BundleRefused) as refused:
        world.carrier.bundles.import_file(path)
    assert refused.value.message == "This bundle belongs to another programme."
    path.write_bytes(b"not a bundle at all")
    with pytest.raises(BundleRefused) as refused:
        student.bundles.import_file(path)
    assert refused.value.message == "This file is not an Osler sync bundle."
    # an answer for the student, imported on the classmate's device
    answer = world.carry_round(student.bundles.export_request(world.stick).path)
    with pytest.raises(BundleRefused) as refused:
        world.carrier.bundles.import_file(answer)
    assert refused.value.message == "This bundle is for another device."
    cut = tmp_path / "cut.oslersync"
    cut.write_bytes(answer.read_bytes()[:-100])
    cursor = student.store.cursor()
    with pytest.raises(BundleRefused) as refused:
        student.bundles.import_file(cut)
    assert "damaged" in refused.value.message and student.store.cursor() == cursor


def test_attachments_travel_by_stick_both_ways(world: World, tmp_path: Path):
    student, mentor = world.student, world.mentor
    cv = tmp_path / "cv.txt"
    cv.write_bytes(b"CANARY-CV my curriculum vitae\n" * 3000)  # 90 KB: two chunks sealed
    scan = tmp_path / "scan.txt"
    scan.write_bytes(b"CANARY-SCAN the chest film, annotated\n" * 1000)
    mine = student.messaging.send(world.thread(), "My CV", attachment=cv)
    theirs = mentor.messaging.send(mentor.messaging.start_direct(world.student_c.account.hex()), "", attachment=scan)
    mentor.engine.sync_once()  # online: the scan is uploaded before its message
    assert mentor.messaging.attachment(theirs)["state"] == "uploaded"

    first = student.bundles.export_request(world.stick)
    assert first.blob_bytes > len(cv.read_bytes())  # the sealed CV rides with its message
    student.bundles.import_file(world.carry_round(first.path))
    assert student.messaging.attachment(mine)["state"] == "uploaded"
    assert student.messaging.attachment(theirs)["state"] == "remote"  # known now: wanted by the next request
    student.bundles.import_file(world.carry_round(student.bundles.export_request(world.stick).path))
    entry = student.messaging.attachment(theirs)
    assert entry["state"] == "downloaded" and student.vault.blobs.read_all(entry["plain"]) == scan.read_bytes()

    mentor.engine.sync_once()
    mentor.after_sync(1, online=True)  # the CV comes by itself (small), from the server the stick reached
    got = mentor.messaging.attachment(mine)
    assert got["state"] == "downloaded" and mentor.vault.blobs.read_all(got["plain"]) == cv.read_bytes()
    carried = b"".join(p.read_bytes() for p in (world.carrier.data_dir / "carry").iterdir())
    assert b"CANARY-CV" not in carried and b"CANARY-SCAN" not in carried


def test_a_queued_library_file_comes_by_stick_from_its_first_missing_chunk(world: World):
    from desktop.domain.downloads import DONE
    from tests.download_helpers import file_bytes, publish

    data = file_bytes(5 * 65_536 + 1_000, seed=19)
    item = publish(world.mentor.engine, data, "Renal physiology")
    student = world.student
    student.downloads.enqueue(item)
    small = student.bundles.export_request(world.stick, budget=3 * 65_536)
    student.bundles.import_file(world.carry_round(small.path))
    missing = student.vault.blobs.missing_chunks(item.sha256)
    assert 0 < len(missing) < 6 and missing[0] > 0  # part of it: whole chunks, checked against the part list
    student.bundles.import_file(world.carry_round(student.bundles.export_request(world.stick).path))
    assert student.vault.blobs.read_all(item.sha256) == data
    assert [e.state for e in student.downloads.entries()] == [DONE]


def test_an_answer_not_signed_by_the_programmes_server_or_from_a_newer_osler_changes_nothing(world: World):
    from desktop.domain.bundles import KEY_SECRET
    from sync.envelope import ServerKeys

    student = world.student
    world.mentor_says("A note that must wait for a genuine answer.")
    student.messaging.send(world.thread(), "Still queued.")
    answer = world.carry_round(student.bundles.export_request(world.stick).path).read_bytes()
    held = student.vault.get_secret(KEY_SECRET)
    box, _sign = student.bundles.server_keys()
    student.bundles.keep_server_keys(box, ServerKeys.generate().sign_public)  # as if another server had signed
    cursor, queued = student.store.cursor(), student.store.outbox_totals()
    try:
        with pytest.raises(BundleRefused) as refused:
            student.bundles.import_answer(answer)
        assert refused.value.message == "This bundle is not signed by your programme's server."
    finally:
        student.vault.put_secret(KEY_SECRET, held)
    newer = answer[:10] + bytes([2]) + answer[11:]
    with pytest.raises(BundleRefused) as refused:
        student.bundles.import_answer(newer)
    assert refused.value.message == "This bundle was made by a newer Osler. Update Osler to use it."
    assert (student.store.cursor(), student.store.outbox_totals()) == (cursor, queued)
    assert not student.bundles.import_answer(answer).nothing_new  # the genuine one still applies


def test_a_request_carries_the_whole_outbox_not_one_sync_batch(world: World):
    for n in range(600):  # more than one push of an online sync (500)
        world.student_c.send(f"note {n}".encode(), None)
    queued = {r.id for r in world.student.vault.records.by_state("outbox")}
    exported = world.student.bundles.export_request(world.stick)
    assert exported.records == len(queued) > 600
    applied = world.student.bundles.import_file(world.carry_round(exported.path))
    assert applied.accepted == len(queued)
    assert not queued & {r.id for r in world.student.vault.records.by_state("outbox")}  # all of them marked sent


def test_a_cut_off_mentor_publishes_by_stick(world: World, tmp_path: Path):
    from desktop.domain.demo_library import lecture_pages, pdf
    from desktop.domain.library_format import PublishMeta

    mentor, reader = world.mentor, world.carrier
    handbook = pdf(lecture_pages("Renal physiology", 150), "Renal physiology")
    path = tmp_path / "renal.pdf"
    path.write_bytes(handbook)
    with world.cut_off(mentor):
        item = mentor.library.publish(path, PublishMeta("Renal physiology", level="clinical"))
        assert mentor.library.pending_uploads() == [item.sha256, item.parts]
        exported = mentor.bundles.export_request(world.stick)
        assert exported.blob_bytes >= len(handbook)  # the file and its part list, with the entry
        mentor.bundles.import_file(world.carry_round(exported.path))
        assert mentor.library.pending_uploads() == []
    reader.engine.sync_once()
    reader.after_sync(1)
    theirs = reader.library.item(item.item)
    assert theirs is not None
    reader.download_material(theirs)
    assert reader.library.open_bytes(theirs) == handbook


def test_a_file_larger_than_the_budget_goes_up_over_several_bundles(world: World, tmp_path: Path):
    from desktop.domain.library_format import PublishMeta
    from tests.download_helpers import file_bytes

    mentor, reader = world.mentor, world.carrier
    path = tmp_path / "scan.png"
    data = b"\x89PNG\r\n\x1a\n" + file_bytes(6 * 65_536, seed=7)
    path.write_bytes(data)
    trips = 0
    with world.cut_off(mentor):
        item = mentor.library.publish(path, PublishMeta("Chest film", level="clinical"))
        while mentor.library.pending_uploads() and trips < 8:
            exported = mentor.bundles.export_request(world.stick, budget=3 * 65_536)
            assert exported.size < 4 * 65_536  # within the budget, whatever the file's size
            mentor.bundles.import_file(world.carry_round(exported.path))
            trips += 1
    assert mentor.library.pending_uploads() == [] and trips >= 3
    reader.engine.sync_once()
    reader.after_sync(1)
    reader.download_material(reader.library.item(item.item))
    assert reader.library.open_bytes(reader.library.item(item.item)) == data


def test_an_answer_cut_to_its_budget_says_more_waits_and_the_next_brings_it(world: World):
    from sync.bundle import MIN_BUDGET

    words = random.Random(19)
    chapters = ["".join(words.choice(string.ascii_letters + " ") for _ in range(15_000)) for _ in range(6)]
    sent = [world.mentor_says(text) for text in chapters]  # 90 KB that does not compress, past 64 KiB
    student = world.student
    first = student.bundles.import_file(world.carry_round(student.bundles.export_request(world.stick, MIN_BUDGET).path))
    held = {m.id for m in student.vault.messages.in_thread(world.thread())}
    assert first.more and not set(sent) <= held
    rest = student.bundles.import_file(world.carry_round(student.bundles.export_request(world.stick, 8 << 20).path))
    assert not rest.more and set(sent) <= {m.id for m in student.vault.messages.in_thread(world.thread())}


def test_an_attachment_larger_than_an_answer_gathers_over_several(world: World, tmp_path: Path):
    from dataclasses import replace

    student, mentor = world.student, world.mentor
    film = tmp_path / "film.bin"
    film.write_bytes(random.Random(5).randbytes(300_000))  # five sealed chunks, more than one answer holds
    theirs = mentor.messaging.send(mentor.messaging.start_direct(world.student_c.account.hex()), "", attachment=film)
    mentor.engine.sync_once()
    saver = student.settings.data_saver
    student.settings_store.update(lambda s: replace(s, data_saver=False))  # large attachments come by themselves
    try:
        student.bundles.import_file(world.carry_round(student.bundles.export_request(world.stick).path))
        assert student.messaging.attachment(theirs)["state"] == "remote"
        trips = 0
        while student.messaging.attachment(theirs)["state"] == "remote" and trips < 8:
            small = student.bundles.export_request(world.stick, budget=2 * 65_536)
            student.bundles.import_file(world.carry_round(small.path))
            trips += 1
    finally:
        student.settings_store.update(lambda s: replace(s, data_saver=saver))
    entry = student.messaging.attachment(theirs)
    assert entry["state"] == "downloaded" and trips >= 3
    assert student.vault.blobs.read_all(entry["plain"]) == film.read_bytes()
    assert not list((student.data_dir / "downloads").glob("*.part"))
