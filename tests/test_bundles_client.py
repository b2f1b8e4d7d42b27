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
