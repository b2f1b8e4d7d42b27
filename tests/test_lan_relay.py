"""The LAN relay (PROTOCOL.md §13.5, desktop/domain/lan_relay.py): a student whose link to the server is cut finds
a classmate's Osler on the same network by zeroconf, hands it the sealed outbox over HTTP and gets back the answer
the classmate fetched at once from the server. Everything runs on loopback: mDNS on 127.0.0.1 (python-zeroconf's
own multicast, bound to the loopback interface), the carrier's HTTP server on 127.0.0.1, a real Osler server.
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import replace
from pathlib import Path

import msgpack
import pytest
import requests

from desktop.domain.lan_discovery import SERVICE_TYPE, Discovery, Peer
from desktop.domain.lan_relay import LanRelayError, peer_at
from desktop.domain.session import Session
from desktop.domain.settings import SettingsStore
from sync.clock import ManualClock
from sync.server.embedded import free_port
from tests.clients import make_client
from tests.lan_people import CLOCK, LOOPBACK, World, fingerprint_of, peer_of
from tests.servers import ThreadServer
from tests.waiting import eventually

MEDIA = "application/vnd.osler.bundle"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("lan")
    with ThreadServer(folder / "server") as server:
        w = World(server, folder)
        try:
            yield w
        finally:
            w.close()


def carrier_peer(world: World) -> Peer:
    """The classmate's relay on, and the classmate as the student finds it."""
    world.carrier.set_lan_relay(True)
    return peer_of(world, world.carrier)


# -- off by default --------------------------------------------------------------------------------------------


def _listening_here() -> set[tuple[str, int, str]]:
    """The TCP sockets this process listens on and the UDP sockets it holds: (protocol, port, inode), from /proc."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        with open(f"/proc/net/{proto}") as table:
            for line in table.readlines()[1:]:
                cols = line.split()
                port, state, inode = int(cols[1].rsplit(":", 1)[1], 16), cols[3], cols[9]
                if inode in inodes and (proto.startswith("udp") or state == "0A"):
                    found.add((proto, port, inode))
    return found


def test_off_by_default_nothing_is_advertised_or_listening_and_the_setting_turns_it_on_and_off(
    world: World, tmp_path: Path
):
    client = make_client(tmp_path / "new", world.server.url, world.server.invite())
    store = SettingsStore(tmp_path / "settings.json")
    assert store.load().lan_relay is False and store.load().relay_address == ""
    before = _listening_here()
    session = Session(client.vault, tmp_path / "data", store, clock=ManualClock(CLOCK))
    session.lan_where = LOOPBACK
    session.start()
    assert session.lan_relay is None
    opened = _listening_here() - before
    assert not any(port == 5353 for _, port, _ in opened), "mDNS must stay closed while the relay is off"
    assert not any(proto.startswith("tcp") for proto, _, _ in opened), f"listening while off: {opened}"
    watcher = Discovery("0" * 32, "WATCH", "watcher", interfaces=["127.0.0.1"])
    try:
        # a browser that hears a carrier which is on never hears this one
        label = fingerprint_of(session).replace(" ", "").lower()[:8]
        world.carrier.set_lan_relay(True)
        assert eventually(lambda: any("Chidi" in n for n in _names_in_cache(watcher)), timeout=20)
        assert not any(label in n for n in _names_in_cache(watcher))
        session.stop()
        before = _listening_here()

        # the person turns it on: the next start serves and announces; off again: neither
        store.update(lambda s: replace(s, lan_relay=True))
        session = Session(client.vault, tmp_path / "data", store, clock=ManualClock(CLOCK))
        session.lan_where = LOOPBACK
        session.start()
        relay = session.lan_relay
        assert relay is not None and relay.server is not None
        port = relay.server.port
        assert requests.get(f"http://127.0.0.1:{port}/v1/health", timeout=10).json()["relay"] == "lan"
        assert eventually(lambda: any(label in n for n in _names_in_cache(watcher)), timeout=20)
        session.set_lan_relay(False)
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/v1/health", timeout=10)
        assert eventually(lambda: not any(label in n for n in _names_in_cache(watcher)), timeout=20)
        assert not any(port == 5353 for _, port, _ in _listening_here() - before)
    finally:
        watcher.close()
        session.stop()
        client.vault.close()


def _names_in_cache(discovery: Discovery) -> set[str]:
    """Every carrier's instance name on the wire, of any programme (what a browser hears, before the filter)."""
    from zeroconf import DNSPointer

    return {
        r.alias
        for r in discovery._zc.cache.async_all_by_details(SERVICE_TYPE, 12, 1)  # PTR, IN
        if isinstance(r, DNSPointer)
    }


# -- discovery -------------------------------------------------------------------------------------------------


