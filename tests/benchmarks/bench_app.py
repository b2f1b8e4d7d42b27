"""Desktop app benchmark: ``make bench`` (or ``python -m tests.benchmarks.bench_app``).

1. Cold start to the unlock screen: a new process, as a person double-clicking the icon (interpreter start,
   imports, Qt, the window drawn), against a vault that holds the demo programme.
2. Unlock to a populated Home with the demo data, the KDF excluded (it is tuned to cost ~0.65 s on purpose).
3. Resident memory once Home is populated (the demo's embedded server included, as it runs in the app).
Prints figures beside the targets; asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import psutil
from PySide6.QtWidgets import QApplication

from desktop.app import OslerApp
from desktop.domain.demo_library import media_items
from desktop.domain.profiles import Profiles
from tests.benchmarks.report import row

LIBRARY_ITEMS = 12 + len(media_items())  # the Markdown notes and the demo's PDFs, image and audio clip

PASSPHRASE = "violet harbour lantern"
ROOT = Path(__file__).resolve().parents[2]


def prepare(data_dir: str) -> None:
    """A vault (calibrated KDF, as a real one) that joined the demo programme and synced it. Run in its own
    process, so this one has imported nothing of the session when it measures the first unlock."""
    from desktop.domain.session import Session, join_demo
    from desktop.domain.settings import SettingsStore
    from desktop.vault import Vault

    data_dir = Path(data_dir)
    vault, _key = Vault.create(data_dir / "vault", PASSPHRASE)
    _program, server = join_demo(vault, data_dir, "bench")
    session = Session(vault, data_dir, SettingsStore(data_dir / "settings.json"), demo_server=server)
    session.engine.sync_once()
    session.stop()
    vault.close()


def cold_start(data_dir: Path) -> tuple[float, float]:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "desktop.app", "--data-dir", str(data_dir), "--startup-probe"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    wall = time.perf_counter() - started
    internal = float(next(line for line in out.stdout.splitlines() if line.startswith("first-screen")).split()[1])
    return wall, internal


def unlock_to_home(app: QApplication, data_dir: Path) -> tuple[float, float, int]:
    osler = OslerApp(data_dir)
    osler.window.show()
    app.processEvents()
    deadline = time.monotonic() + 10
    while not osler.warmed.is_set() and time.monotonic() < deadline:  # the person types their passphrase
        app.processEvents()
        time.sleep(0.01)
    started = time.perf_counter()
    timing = osler.vault.unlock(PASSPHRASE)
    osler._unlocked(osler.vault, timing.kdf_seconds)
    app.processEvents()
    home = osler.main.home
    assert osler.main is not None and "36" in home.lines["mentors"].text(), home.lines["mentors"].text()
    assert osler.main.mentors.proxy.rowCount() == 36 and osler.main.library.model.rowCount() == LIBRARY_ITEMS
    elapsed = time.perf_counter() - started
    rss = psutil.Process().memory_info().rss
    osler.shutdown()
    return elapsed - timing.kdf_seconds, timing.kdf_seconds, rss, osler.warm_up_seconds


def main() -> None:
    print(f"desktop app benchmark (demo programme: 48 cards, {LIBRARY_ITEMS} library items)")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        subprocess.run(
            [sys.executable, "-c", f"from tests.benchmarks.bench_app import prepare; prepare({str(data_dir)!r})"],
            check=True,
            cwd=ROOT,
        )
        runs = [cold_start(data_dir) for _ in range(3)]
        row("cold start to unlock screen, new process (median of 3)", statistics.median(r[0] for r in runs), "s", 1.0)
        row("  of which inside the process, after interpreter start", statistics.median(r[1] for r in runs), "s")
        app = QApplication.instance() or QApplication([])
        profiles = Profiles(data_dir)  # the first cold start moved the vault into the first profile
        folder = profiles.folder(profiles.visible()[0])
        results = [unlock_to_home(app, folder) for _ in range(3)]
        row("background warm-up while the passphrase is typed (first)", results[0][3], "s")
        row("unlock to populated Home, KDF excluded: first, cold", results[0][0], "s", 0.5)
        row("unlock to populated Home, KDF excluded (median of 3)", statistics.median(r[0] for r in results), "s", 0.5)
        row("  KDF (Argon2id as calibrated at creation)", statistics.median(r[1] for r in results), "s")
        row("resident memory with Home populated (the first app of this process)", results[0][2] / 2**20, "MiB", 250)
        # each OslerApp made and shut down in one process leaves some behind; a person runs one
        row("  after two more apps in the same process (leftovers)", results[-1][2] / 2**20, "MiB")


if __name__ == "__main__":
    main()
