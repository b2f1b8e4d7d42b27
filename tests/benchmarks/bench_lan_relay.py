"""LAN relay benchmark: ``make bench`` (or ``python -m tests.benchmarks.bench_lan_relay``).

A student whose server link is cut and a classmate's Osler, both on loopback (HTTP on 127.0.0.1, mDNS on the
loopback interface), a real Osler server behind the classmate:

- throughput of a large bundle over the LAN relay, each way: a ~24 MB request (two attachments, incompressible)
  handed to a carrier that is offline itself (it keeps it: 202), and a ~20 MB answer (the mentor's attachment)
  given back from what the carrier holds (200);
- the time from the student turning the relay on to the classmate listed (discovery), and from the classmate
  listed to the first byte of the answer (a small outbox: the carrier relays it to the server at once and answers
  in the same exchange). The issue's target: the first useful byte within 1 s of discovery.

Prints figures and ratios; asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import requests

from desktop.domain.lan_relay import BUNDLE_MEDIA, LanRelay, post_bundle
from desktop.domain.session import Session
from sync.server.embedded import free_port
from tests.benchmarks.report import row
from tests.lan_people import World, fingerprint_of, peer_of
from tests.servers import ThreadServer
from tests.waiting import eventually

ATTACHMENT = 12_000_000  # each of the student's two
ATLAS = 20_000_000  # the mentor's
ROUNDS = 5
FIRST_BYTE_TARGET_S = 1.0


def _attachment(folder: Path, name: str, size: int) -> Path:
    path = folder / name
    path.write_bytes(os.urandom(size))
    return path


def _listed(relay: LanRelay, carrier: Session) -> bool:
    return any(p.fingerprint == fingerprint_of(carrier) for p in relay.peers())


def throughput(world: World, folder: Path) -> None:
    student, mentor, carrier = world.student, world.mentor, world.carrier
    assert student.messaging is not None and mentor.messaging is not None
    to_mentor = student.messaging.start_direct(world.mentor_c.account.hex())
    for n in range(2):
        student.messaging.send(to_mentor, f"scan {n}", attachment=_attachment(folder, f"scan{n}.bin", ATTACHMENT))
    to_student = mentor.messaging.start_direct(world.student_c.account.hex())
    mentor.messaging.send(to_student, "the atlas", attachment=_attachment(folder, "atlas.bin", ATLAS))
    mentor.engine.sync_once()  # the atlas uploaded before its message (Session._before_push)
    student.settings_store.update(lambda s: replace(s, data_saver=False))  # the atlas is wanted, whole
    carrier.settings_store.update(lambda s: replace(s, data_saver=False))  # else ~100 MB a month: over-budget

    carrier.set_lan_relay(True)
    peer = peer_of(world, carrier)
    online, offline = carrier.transport.base_url, f"http://127.0.0.1:{free_port()}"

    carrier.transport.base_url = offline  # the carrier keeps each request (a new one each round)
    up, size = [], 0
    for _ in range(3):
        request = student.bundles.make_request(48 << 20)
        size = len(request)
        t0 = time.perf_counter()
        back = post_bundle(peer.url, request)  # the answer held from before (a few KB) comes back, or 202
        up.append(time.perf_counter() - t0)
    mb = size / 1e6
    row(f"request bundle handed to a carrier ({mb:.1f} MB up, {len(back or b'') / 1e3:.0f} KB back)", mb / min(up),
        "MB/s")  # fmt: skip

    carrier.transport.base_url = online
    student.lan_relay.hand_to(peer)  # type: ignore[union-attr]  # the atlas's message arrives: now it is wanted
    request = student.bundles.make_request(48 << 20)
    t0 = time.perf_counter()
    answer = post_bundle(peer.url, request)
    relayed = time.perf_counter() - t0
    assert answer is not None
    mb_up, mb_back = len(request) / 1e6, len(answer) / 1e6
    row(f"hand-over relayed at once ({mb_up:.1f} MB up, {mb_back:.1f} MB back; 3 kept ones relayed too)", relayed, "s")

    carrier.transport.base_url = offline  # the answer it holds, given back from its disk
    down = []
    for _ in range(3):
        small = student.bundles.make_request()
        t0 = time.perf_counter()
        held = post_bundle(peer.url, small)
        down.append(time.perf_counter() - t0)
        assert held is not None and len(held) == len(answer)
    row(f"answer bundle given back by a carrier ({len(answer) / 1e6:.1f} MB down)", len(answer) / 1e6 / min(down),
        "MB/s")  # fmt: skip
    t0 = time.perf_counter()
    applied = student.bundles.import_answer(answer)
    row(f"importing that answer ({applied.blobs} blob(s), {applied.records_in} records)", time.perf_counter() - t0, "s")
    carrier.transport.base_url = online


def first_byte(world: World) -> None:
    student, carrier = world.student, world.carrier
    assert student.messaging is not None
    carrier.set_lan_relay(True)
    peer_of(world, carrier)  # announced (its probing, ~1 s, is measured by advertised())
    to_mentor = student.messaging.start_direct(world.mentor_c.account.hex())
    found, first, whole, made = [], [], [], []
    for n in range(ROUNDS):
        student.set_lan_relay(False)
        student.messaging.send(to_mentor, f"question {n}: is the ward round at eight?")
        t0 = time.perf_counter()
        student.set_lan_relay(True)
        relay = student.lan_relay
        assert relay is not None
        assert eventually(lambda r=relay: _listed(r, carrier), timeout=20, step=0.002)
        t1 = time.perf_counter()
        peer = next(p for p in relay.peers() if p.fingerprint == fingerprint_of(carrier))
        data = student.bundles.make_request()
        t2 = time.perf_counter()
        response = requests.post(
            f"{peer.url}/v1/bundles", data=data, headers={"Content-Type": BUNDLE_MEDIA}, timeout=60, stream=True
        )
        assert response.status_code == 200, response.status_code
        response.raw.read(1)
        t3 = time.perf_counter()
        response.raw.read()
        t4 = time.perf_counter()
        found.append(t1 - t0)
        made.append(t2 - t1)
        first.append(t3 - t1)
        whole.append(t4 - t1)
    row("relay turned on → classmate listed (median)", statistics.median(found), "s")
    row("  slowest of the rounds", max(found), "s")
    print("    each round: " + ", ".join(f"{t:.3f}" for t in found) + " s")
    row("listed → request bundle made (median)", statistics.median(made), "s")
    row("listed → first byte of the answer (median)", statistics.median(first), "s", FIRST_BYTE_TARGET_S)
    row("listed → first byte of the answer (slowest)", max(first), "s", FIRST_BYTE_TARGET_S)
    row("listed → whole answer (median)", statistics.median(whole), "s")


def advertised(world: World) -> None:
    """How long a carrier takes to be heard after the person turns it on (mDNS probes its name first)."""
    times = []
    for _ in range(3):
        world.carrier.set_lan_relay(False)
        t0 = time.perf_counter()
        world.carrier.set_lan_relay(True)
        relay = world.student.lan_relay
        assert relay is not None
        assert eventually(lambda r=relay: _listed(r, world.carrier), timeout=20, step=0.002)
        times.append(time.perf_counter() - t0)
    row("carrier turned on → heard by the student (median)", statistics.median(times), "s")


def main() -> None:
    print("LAN relay (loopback: HTTP on 127.0.0.1, mDNS on the loopback interface)")
    with tempfile.TemporaryDirectory() as tmp, ThreadServer(Path(tmp) / "server") as server:
        world = World(server, Path(tmp))
        try:
            first_byte(world)
            advertised(world)
            throughput(world, Path(tmp))
        finally:
            world.close()


if __name__ == "__main__":
    main()