def test_discovery_finds_the_classmate_of_this_programme_only(world: World):
    other = Discovery("f" * 32, "0BAD F00D 0BAD F00D", "Stranger Elsewhere", interfaces=["127.0.0.1"])
    other.advertise("127.0.0.1", 9)
    try:
        peer = carrier_peer(world)
        assert peer.name == "Chidi Carrier" and peer.address == "127.0.0.1" and not peer.edge
        assert world.carrier.lan_relay is not None and peer.port == world.carrier.lan_relay.server.port
        relay = world.student.lan_relay
        assert relay is not None and relay.discovery is not None
        # the other programme's carrier is on the wire (the student's browser heard it) and never listed
        assert eventually(lambda: any("Stranger" in n for n in _names_in_cache(relay.discovery)), timeout=20)
        assert eventually(lambda: "0BAD F00D 0BAD F00D" in _resolved(relay.discovery), timeout=20)
        assert all(p.fingerprint != "0BAD F00D 0BAD F00D" for p in relay.peers())
        assert [p.fingerprint for p in relay.peers()] == [fingerprint_of(world.carrier)]
    finally:
        other.close()


def _resolved(discovery: Discovery) -> set[str]:
    """Fingerprints of every carrier the browser resolved, any programme (from zeroconf's cache)."""
    from zeroconf import ServiceInfo

    found = set()
    for name in _names_in_cache(discovery):
        info = ServiceInfo(SERVICE_TYPE, name)
        if info.load_from_cache(discovery._zc):
            found.add((info.properties or {}).get(b"f", b"").decode())
    return found


# -- handing over ----------------------------------------------------------------------------------------------


def test_the_student_hands_its_outbox_and_gets_its_mentors_reply(world: World):
    student, mentor = world.student, world.mentor
    assert student.messaging is not None and mentor.messaging is not None
    reply = mentor.messaging.send(mentor.messaging.start_direct(world.student_c.account.hex()), "Come at nine.")
    mentor.engine.sync_once()
    question = student.messaging.send(student.messaging.start_direct(world.mentor_c.account.hex()), "When?")
    assert student.queued_now() > 0 and student.bundles.ready()
    peer = carrier_peer(world)

    applied = student.lan_relay.hand_to(peer)  # type: ignore[union-attr]

    assert applied is not None and applied.accepted > 0
    message = student.messaging.message(reply)
    assert message is not None and message.body == "Come at nine."
    carried = world.carrier.carry.items()
    assert carried and carried[0].fingerprint == fingerprint_of(student)
    mentor.engine.sync_once()
    mentor.messaging.take_in()
    got = mentor.messaging.message(question)
    assert got is not None and got.body == "When?"


def test_a_refused_device_gets_403_and_nothing_is_carried(world: World):
    student, carrier = world.student, world.carrier
    peer = carrier_peer(world)
    assert student.messaging is not None
    student.messaging.send(student.messaging.start_direct(world.mentor_c.account.hex()), "Still there?")
    if not any(i.device == student.program.credentials.device.hex() for i in carrier.carry.items()):
        student.lan_relay.hand_to(peer)  # type: ignore[union-attr]
    for item in carrier.carry.items():
        if item.device == student.program.credentials.device.hex():
            carrier.carry.refuse(item.request)
    held = sorted(p.name for p in (carrier.data_dir / "carry").iterdir())

    with pytest.raises(LanRelayError) as refused:
        student.lan_relay.hand_to(peer)  # type: ignore[union-attr]

    assert refused.value.status == 403 and refused.value.code == "refused"
    assert sorted(p.name for p in (carrier.data_dir / "carry").iterdir()) == held
    mine = student.program.credentials.device.hex()
    assert all(i.state == "refused" for i in carrier.carry.items() if i.device == mine)
    assert student.queued_now() > 0  # still waiting for another way


def test_over_its_data_budget_a_carrier_keeps_the_request_and_answers_202(world: World):
    student, mentor = world.student, world.mentor  # the mentor carries this time: they hold no answer yet
    mentor.settings_store.update(lambda s: replace(s, data_saver=True, monthly_budget_mb=0))
    wire = mentor.transport.wire_bytes()
    try:
        mentor.set_lan_relay(True)
        peer = peer_of(world, mentor)
        assert student.messaging is not None
        student.messaging.send(student.messaging.start_direct(world.mentor_c.account.hex()), "Over budget?")

        assert student.lan_relay.hand_to(peer) is None  # type: ignore[union-attr]  # 202: carrying

        [item] = mentor.carry.items()
        assert item.state == "over-budget" and item.fingerprint == fingerprint_of(student)
        assert mentor.transport.wire_bytes() == wire  # nothing went to the server
    finally:
        mentor.set_lan_relay(False)
        mentor.settings_store.update(lambda s: replace(s, monthly_budget_mb=100))


