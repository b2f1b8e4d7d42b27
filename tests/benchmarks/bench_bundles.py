"""Sync bundles benchmark (issue 19): ``make bench`` (or ``python -m tests.benchmarks.bench_bundles``).

A student offline writes 1,000 messages (~400 B of varied English each) to a mentor who, online, wrote 1,000 to
the student. The student exports one request bundle (session.bundles.export_request); a carrier relays it to the
server (a real ``osler-server serve`` process) with one ``POST /v1/bundles``; the student imports the answer
(session.bundles.import_file). Printed:

1. sizes: the request against gzip -9 of the student's 1,000 texts, the answer against gzip -9 of the mentor's
   (each text is sealed, padded and bundled as online sync does, and carries its record's keys and ids);
2. times: export on the device, the server's ``osler-server import-bundle`` (a process, started cold, on a copy
   of the server's data), import on the device (up to every message shown);
3. the relay on the 2G link model of the other benches (tests/faultproxy.py in front of the server process:
   64 kbit/s each way, 300 ms one way, 2 round trips charged per new connection, starting cold): time, bytes each
   way, HTTP requests, TCP connections, and time ÷ bound, where the bound is setup (2 RTT) + 1 RTT + both
   directions' texts as gzip -9 streams ÷ rate (the answer can only start once the whole request is in), and
   time ÷ the bundles' own bytes on the link (how much the link adds beyond their size).

Prints figures and ratios; asserts only that the work was done (every message held once on each side).

Measured (2 shared cores): request 137.6 KB, 1.14× the gzip -9 of its texts (0.38× raw); answer 135.7 KB, 1.13×
(the 1,000 messages ride in 4-5 records: messaging bundles them as online sync does); export 5 ms; import-bundle
1.1 s as a cold process; device import 72 ms; relay on the 2G model 37.1 s in 1 request on 1 connection, 1.16×
the bound of 31.9 s (1.03× the bundles' own bytes on the link: the link adds almost nothing but their size).
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from desktop.domain.session import Session
from desktop.domain.settings import SettingsStore
from sync.client.transport import Transport
from tests.benchmarks.bench_messaging import varied_english
from tests.benchmarks.report import row
from tests.clients import Client, acquainted, make_client
from tests.faultproxy import FaultProxy
from tests.servers import ProcessServer

LATENCY = 0.300
RTT = 2 * LATENCY
RATE = 64_000
SETUP = 2 * RTT
N = 1000
ROOT = Path(__file__).resolve().parents[2]


def texts(n: int, seed: int) -> list[str]:
    made = varied_english(n, seed=seed)
    return [made[i % len(made)] + f" ({i})" for i in range(n)]  # ~380 distinct texts exist offline: numbered


def gz(items: list[str]) -> int:
    return len(gzip.compress("".join(items).encode(), 9))


def session(client: Client, folder: Path) -> Session:
    folder.mkdir(parents=True, exist_ok=True)
    return Session(client.vault, folder, SettingsStore(folder / "settings.json"))


def main() -> None:
    up, down = texts(N, 1), texts(N, 2)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        server = ProcessServer(tmp / "server").start()
        try:
            student = make_client(tmp / "student", server.url, server.invite())
            mentor = make_client(tmp / "mentor", server.url, server.invite("mentor"))
            acquainted(student, mentor)
            mine, theirs = session(student, tmp / "student-data"), session(mentor, tmp / "mentor-data")
            mine.engine.sync_once()
            mine.bundles.fetch_server_keys()  # the student's last online moment
            thread = theirs.messaging.start_direct(student.account.hex())
            for text in down:
                theirs.messaging.send(thread, text)
            theirs.engine.sync_once()
            own = mine.messaging.start_direct(mentor.account.hex())
            for text in up:
                mine.messaging.send(own, text)

            (tmp / "usb").mkdir()
            carried = {r.id for r in mine.vault.records.by_state("outbox")}
            started = time.perf_counter()
            exported = mine.bundles.export_request(tmp / "usb")
            export_s = time.perf_counter() - started
            request = exported.path.read_bytes()

            # the coordinator's import-bundle on a copy of the server's data (started cold, as an operator runs it)
            server.stop()
            shutil.copytree(tmp / "server", tmp / "server-copy")
            server.start()
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "sync.server.cli", "--data-dir", str(tmp / "server-copy"), "import-bundle",
                 str(exported.path), "--out", str(tmp / "cli-answer")],
                check=True, capture_output=True, cwd=ROOT,
            )  # fmt: skip
            cli_s = time.perf_counter() - started

            # the carrier's relay over the 2G link, cold: a new connection, no sign-in (the bundle is its own proof)
            with FaultProxy(
                "127.0.0.1", server.port, latency_s=LATENCY, bandwidth_bps=RATE, connect_delay_s=SETUP
            ) as proxy:
                transport = Transport(proxy.url)
                calls = []
                transport._session.hooks["response"].append(lambda r, *a, **k: calls.append(r.status_code))
                started = time.perf_counter()
                answer = transport.post_bundle(request)
                relay_s = time.perf_counter() - started
                link = (proxy.bytes_up, proxy.bytes_down, proxy.connections, len(calls))
                transport.close()
            (tmp / "usb" / "answer.oslersync").write_bytes(answer)

            started = time.perf_counter()
            applied = mine.bundles.import_file(tmp / "usb" / "answer.oslersync")
            import_s = time.perf_counter() - started
            held = Counter(m.body for m in student.vault.messages.iter_all())
            assert all(held[t] == 1 for t in up + down), "the student holds every message once"
            left = {r.id for r in mine.vault.records.by_state("outbox")}
            assert not carried & left, "every record the request carried was accepted"
            theirs.engine.sync_once()
            theirs.messaging.take_in()
            got = Counter(m.body for m in mentor.vault.messages.iter_all())
            assert all(got[t] == 1 for t in up), "the mentor holds every message once"
            mine.stop()
            theirs.stop()
        finally:
            server.stop()

    raw_up, raw_down = sum(len(t.encode()) for t in up), sum(len(t.encode()) for t in down)
    gz_up, gz_down = gz(up), gz(down)
    bound = SETUP + RTT + (gz_up + gz_down) * 8 / RATE
    own = SETUP + RTT + (len(request) + len(answer)) * 8 / RATE
    print(f"sync bundles: {N} messages each way, {raw_up / N:.0f} B of English each")
    row("request bundle (the student's 1,000)", len(request), "B", fmt=".0f")
    row("  ÷ gzip -9 of the texts", len(request) / gz_up, "×", fmt=".2f")
    row("  ÷ raw texts", len(request) / raw_up, "×", fmt=".2f")
    row("answer bundle (the mentor's 1,000)", len(answer), "B", fmt=".0f")
    row("  ÷ gzip -9 of the texts", len(answer) / gz_down, "×", fmt=".2f")
    row("  ÷ raw texts", len(answer) / raw_down, "×", fmt=".2f")
    row(f"  records in / accepted ({applied.records_in} / {applied.accepted})", applied.records_in, "", fmt=".0f")
    row("export on the device (make + write the file)", export_s, "s", fmt=".3f")
    row("osler-server import-bundle (a process, cold start)", cli_s, "s", fmt=".3f")
    row("import on the device (up to every message shown)", import_s, "s", fmt=".3f")
    print("  relay on the 2G link (64 kbit/s each way, 300 ms one way, 2 RTT per new connection, cold)")
    row("time, POST start to the whole answer held", relay_s, "s", fmt=".2f")
    row("  bound: 2 RTT setup + 1 RTT + both directions' texts gzip -9 ÷ rate", bound, "s", fmt=".2f")
    row("  time ÷ bound", relay_s / bound, "×", fmt=".2f")
    row("  time ÷ (setup + RTT + the two bundles' bytes ÷ rate)", relay_s / own, "×", fmt=".2f")
    row("bytes up (request + HTTP headers)", link[0], "B", fmt=".0f")
    row("bytes down (answer + HTTP headers)", link[1], "B", fmt=".0f")
    row("  ÷ both directions' texts as gzip -9 streams", (link[0] + link[1]) / (gz_up + gz_down), "×", fmt=".2f")
    row("HTTP requests", link[3], "", fmt=".0f")
    row("TCP connections", link[2], "", fmt=".0f")


if __name__ == "__main__":
    main()
