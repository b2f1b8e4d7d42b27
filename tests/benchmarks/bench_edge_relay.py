"""Edge relay benchmark: ``make bench`` (or ``python -m tests.benchmarks.bench_edge_relay``).

A clinic's relay (``osler-server serve --relay-for``, in a thread) on loopback; its link to the origin is the 2G
model of bench_reconnect (64 kbit/s each way, 300 ms one-way, 2 round trips to open a connection) through
tests/faultproxy.py. A student's request bundle carries 100 messages of ~400 bytes for the mentor.

1. Link up: the request through the relay, answered by the origin in the same exchange (the 2G link's cost).
2. Link down: the same device's next request answered from the relay's held answer (LAN speed).
3. The link back: the forwarder sends 20 queued requests (one device each) in one pass.
Prints figures; asserts only that the work was done.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from sync.clock import ManualClock
from tests.benchmarks.bench_messaging import varied_english
from tests.benchmarks.report import row
from tests.clients import make_client
from tests.faultproxy import FaultProxy
from tests.servers import ThreadServer
from tests.test_edge_relay import START, Relay, _request

LATENCY, RATE = 0.300, 64_000


def main() -> None:
    print("edge relay (2G link to the origin: 64 kbit/s, 300 ms one-way, 2 RTT per new connection)")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        with ThreadServer(root / "origin") as server, FaultProxy("127.0.0.1", server.port) as link:
            student = make_client(root / "student", link.url, server.invite("student"))
            mentor = make_client(root / "mentor", link.url, server.invite("mentor"))
            others = [make_client(root / f"s{i}", link.url, server.invite("student")) for i in range(20)]
            relay = Relay(root / "relay", link.url, ManualClock(START), forward_wait=60)
            try:
                texts = varied_english(100, 400)
                for text in texts:
                    student.send(text.encode(), [mentor.account])
                bundle = _request(server, student, 1_000)
                link.configure(latency_s=LATENCY, bandwidth_bps=RATE, connect_delay_s=4 * LATENCY)
                start = time.perf_counter()
                answer = relay.post(bundle)
                live = time.perf_counter() - start
                assert answer.status_code == 200
                row("request of 100 messages, link up (origin's answer)", live, "s")
                row("  its size", len(bundle) / 1024, "KiB", fmt=".1f")

                link.configure(cut_after_bytes=0)
                for connection in list(link._conns):
                    connection.abort(reset=True)
                start = time.perf_counter()
                held = relay.post(_request(server, student, 2_000))
                lan = time.perf_counter() - start
                assert held.status_code == 200
                row("next request, link down (held answer, LAN)", lan * 1000, "ms", fmt=".1f")

                for i, other in enumerate(others):
                    other.send(f"note {i} ".encode() * 40, [mentor.account])
                    assert relay.post(_request(server, other, 3_000 + i)).status_code == 202
                link.configure(cut_after_bytes=None)
                start = time.perf_counter()
                brought = relay.forwarder.run_once()
                drain = time.perf_counter() - start
                assert brought == 21, brought  # 20 queued, and the student's request of the link-down visit
                row("link back: 21 queued requests forwarded in one pass", drain, "s")
                row("  per request", drain / brought, "s")
            finally:
                relay.close()
                for client in (student, mentor, *others):
                    client.vault.close()


if __name__ == "__main__":
    main()
