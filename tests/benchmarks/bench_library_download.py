"""Library download benchmark (issue 18): ``make bench`` or ``python -m tests.benchmarks.bench_library_download``.

The link model (issue 11's): 64 kbit/s each way, 300 ms one-way delay, 2 round trips charged for every new
connection (TCP + TLS), emulated by tests/faultproxy.py in front of a real server process; cold start (a new
session: no connection, no token). The work: a 20 MB library item (a v2 entry with its part list) queued in the
download manager (desktop/domain/downloads.py), the connection cut mid-chunk at about 90 % of the file, the
manager going on by itself after the cut.

Time is scaled, honestly: at 64 kbit/s, 20 MB takes 42 minutes. The link is run ``SCALE`` times faster with
delays ``SCALE`` times shorter (rate × SCALE, latency ÷ SCALE, connection setup ÷ SCALE): every byte count and
every ratio (bytes re-sent, link use, time ÷ bound) is the same as on the real link, since each is a ratio of
times that all shrink by ``SCALE``; times are printed scaled back to the 2G link (× SCALE). ``OSLER_BENCH_SCALE=1``
runs it at the real rate; the default is 16 (1.024 Mbit/s, 18.75 ms, 75 ms setup). One caveat of scaling: the
client's CPU work per byte (hashing, sealing into the vault) weighs SCALE times more against the link than at 2G.

The bound: what any client needs to move the same bytes over two connections (the cut forces the second):
2 × setup + 3 RTT (the part list's request, the file's, and the resumed file's) + (file + part list) ÷ rate.
The proxy runs in a process of its own: in the client's process, the client's work (hashing, sealing) holds the
GIL while the proxy's clock runs, and every late wake-up of the proxy is link time lost that the real link would
not lose. Prints figures and ratios, and the machine's load; asserts only that the file arrived whole.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from desktop.domain import downloads as dl
from desktop.domain.session import Session
from desktop.domain.settings import SettingsStore
from desktop.vault.blobs import CHUNK_SIZE
from tests.benchmarks.report import row
from tests.clients import make_client
from tests.download_helpers import file_bytes, publish
from tests.faultproxy import FaultProxy
from tests.servers import ProcessServer
from tests.waiting import eventually

SCALE = float(os.environ.get("OSLER_BENCH_SCALE", "16"))
RATE = 64_000  # bit/s each way, the real link
LATENCY = 0.300
RTT = 2 * LATENCY
SETUP = 2 * RTT
SIZE = 20_000_000
CUT_AT = 0.90


def _serve_proxy(target_port: int, conn: Any) -> None:
    """The child process: a FaultProxy answering commands on ``conn``."""
    with FaultProxy("127.0.0.1", target_port) as proxy:
        conn.send(proxy.port)
        while True:
            command = conn.recv()
            if command == "stop":
                conn.send(None)
                return
            if command == "counters":
                conn.send((proxy.bytes_up, proxy.bytes_down, proxy.connections))
            elif command == "reset":
                proxy.reset_counters()
                conn.send(None)
            else:
                proxy.configure(**command)
                conn.send(None)


class ProxyProcess:
    """tests/faultproxy.py's FaultProxy in a child process, driven through a pipe."""

    def __init__(self, target_port: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve_proxy, args=(target_port, child), daemon=True)
        self._process.start()
        self.port = self._conn.recv()
        self.url = f"http://127.0.0.1:{self.port}"

    def call(self, command: Any) -> Any:
        self._conn.send(command)
        return self._conn.recv()

    def stop(self) -> None:
        self.call("stop")
        self._process.join(10)


