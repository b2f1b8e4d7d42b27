"""Portable mode (issue 15 part 5): Osler on a USB stick writes nothing on the host. Watched on the file system
during a real session: a copy of Osler in a "stick" folder, run as its own process with an empty fake home and an
empty temporary folder; it creates a vault, joins the demo, sends a message, syncs, locks and quits."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from desktop.portable import DATA_FOLDER, MARKER, portable_root

ROOT = Path(__file__).resolve().parent.parent

SESSION = """
import sys, time
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
import desktop.app as osler

root = osler.data_root(osler.parse_args(sys.argv[1:]))  # the same decision `osler` makes, before Qt starts
from PySide6.QtWidgets import QApplication
from desktop.domain.profiles import Profiles
from desktop.vault import KdfParams
from tests.pages import AppPage

app = QApplication(["osler"])
profiles = Profiles(root)
profiles.prepare()
window = osler.OslerApp(root, profiles=profiles, kdf_params=KdfParams.floor())
window.window.show()


class Bot:  # what pytest-qt's qtbot does for the page object, in this process
    def keyClicks(self, widget, text):
        QTest.keyClicks(widget, text)

    def keyClick(self, widget, key, modifier=Qt.KeyboardModifier.NoModifier):
        QTest.keyClick(widget, key, modifier)

    def mouseClick(self, widget, button):
        QTest.mouseClick(widget, button)

    def waitUntil(self, condition, timeout=5000):
        deadline = time.monotonic() + timeout / 1000
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the session did not get there")
            app.processEvents()
            time.sleep(0.01)


page = AppPage(Bot(), window)
page.enter_demo("stick granite harbour falcon")
chat = window.session.messaging
chat.send(chat.threads()[0].id, "sent from the stick")
page.sync_now()
page.wait_synced()
page.lock()
window.shutdown()
window.window.close()
app.processEvents()
print("session", root)
"""


def _files(folder: Path, skip: str = "") -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if not (skip and p.is_relative_to(folder / skip))}


def _stick(tmp_path: Path) -> Path:
    """Osler from source, copied onto a "stick" (the folder holding desktop/ is the executable's folder)."""
    stick = tmp_path / "stick"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in ("desktop", "sync", "locales"):
        shutil.copytree(ROOT / part, stick / part, ignore=ignore)
    return stick


def _run_session(tmp_path: Path, stick: Path, *args: str) -> subprocess.CompletedProcess:
    for name in ("home", "tmp"):
        (tmp_path / name).mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(tmp_path / "home"),
        "TMPDIR": str(tmp_path / "tmp"),
        "PYTHONPATH": os.pathsep.join([str(stick), str(ROOT)]),  # Osler from the stick; the page object from here
    }
    return subprocess.run(
        [sys.executable, "-B", "-c", SESSION, *args],  # -B: a source run on a stick (README) writes no bytecode
        env=env,
        cwd=stick,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_portable_mode_writes_nothing_outside_its_folder(tmp_path):
    stick = _stick(tmp_path)
    before = _files(stick)
    done = _run_session(tmp_path, stick, "--portable")
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    data = stick / DATA_FOLDER
    assert f"session {data}" in done.stdout
    assert sorted(os.listdir(tmp_path / "home")) == [], "the session wrote into the home folder"
    assert sorted(os.listdir(tmp_path / "tmp")) == [], "the session wrote into the host's temporary folder"
    assert _files(stick, skip=DATA_FOLDER) == before, "the session wrote beside Osler, outside osler-data/"
    vaults = list((data / "profiles").glob("*/vault"))
    assert len(vaults) == 1 and any(vaults[0].iterdir())  # the person's data is on the stick
    assert list((vaults[0].parent / "demo-server").iterdir())


def test_the_marker_file_next_to_osler_means_portable(tmp_path):
    assert portable_root(False, tmp_path) is None
    assert portable_root(True, tmp_path) == tmp_path / DATA_FOLDER
    (tmp_path / MARKER).write_text("", encoding="utf-8")
    assert portable_root(False, tmp_path) == tmp_path / DATA_FOLDER
