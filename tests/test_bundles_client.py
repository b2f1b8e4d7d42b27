"""A student whose link is cut syncs through a USB stick: the request bundle goes with a classmate who is
online, the classmate's Osler relays it to the real server and brings the answer back, and importing it is a
sync (PROTOCOL.md §13.3). Real uvicorn server, real vaults, real files on a "stick" folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.domain.bundles import BundleRefused
from tests.bundle_people import World
from tests.servers import ThreadServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ThreadServer(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture
def world(server, tmp_path: Path):
    made = World(server, tmp_path)
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

    world.student.vault.delete_secret(KEY_SECRET)
    with pytest.raises(BundleRefused) as refused:
        world.student.bundles.export_request(world.stick)
    assert "online" in refused.value.message
    assert not list(world.stick.iterdir())


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