def main() -> None:
    print(f"Library download: 20 MB, cut at ~90 %, on the 2G link model (time scaled ÷{SCALE:g}, shown at 2G)")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        server = ProcessServer(tmp / "server").start()
        try:
            data = file_bytes(SIZE, seed=18)
            mentor = make_client(tmp / "mentor", server.url, server.invite("mentor"))
            item = publish(mentor.engine(), data, "A 20 MB lecture")
            parts_len = 32 * -(-SIZE // CHUNK_SIZE)
            proxy = ProxyProcess(server.port)
            try:
                student = make_client(tmp / "student", proxy.url, server.invite())
                settings = SettingsStore(tmp / "settings.json")
                settings.update(lambda s: replace(s, live_delivery=False, data_saver=False))
                session = Session(student.vault, tmp, settings)  # cold: a new transport, no token
                session.downloads.retry_s = 0.0  # after the cut, at once (the cut itself is noticed at once)
                proxy.call(
                    dict(
                        latency_s=LATENCY / SCALE,
                        bandwidth_bps=RATE * SCALE,
                        connect_delay_s=SETUP / SCALE,
                        # the part list's exchange and the file's request headers (~1.6 kB), then 90 % of the file,
                        # then half a chunk: the cut falls in the middle of a chunk
                        cut_after_bytes=parts_len
                        + 1_600
                        + int(CUT_AT * SIZE) // CHUNK_SIZE * CHUNK_SIZE
                        + CHUNK_SIZE // 2,
                        cut_once=True,
                    )
                )
                proxy.call("reset")
                gets: list[float] = []  # when each blob request left (the part list, the file, the resumed file)
                fetcher_get = session.downloads.fetcher._get

                def timed_get(sha: str, offset: int, end: int | None) -> Any:
                    gets.append(time.monotonic())
                    return fetcher_get(sha, offset, end)

                session.downloads.fetcher._get = timed_get  # type: ignore[method-assign]
                started = time.monotonic()
                session.downloads.enqueue(item)
                session.downloads.start()
                assert eventually(
                    lambda: any(e.state == dl.DONE for e in session.downloads.entries()),
                    timeout=4 * 3600 / SCALE,
                    step=0.5,  # a guard, not a measure: seldom, so it takes little of the CPU
                )
                elapsed = time.monotonic() - started
                held_at_cut = int(CUT_AT * SIZE) // CHUNK_SIZE * CHUNK_SIZE  # whole chunks kept before the cut
                session.stop()
                assert session.vault.blobs.read_all(item.sha256) == data
                stats = session.downloads.stats
                up, down, connections = proxy.call("counters")
            finally:
                proxy.stop()
        finally:
            server.stop()

    useful = SIZE + parts_len
    resent = stats.body_bytes - useful
    at_2g = elapsed * SCALE
    bound = 2 * SETUP + 3 * RTT + useful * 8 / RATE
    capacity = RATE / 8 * at_2g  # bytes the downlink could have carried meanwhile
    row("file + part list", useful, "bytes", fmt=",.0f")
    row("bytes re-sent after the cut (body bytes beyond the file)", resent, "bytes", target=CHUNK_SIZE, fmt=",.0f")
    row("  of which dropped (the chunk cut short)", stats.dropped_bytes, "bytes", fmt=",.0f")
    row("bytes down on the wire (headers included)", down, "bytes", fmt=",.0f")
    row("bytes up on the wire", up, "bytes", fmt=",.0f")
    row("blob requests (part list, file, resumed file)", stats.requests, "", fmt=".0f")
    row("connections", connections, "", fmt=".0f")
    row("time at 2G (measured ÷ scale, × scale)", at_2g, "s", fmt=".1f")
    row("bound (2 setups + 3 RTT + bytes ÷ rate)", bound, "s", fmt=".1f")
    row("time ÷ bound", at_2g / bound, "", fmt=".3f")
    if len(gets) == 3:
        before = (gets[2] - started) * SCALE  # until the resumed request left: the cut, and its noticing
        row("  until the cut's resumed request left (at 2G)", before, "s", fmt=".1f")
        row("  link use until then", (parts_len + held_at_cut) / (RATE / 8 * before), "", fmt=".3f")
        row("  after it, to the end (at 2G)", at_2g - before, "s", fmt=".1f")
    use = down / capacity
    print(f"  link use while downloading (wire bytes down ÷ capacity): {use:.1%}  target ≥ 95 %  "
          f"{'ok' if use >= 0.95 else 'MISSED'}")  # fmt: skip
    print(f"  load average (1, 5, 15 min) at the end: {', '.join(f'{n:.1f}' for n in os.getloadavg())}")
    print(f"  useful link use (file + part list ÷ capacity): {useful / capacity:.1%}")


if __name__ == "__main__":
    main()
