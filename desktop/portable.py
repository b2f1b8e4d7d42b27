"""Portable mode: Osler runs from a USB stick and keeps everything on it.

``osler --portable``, or a file named ``osler-portable.txt`` next to the executable (the PyInstaller folder's
``osler``/``osler.exe``; from source, the folder holding ``desktop/``), puts the data root in ``osler-data/`` beside
it. Before Qt starts, every folder that Python, Qt and fontconfig would write to on the host (the temporary folder,
the XDG cache, config, data and state folders, Windows' APPDATA and LOCALAPPDATA, and the XDG runtime folder when
the session has none: its own is in RAM and holds the display's socket) is pointed inside
``osler-data/local/``, and a source run writes no bytecode. The host keeps no settings, caches or temporary files;
it still sees the process while it runs (its RAM, swap and anything logging keys), which no folder choice can hide.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

MARKER = "osler-portable.txt"
DATA_FOLDER = "osler-data"
LOCAL = "local"
# variable -> folder under osler-data/local/
REDIRECTED = {
    "TMPDIR": "tmp",
    "TEMP": "tmp",
    "TMP": "tmp",
    "XDG_CACHE_HOME": "cache",
    "XDG_CONFIG_HOME": "config",
    "XDG_DATA_HOME": "data",
    "XDG_STATE_HOME": "state",
    "APPDATA": "config",  # Windows: what Python and Qt's own files read from the environment
    "LOCALAPPDATA": "cache",
}


def app_folder() -> Path:
    """Where the executable is: the PyInstaller folder, or for a source run the folder holding ``desktop/``."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve().parent
    return Path(__file__).resolve().parent.parent


def portable_root(asked: bool, folder: Path | None = None) -> Path | None:
    """The data root of portable mode when it is asked for (the flag or the marker file), else None."""
    folder = folder or app_folder()
    if asked or (folder / MARKER).is_file():
        return folder / DATA_FOLDER
    return None


def confine(root: Path) -> None:
    """Point every per-user folder Python, Qt and fontconfig might write to inside ``root``. Call before Qt
    starts (fontconfig and QStandardPaths read these variables when first used)."""
    local = root / LOCAL
    for variable, name in REDIRECTED.items():
        folder = local / name
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.environ[variable] = str(folder)
    if not os.environ.get("XDG_RUNTIME_DIR"):  # the session's own one is in RAM (and holds the Wayland socket)
        runtime = local / "runtime"
        runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    tempfile.tempdir = str(local / "tmp")
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    sys.dont_write_bytecode = True  # a source run leaves no __pycache__ on the host (or the stick)
