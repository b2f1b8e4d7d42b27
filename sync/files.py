"""Files written whole or not at all, for the server (blob pieces, ``import-bundle`` answers) and the desktop
(bundles and carried requests on a USB stick): the one atomic writer both sides use."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_atomically(path: Path, data: bytes, suffix: str = ".tmp") -> None:
    """``data`` at ``path``, whole or not at all: written to a hidden temporary beside it (``.NAME.RANDOM`` +
    ``suffix``), flushed to the disk, then renamed over ``path``. A crash or a stick pulled out mid-write leaves
    the old file or none; the temporary is removed whatever happens."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{suffix}")
    try:
        with open(temp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
