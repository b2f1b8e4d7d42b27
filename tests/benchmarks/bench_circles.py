"""Circle key rotation benchmark (issue 16): ``make bench`` (or ``python -m tests.benchmarks.bench_circles``).

A circle of 100 members (1 lead + 99, one device each) on a real server process, measured over the 2G model of
the other benches (64 kbit/s each way, 300 ms one way, 2 round trips charged for every new connection:
tests/faultproxy.py). Printed for each rotation: the lead's upload (bytes on the wire, time of its sync) and one
member's download (bytes, time until the new epoch's key is open):

1. making the circle: the first epoch, with the one post-quantum grant of ``m_a`` to every member device
   (1,168 B each) and 100 wraps;
2. removing one member: a new epoch, 99 wraps of 48 B (+ ids), no public-key step at all;
3. removing a lead (a new lead key ``L``): every ``m_a`` is new, so every device gets a grant again.

Against what per-device HPKE grants of each epoch key (PROTOCOL.md §9, the group threads' design) would send for
every rotation: 100 × 1,168 B, computed from real grants (a record carries 64 KiB, so that design would even
need two records). Asserts only that the work was done.

Measured (2 shared cores, heavily loaded): making the circle 148 KB up, 22.1 s (a member's download 148 KB,
21.8 s); removing a member 10.3 KB up, 3.2 s (member: 9.7 KB, 3.2 s); removing a lead (new L) 144 KB up, 20.7 s
(member: 144 KB, 20.3 s); per-device grants 124 KB a rotation, ≥ 17.3 s. Removal ÷ per-device: 0.083× (12.1×
fewer bytes); full re-grant ÷ removal: 14.0×.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import msgpack

from desktop.domain.circles import Circles
from sync import envelope
from tests.benchmarks.report import row
from tests.clients import Client, make_client
from tests.faultproxy import FaultProxy
from tests.servers import ProcessServer

LATENCY = 0.300
RTT = 2 * LATENCY
RATE = 64_000
SETUP = 2 * RTT
MEMBERS = 100


def sync(client: Client, circles: Circles, url: str | None = None) -> None:
    client.engine(url).sync_once()
    circles.messaging.take_in()
    circles.take_in()


def over_2g(label: str, proxy: FaultProxy, work) -> tuple[int, int, float]:  # type: ignore[no-untyped-def]
    proxy.reset_counters()
    start = time.monotonic()
    work()
    took = time.monotonic() - start
    print(f"\n{label}")
    row("  bytes up", proxy.bytes_up, "B", fmt=".0f")
    row("  bytes down", proxy.bytes_down, "B", fmt=".0f")
    row("  time over 2G", took, "s", fmt=".1f")
    return proxy.bytes_up, proxy.bytes_down, took


def per_device_grants(count: int) -> int:
    """The body of an epoch grant to ``count`` devices, as §9 makes it (msgpack of 1,168-byte grants by device)."""
    box = envelope.BoxKey.generate().public_bytes()
    thread, key = os.urandom(16), envelope.new_epoch_key()
    grants = {
        os.urandom(16).hex(): envelope.grant_epoch(key, box, thread, 1, os.urandom(16), os.urandom(16))
        for _ in range(count)
    }
    members = [os.urandom(16).hex() for _ in range(count)]
    return len(msgpack.packb({"t": thread, "e": 1, "m": members, "g": grants, "s": os.urandom(40)}))


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        server = ProcessServer(tmp / "server").start()
        try:
            started = time.monotonic()
            people = []
            for n in range(MEMBERS):
                client = make_client(tmp / f"p{n}", server.url, server.invite("mentor" if n < 2 else "student"))
                client.publish_card(f"Person {n}", role="mentor" if n < 2 else "student")
                client.engine().sync_once()
                people.append((client, Circles(client.vault, client.messaging())))
            lead, lead_circles = people[0]
            member, member_circles = people[-1]
            for client, circles in (people[0], people[1], people[-1]):
                for _ in range(2):
                    sync(client, circles)
            print(f"\n{MEMBERS} people joined and published cards in {time.monotonic() - started:.0f} s")
            with FaultProxy(
                "127.0.0.1", server.port, latency_s=LATENCY, bandwidth_bps=RATE, connect_delay_s=SETUP
            ) as proxy:
                roster = {c.account.hex(): "member" for c, _ in people[2:]}
                roster[people[1][0].account.hex()] = "lead"
                made: dict = {}

                def create() -> None:
                    made["circle"] = lead_circles.create("Global surgery research group", members=roster)
                    sync(lead, lead_circles, proxy.url)

                up1, _, t1 = over_2g(
                    "1. make the circle (first epoch, one PQ grant per device): lead's upload", proxy, create
                )
                circle = made["circle"]

                def member_pull() -> None:
                    sync(member, member_circles, proxy.url)
                    assert member_circles.circle(circle) is not None

                _, down1, td1 = over_2g("   a member's download of it", proxy, member_pull)
                sync(people[1][0], people[1][1])  # the second lead takes in L
                removed = people[5][0].account.hex()

                def remove() -> None:
                    lead_circles.remove(circle, removed)
                    sync(lead, lead_circles, proxy.url)

                up2, _, t2 = over_2g("2. remove one member (wraps only): lead's upload", proxy, remove)
                epoch = lead_circles.meta(circle)["circle"]["epoch"]

                def member_epoch() -> None:
                    sync(member, member_circles, proxy.url)
                    assert member.vault.get_secret(f"epoch:{circle}:{epoch}") is not None

                _, down2, td2 = over_2g("   a member's download of it", proxy, member_epoch)

                def remove_lead() -> None:
                    lead_circles.remove(circle, people[1][0].account.hex())
                    sync(lead, lead_circles, proxy.url)

                refused = {r.id: r.note for r in lead.vault.records.by_state("rejected")}
                assert not refused, refused
                up3, _, t3 = over_2g(
                    "3. remove a lead (new lead key, every m_a granted again): lead's upload", proxy, remove_lead
                )
                refused = {r.id: r.note for r in lead.vault.records.by_state("rejected")}
                assert not refused, refused
                epoch = lead_circles.meta(circle)["circle"]["epoch"]
                _, down3, td3 = over_2g("   a member's download of it", proxy, member_epoch)
            grants = per_device_grants(MEMBERS)
            bound = SETUP + RTT + grants * 8 / RATE
            print("\nper-device HPKE grants of every epoch key (§9 design), for the same 100 devices")
            row("  body of one rotation", grants, "B", fmt=".0f")
            row("  lower bound on 2G: 2 RTT setup + 1 RTT + body ÷ rate", bound, "s", fmt=".1f")
            print("\nratios")
            row("  removal rotation upload ÷ per-device grants body", up2 / grants, "×", fmt=".3f")
            row("  per-device grants body ÷ removal rotation upload", grants / up2, "×", fmt=".1f")
            row("  full lead-key re-grant upload ÷ removal upload", up3 / up2, "×", fmt=".1f")
            row("  member's download of a removal ÷ per-device grants body", down2 / grants, "×", fmt=".3f")
            row("  removal: lead's time on 2G", t2, "s", fmt=".1f")
            row("  removal: member's time on 2G", td2, "s", fmt=".1f")
            assert up1 > up2 < up3 and down1 and down3 and t1 and td1 and t3 and td3
        finally:
            server.stop()


if __name__ == "__main__":
    main()
