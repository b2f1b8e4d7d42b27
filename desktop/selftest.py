"""``osler --self-test``: prove that this installation works, with no network and no trace left behind.

It creates a vault in a new temporary folder, unlocks it, starts the embedded demo server, syncs once, renders the
main window (offscreen when there is no screen) and exits 0. Everything it writes, Qt's and fontconfig's caches
included, goes under that folder, which is removed at the end. A packaging mistake (a missing data file, a Qt
plugin left out) shows up here rather than at a student's first start.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop.i18n import _

PASSPHRASE = "self-test quartz lantern ferry"  # noqa: S105 - a throwaway vault in a throwaway folder
EXIT_BROKEN, EXIT_CANNOT_WRITE = 1, 2


CALLS = 1_000  # Qt calls the binding check makes: far from the ~5,000 references None starts with


def make_folder(base: Path | None) -> Path:
    """The temporary folder, under ``base`` or the system's temporary folder (TMPDIR); OSError when neither
    can be written."""
    folder = Path(tempfile.mkdtemp(prefix="osler-self-test-", dir=base))
    probe = folder / "probe"
    probe.write_bytes(b"")  # mkdtemp can succeed where writing cannot (a full disk, a read-only bind mount)
    probe.unlink()
    return folder


def confine(folder: Path) -> None:
    """Point every per-user folder Qt, fontconfig and Python might write to inside ``folder``."""
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        path = folder / name.lower()
        path.mkdir()
        os.environ[name] = str(path)
    runtime = folder / "runtime"
    runtime.mkdir(mode=0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    os.environ.pop("OSLER_DATA_DIR", None)
    sys.dont_write_bytecode = True  # running from source must not leave __pycache__ beside it
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def run(base: Path | None = None, out: Callable[[str], None] = print, screenshot: Path | None = None) -> int:
    """0 when every step passed, 1 when one failed (named, with its traceback on stderr), 2 when there is no
    folder to work in. ``screenshot``: also save the drawn main window there (the one file written outside)."""
    if screenshot is not None:
        screenshot = screenshot.resolve()
    try:
        folder = make_folder(base)
    except OSError as exc:
        where = base or Path(tempfile.gettempdir())
        out(
            _(
                "Osler's self-test cannot write to {folder} ({reason}). Run it where it may write: "
                "osler --self-test --data-dir A_WRITABLE_FOLDER, or set TMPDIR."
            ).format(folder=where, reason=exc.strerror or type(exc).__name__)
        )
        return EXIT_CANNOT_WRITE
    try:
        confine(folder)
        return _steps(folder, out, screenshot)
    finally:
        logging.shutdown()
        shutil.rmtree(folder, ignore_errors=True)


def _steps(folder: Path, out: Callable[[str], None], screenshot: Path | None) -> int:
    state: dict[str, Any] = {"screenshot": screenshot}
    steps: list[tuple[str, Callable[[], str]]] = [
        (_("create a vault"), lambda: _create(folder, state)),
        (_("unlock it"), lambda: _unlock(folder, state)),
        (_("start the demo server and join it"), lambda: _join(folder, state)),
        (_("sync once"), lambda: _sync(folder, state)),
        (_("draw the main window"), lambda: _render(state)),
        (_("check the Qt binding keeps its references"), _binding),
        (_("match interests across languages"), _topics),
        (_("encode and decode a voice note"), _voice),
        (_("show Library images"), _images),
    ]
    try:
        for label, step in steps:
            try:
                detail = step()
            except Exception as exc:
                out(
                    _("self-test FAILED at “{step}”: {problem}").format(
                        step=label, problem=f"{type(exc).__name__}: {exc}"
                    )
                )
                traceback.print_exc(file=sys.stderr)
                return EXIT_BROKEN
            out(_("self-test: {step}: ok {detail}").format(step=label, detail=detail).rstrip())
    finally:
        _close(state)
    out(_("self-test passed"))
    return 0


def _create(folder: Path, state: dict[str, Any]) -> str:
    from desktop.vault import KdfParams, Vault

    vault, _key = Vault.create(folder / "vault", PASSPHRASE, params=KdfParams.floor())
    vault.close()
    return ""


def _unlock(folder: Path, state: dict[str, Any]) -> str:
    from desktop.vault import Vault

    vault = Vault.open(folder / "vault")
    vault.unlock(PASSPHRASE)
    state["vault"] = vault
    return ""


def _join(folder: Path, state: dict[str, Any]) -> str:
    from desktop.domain.session import join_demo

    program, server = join_demo(state["vault"], folder, "self-test", "student")
    state["server"] = server
    return f"({server.url}, {program.role})"


def _sync(folder: Path, state: dict[str, Any]) -> str:
    from desktop.domain.session import Session
    from desktop.domain.settings import SettingsStore

    session = Session(state["vault"], folder, SettingsStore(folder / "settings.json"), demo_server=state.pop("server"))
    state["session"] = session
    progress = session.engine.sync_once()
    threads = session.messaging.threads() if session.messaging is not None else []
    if progress.records_down == 0 or not threads:
        raise RuntimeError(f"the sync brought nothing: {progress}")
    return f"({progress.records_down} records, {len(threads)} conversations)"


def _render(state: dict[str, Any]) -> str:
    from PySide6.QtWidgets import QApplication

    from desktop.ui.fonts import BUNDLED, register
    from desktop.ui.main_window import MainScreen
    from desktop.ui.shell import OslerWindow

    app = QApplication.instance() or QApplication(["osler"])
    missing = set(BUNDLED.values()) - set(register())
    if missing:  # a package built without desktop/assets/fonts: those scripts would show boxes
        raise RuntimeError(f"the bundled fonts did not load: {', '.join(sorted(missing))}")
    window = OslerWindow()
    state["window"] = window
    main = MainScreen(state["session"])
    window.show_screen(main, with_sync_bar=True)
    window.resize(1100, 720)
    window.show()
    for view in ("home", "messages", "mentors"):
        main.navigate(view)
        app.processEvents()
    image = window.grab().toImage()
    if image.isNull() or image.width() < 100:
        raise RuntimeError("the main window drew nothing")
    colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 23)}
    if len(colours) < 3:
        raise RuntimeError("the main window is blank")
    if state["screenshot"] is not None and not image.save(str(state["screenshot"])):
        raise RuntimeError(f"could not save {state['screenshot']}")
    return f"({image.width()}×{image.height()}, {app.platformName()})"


def _binding() -> str:
    """PySide6-Essentials 6.12.0 on Python 3.11 drops a reference to None on every Qt call that returns nothing:
    after a few thousand (an hour of use) Python frees None and the app aborts. pyproject.toml excludes that
    release; this step refuses a package built with it or any later release with the same fault."""
    import PySide6
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    before = sys.getrefcount(None)
    for _turn in range(CALLS):
        label.setText("x")
    lost = before - sys.getrefcount(None)
    if lost > CALLS // 2:  # immortal None (Python 3.12+) never moves; a faulty binding loses one per call
        raise RuntimeError(f"PySide6 {PySide6.__version__} lost {lost} references to None in {CALLS} calls")
    return f"(PySide6 {PySide6.__version__}, Python {sys.version.split()[0]})"


def _topics() -> str:
    """The topic vocabulary and the stemmers shipped: "paludisme" and "الملاريا" are the same topic."""
    from desktop.domain import topics

    if not topics.topics_of("paludisme") & topics.topics_of("الملاريا"):
        raise RuntimeError(f"the topic vocabulary under {topics.TOPICS_DIR} does not match across languages")
    return f"({len(topics.vocabulary().names)} topics)"


def _voice() -> str:
    """The bundled libsndfile writes and reads Ogg Opus (the microphone is not needed: none may be plugged in)."""
    import math
    import struct

    from desktop.domain import sndfile, voice

    tone = [int(8000 * math.sin(2 * math.pi * 220 * i / voice.RATE)) for i in range(voice.RATE)]
    note = voice.encode(struct.pack(f"<{len(tone)}h", *tone), voice.RATE)
    pcm, rate = voice.decode(note)
    if abs(len(pcm) / 2 / rate - 1) > 0.02:
        raise RuntimeError("a one-second voice note did not decode to one second")
    return f"({sndfile.version()}, {len(note)} bytes a second)"


def _images() -> str:
    """Qt's PNG, JPEG and WebP codecs are in the package: each writes a picture that the Library's image pane reads
    back from memory."""
    from PySide6.QtCore import QBuffer, QIODevice
    from PySide6.QtGui import QColor, QImage

    from desktop.ui.views.media_panes import decode_image

    image = QImage(64, 48, QImage.Format.Format_RGB32)
    image.fill(QColor("teal"))
    for kind in ("PNG", "JPEG", "WEBP"):
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        if not image.save(buffer, kind):
            raise RuntimeError(f"Qt cannot write {kind}: its image plugin is missing")
        if decode_image(bytes(buffer.data().data())).size() != image.size():
            raise RuntimeError(f"a {kind} image did not read back")
    return "(PNG, JPEG, WebP)"


def _close(state: dict[str, Any]) -> None:
    window = state.pop("window", None)
    if window is not None:
        window.close()
    session = state.pop("session", None)
    if session is not None:
        session.stop()
    server = state.pop("server", None)
    if server is not None:
        server.stop()
    vault = state.pop("vault", None)
    if vault is not None:
        vault.close()
