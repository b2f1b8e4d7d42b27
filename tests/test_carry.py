"""Carrying a classmate's bundles (PROTOCOL.md §13.4): what the carrier keeps (opaque bytes and the clear header's
figures only), refusing, data saver, handing answers back, and an edge relay when the server is out of reach."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest

from desktop.domain.bundles import BundleRefused
from sync.clock import utcnow
from sync.server.embedded import free_port
from tests.bundle_people import World
from tests.servers import ThreadServer


@pytest.fixture(scope="module")
def people(tmp_path_factory):
    with ThreadServer(tmp_path_factory.mktemp("server")) as server:
        made = World(server, tmp_path_factory.mktemp("people"))
        made.server = server
        yield made
        made.close()


@pytest.fixture
def world(people: World, tmp_path: Path):
    """The module's people, with a fresh carrying side for each test: the classmate's Osler over their vault
    with a profile folder (the carry folder), settings and link of its own."""
    shared = people.carrier
    people.carrier = people.session(people.carrier_c, f"c-{tmp_path.name}")
    people.carrier._after_online_sync()
    yield people
    people.carrier.stop()
    people.carrier = shared


def _carried_bytes(world: World) -> bytes:
    return b"".join(p.read_bytes() for p in (world.carrier.data_dir / "carry").rglob("*") if p.is_file())


def test_the_carrier_sees_who_and_how_much_but_no_word_of_it(world: World):
    student = world.student
    student.messaging.send(world.thread(), "CANARY-CARRY the patient in bed 4 is my cousin")
    request = student.bundles.export_request(world.stick)
    carried = world.carrier.carry.take(request.data)
    assert carried.person == "Amina Student"
    assert carried.device == student.program.credentials.device.hex()
    device = student.program.credentials.device.hex().upper()
    assert carried.fingerprint == " ".join(device[i : i + 4] for i in range(0, 16, 4))
    assert carried.records == request.records and carried.size == request.size and carried.state == "waiting"
    assert world.carrier.carry.take(request.data).request == carried.request  # the same request twice: one entry
    assert len(world.carrier.carry.items()) == 1
    index = json.loads((world.carrier.data_dir / "carry" / "index.json").read_text())
    assert set(index) == {carried.request}
    used = world.carrier.settings.bytes_this_month(utcnow(world.carrier.wall))
    assert world.carrier.carry.relay() == 1
    [item] = world.carrier.carry.items()
    assert item.state == "answered" and item.answer_size
    # what crossed the carrier's link counts against their month, as every call does
    assert world.carrier.settings.bytes_this_month(utcnow(world.carrier.wall)) >= used + item.size + item.answer_size
    assert world.carrier.carry.answer_for(student.program.credentials.device) is not None
    assert b"CANARY-CARRY" not in _carried_bytes(world)
    with pytest.raises(BundleRefused, match="could not be written"):  # the stick was pulled out: said, not silent
        world.carrier.carry.export_answers(world.stick / "pulled-out")
    assert world.carrier.carry.items()[0].state == "answered"  # nothing handed back that was not written
    [path] = world.carrier.carry.export_answers(world.stick)
    assert path.parent == world.stick and world.carrier.carry.items()[0].state == "handed-back"
    assert not [p for p in world.stick.iterdir() if p.name.startswith(".")]  # no temp file left on the stick
    assert student.bundles.import_file(path).accepted >= 1


def test_a_refused_device_is_dropped_and_not_carried_again(world: World):
    data = world.student.bundles.make_request()
    carried = world.carrier.carry.take(data)
    world.carrier.carry.refuse(carried.request)
    assert [c.state for c in world.carrier.carry.items()] == ["refused"]
    assert not (world.carrier.data_dir / "carry" / f"{carried.request}.request").exists()
    for again in (data, world.student.bundles.make_request()):  # that request, or a new one of that device
        with pytest.raises(BundleRefused) as refused:
            world.carrier.carry.take(again)
        assert refused.value.message == "You chose not to carry bundles for this device."
    assert world.carrier.carry.relay() == 0
    assert world.carrier.carry.answer_for(world.student.program.credentials.device) is None


def test_own_requests_and_answers_are_not_carried(world: World):
    data = world.student.bundles.make_request()
    with pytest.raises(BundleRefused):
        world.student.carry.take(data)
    answer = world.carry_round(world.student.bundles.export_request(world.stick).path)
    with pytest.raises(BundleRefused):
        world.carrier.carry.take(answer.read_bytes())


def test_data_saver_holds_a_bundle_over_the_months_budget(world: World):
    carrier = world.carrier
    carrier.settings_store.update(lambda s: replace(s, data_saver=True, monthly_budget_mb=1))
    carrier.settings_store.update(lambda s: s.with_usage(999_000, utcnow(carrier.wall)))
    carrier.carry.take(world.student.bundles.make_request())
    assert carrier.carry.relay() == 0
    assert [c.state for c in carrier.carry.items()] == ["over-budget"]
    carrier.settings_store.update(lambda s: replace(s, monthly_budget_mb=100))
    assert carrier.carry.relay() == 1
    assert [c.state for c in carrier.carry.items()] == ["answered"]


def test_with_the_server_out_of_reach_it_goes_to_the_edge_relay(world: World):
    carrier = world.carrier
    carrier.transport.base_url = f"http://127.0.0.1:{free_port()}"  # the carrier's own link to the server is down
    carrier.carry.take(world.student.bundles.make_request())
    assert carrier.carry.relay() == 0 and carrier.carry.items()[0].state == "waiting"
    # a relay address in the settings (anything that answers POST /v1/bundles: here the server itself)
    if not hasattr(carrier.settings, "relay_address"):
        pytest.skip("the relay_address setting comes with the LAN relay (dev-lan)")
    carrier.settings_store.update(lambda s: replace(s, relay_address=world.server.url))
    assert carrier.carry.relay() == 1


def test_the_carriers_own_sync_relays_what_they_carry(world: World):
    carrier = world.carrier
    carrier.settings_store.update(lambda s: replace(s, live_delivery=False))
    carrier.carry.take(world.student.bundles.make_request())
    carrier.start()
    carrier.sync_now()
    deadline = time.monotonic() + 30
    while carrier.carry.items()[0].state == "waiting" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert carrier.carry.items()[0].state == "answered"
