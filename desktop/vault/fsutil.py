"""File writes outside SQLite: owner-only, and atomic (temp file, fsync, replace, fsync the folder), so a
crash at any instant leaves either the old file or the new one, never a torn one."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

OWNER_ONLY_FILE = 0o600
OWNER_ONLY_DIR = 0o700
TEMP_SUFFIX = ".osler-tmp"


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (a no-op where directories cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def make_private_dir(path: Path) -> None:
    path.mkdir(mode=OWNER_ONLY_DIR, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path, OWNER_ONLY_DIR)


def atomic_write(path: Path, chunks: bytes | Iterable[bytes]) -> None:
    """Replace ``path`` with ``chunks`` atomically and durably, owner-only."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), OWNER_ONLY_FILE)
    try:
        try:
            for chunk in [chunks] if isinstance(chunks, bytes | bytearray) else chunks:
                view = memoryview(chunk)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def remove_stale_temp_files(folder: Path, name: str) -> None:
    """Delete temp files a killed ``atomic_write`` of ``folder/name`` left behind (never the real file)."""
    for leftover in folder.glob(f".{name}.*{TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            leftover.unlink()