def test_an_offline_carrier_answers_202_then_gives_the_answer_it_fetched_later(world: World):
    student, mentor = world.student, world.mentor  # the mentor carries: no answer held for the student yet
    assert student.messaging is not None and mentor.messaging is not None
    online = mentor.transport.base_url
    mentor.transport.base_url = f"http://127.0.0.1:{free_port()}"  # the carrier's own link is down
    try:
        mentor.set_lan_relay(True)
        peer = peer_of(world, mentor)
        student.messaging.send(student.messaging.start_direct(world.mentor_c.account.hex()), "Carried later?")
        assert student.lan_relay.hand_to(peer) is None  # type: ignore[union-attr]  # 202: carrying
        assert any(i.state == "waiting" for i in mentor.carry.items())

        mentor.transport.base_url = online  # back online: its own sync, then what it carries
        reply = mentor.messaging.send(mentor.messaging.start_direct(world.student_c.account.hex()), "Yes, later.")
        mentor.engine.sync_once()
        mentor._after_online_sync()
        assert any(i.state == "answered" for i in mentor.carry.items())
        mentor.transport.base_url = f"http://127.0.0.1:{free_port()}"  # down again: the answer comes from its disk

        applied = student.lan_relay.hand_to(peer)  # type: ignore[union-attr]

        assert applied is not None
        message = student.messaging.message(reply)
        assert message is not None and message.body == "Yes, later."
    finally:
        mentor.transport.base_url = online
        mentor.set_lan_relay(False)


# -- bad input -------------------------------------------------------------------------------------------------


def _header_bundle(programme: str, kind: str = "request", cut: int = 0) -> bytes:
    """A bundle as a carrier sees it: a clear header of ``programme`` and sealed bytes it cannot open."""
    payload = os.urandom(256)
    fields = {"v": 1, "k": kind, "p": programme, "d": os.urandom(16), "q": os.urandom(16)}
    header = msgpack.packb({**fields, "at": 1_700_000_000_000, "n": 1, "b": 0, "z": len(payload)})
    data = b"OSLERSYNC\n" + bytes([1]) + struct.pack(">H", len(header)) + header + payload
    return data[: len(data) - cut] if cut else data


def test_bad_bodies_get_the_right_status_and_nothing_is_kept(world: World):
    world.carrier.set_lan_relay(True)
    relay = world.carrier.lan_relay
    assert relay is not None and relay.server is not None
    url = f"http://127.0.0.1:{relay.server.port}/v1/bundles"
    programme = relay.programme()
    before = {i.request for i in world.carrier.carry.items()}

    def post(body: object, media: str = MEDIA) -> requests.Response:
        return requests.post(url, data=body, headers={"Content-Type": media}, timeout=30)

    cases = {
        "not a bundle": (post(b"hello, carrier"), 400, "bad-encoding"),
        "cut short": (post(_header_bundle(programme, cut=10)), 400, "bad-encoding"),
        "trailing bytes": (post(_header_bundle(programme) + b"x"), 400, "bad-encoding"),
        "wrong media": (post(_header_bundle(programme), "application/json"), 415, "bad-encoding"),
        "other programme": (post(_header_bundle("f" * 32)), 422, "bundle-programme"),
        "an answer": (post(_header_bundle(programme, kind="answer")), 422, "invalid"),
        "the carrier's own request": (post(world.carrier.bundles.make_request()), 422, "invalid"),
        "chunked, no length": (post(iter([_header_bundle(programme)])), 411, "length-required"),
    }
    for what, (response, status, code) in cases.items():
        assert response.status_code == status, what
        assert response.json()["code"] == code and response.json()["detail"], what
    assert _oversized(relay.server.port).startswith(b"HTTP/1.1 413")
    assert {i.request for i in world.carrier.carry.items()} == before


def _oversized(port: int) -> bytes:
    """A POST announcing 64 MiB + 1 bytes and sending none: refused from its headers alone."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/bundles HTTP/1.1\r\nHost: x\r\nContent-Type: " + MEDIA.encode()
            + b"\r\nContent-Length: " + str((64 << 20) + 1).encode() + b"\r\n\r\n"
        )  # fmt: skip
        return sock.recv(4096)


def test_a_relay_address_is_a_peer_as_an_edge_relay():
    assert peer_at("http://clinic-pc:8080") == Peer("clinic-pc", "", "clinic-pc", 8080, edge=True)
    assert peer_at("https://relay.clinic.example/").url == "https://relay.clinic.example:443"  # type: ignore[union-attr]
    assert peer_at("") is None and peer_at("clinic-pc:8080") is None and peer_at("http://x:99999") is None
