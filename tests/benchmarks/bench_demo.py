"""Demo programme benchmark: ``make bench`` (or ``python -m tests.benchmarks.bench_demo``). How long seeding the
demo server takes (once, at the first ``make run``), how long greeting a newcomer takes (at each join: two
mentors' messages and the research circle with its projects and discussion), and the bytes the newcomer's first
sync pulls through a counting proxy, with what that costs on the 2G link model (64 kbit/s down, 300 ms one way).
Prints figures; asserts nothing."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from desktop.domain import demo, demo_circle
from desktop.domain.session import Session, join_demo
from desktop.domain.settings import SettingsStore
from desktop.vault import KdfParams, Vault
from sync.server.blobstore import BlobStore
from sync.server.storage import Storage
from tests.benchmarks.report import row
from tests.faultproxy import FaultProxy

LINK_BPS = 64_000


def seed_time(tmp: Path) -> None:
    storage = Storage.for_data_dir(tmp / "seed")
    try:
        storage.create_schema()
        started = time.perf_counter()
        demo.seed(storage, BlobStore(tmp / "seed" / "blobs"))
        demo.seed_activity(storage)
        row("seed the demo server (people, library, activity)", time.perf_counter() - started, "s")
    finally:
        storage.dispose()


def first_sync(tmp: Path) -> None:
    vault, _ = Vault.create(tmp / "vault", "violet harbour lantern", params=KdfParams.floor())
    seeding = demo_circle.seed_circle
    spent = []

    def timed(*args, **kwargs) -> int:
        began = time.perf_counter()
        try:
            return seeding(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - began)

    demo_circle.seed_circle = timed
    started = time.perf_counter()
    try:
        _program, server = join_demo(vault, tmp, "demo")
    finally:
        demo_circle.seed_circle = seeding
    row("join the demo (start or seed the server, register, greet)", time.perf_counter() - started, "s")
    row("  of which the research circle, its projects and discussion", spent[0], "s")
    proxy = FaultProxy("127.0.0.1", server.port).start()
    relay = SimpleNamespace(url=f"http://127.0.0.1:{proxy.port}", stop=server.stop)
    session = Session(vault, tmp, SettingsStore(tmp / "settings.json"), demo_server=relay)
    try:
        session.engine.sync_once()
        down, up = proxy.bytes_down, proxy.bytes_up
        row("newcomer's first sync: bytes down", down / 1000, "KB", fmt=".1f")
        row("newcomer's first sync: bytes up", up / 1000, "KB", fmt=".1f")
        row("  of which at 64 kbit/s (transfer alone)", down * 8 / LINK_BPS, "s", fmt=".1f")
    finally:
        session.stop()
        proxy.stop()
        vault.close()


def main() -> None:
    print("demo programme")
    with tempfile.TemporaryDirectory() as tmp:
        seed_time(Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        first_sync(Path(tmp))


if __name__ == "__main__":
    main()
