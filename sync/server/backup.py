"""``osler-server backup`` / ``restore`` for a server on SQLite, safe while it serves.

A backup is a folder: ``server.db`` (a consistent snapshot taken with SQLite's online backup API, which reads one
transaction's view while ``serve`` goes on writing in WAL mode), ``blobs/`` (complete, content-addressed and
immutable blobs, copied after the snapshot, so every blob a backed-up record names is there) and
``backup.json`` (what it holds). It is written under a temporary name and renamed when complete, so a folder
with the final name is always a whole backup. PostgreSQL deployments use ``pg_dump`` for the records instead
(README, "Running a server") and copy the blobs folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sync.clock import SYSTEM, Clock

FORMAT = 1
_SHA = re.compile(r"^[0-9a-f]{64}$")


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupInfo:
    folder: Path
    records: int
    accounts: int
    blobs: int
    created: str


def _blob_files(blobs: Path) -> list[Path]:
    if not blobs.is_dir():
        return []
    return sorted(p for p in blobs.glob("??/*") if _SHA.match(p.name) and p.parent.name == p.name[:2] and p.is_file())


def _count(db: sqlite3.Connection, table: str) -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - our own table names


def _check(db_path: Path) -> tuple[int, int]:
    with sqlite3.connect(db_path) as db:
        problem = db.execute("PRAGMA integrity_check").fetchone()[0]
        if problem != "ok":
            raise BackupError(f"{db_path} is damaged: {problem}")
        try:
            return _count(db, "records"), _count(db, "accounts")
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{db_path} is not an Osler server database ({exc})") from exc


def _copy_database(source: Path, target: Path) -> None:
    """One consistent copy through SQLite's backup API (all pages in one step: one read transaction)."""
    src = sqlite3.connect(source, timeout=30)  # reads only; not mode=ro, which cannot open a WAL file alone
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _copy_blobs(source: Path, target: Path) -> int:
    copied = 0
    for blob in _blob_files(source):
        dest = target / blob.parent.name / blob.name
        if dest.is_file() and dest.stat().st_size == blob.stat().st_size:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{blob.name}.tmp")
        shutil.copyfile(blob, tmp)
        os.replace(tmp, dest)
        copied += 1
    return copied


def backup(data_dir: Path, dest: Path, clock: Clock = SYSTEM) -> BackupInfo:
    db = data_dir / "server.db"
    if not db.is_file():
        raise BackupError(f"no server database at {db}: check --data-dir")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} already exists: give a new folder for each backup")
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(f".{dest.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        _copy_database(db, partial / "server.db")
        records, accounts = _check(partial / "server.db")
        blobs = _copy_blobs(data_dir / "blobs", partial / "blobs")
        created = datetime.fromtimestamp(clock.time(), UTC).isoformat(timespec="seconds")
        info = {"format": FORMAT, "created": created, "records": records, "accounts": accounts, "blobs": blobs}
        (partial / "backup.json").write_text(json.dumps(info, indent=2) + "\n")
        if dest.exists():
            dest.rmdir()
        os.replace(partial, dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return BackupInfo(dest, records, accounts, blobs, created)


def restore(source: Path, data_dir: Path, *, replace: bool = False) -> BackupInfo:
    """Put a backup into ``data_dir`` (the server must be stopped). Refuses to overwrite a database unless
    ``replace``; blobs are added to those already there."""
    try:
        info = json.loads((source / "backup.json").read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source} is not an Osler backup (no readable backup.json)") from exc
    if info.get("format") != FORMAT:
        raise BackupError(f"{source} is a backup in format {info.get('format')}; this osler-server reads {FORMAT}")
    records, accounts = _check(source / "server.db")
    target = data_dir / "server.db"
    if target.exists() and not replace:
        raise BackupError(f"{target} already exists: stop the server, then run restore again with --force")
    data_dir.mkdir(parents=True, exist_ok=True)
    _copy_database(source / "server.db", target)
    blobs = _copy_blobs(source / "blobs", data_dir / "blobs")
    return BackupInfo(data_dir, records, accounts, blobs, str(info.get("created", "")))
