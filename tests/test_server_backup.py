"""``osler-server backup`` / ``restore`` against a real server process that keeps serving (and writing) meanwhile,
and options placed after the verb."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import requests

from sync.protocol import BLOB_CHUNK
from tests.clients import make_client
from tests.servers import ProcessServer
from tests.test_server_blobs import _join, _put


def cli(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sync.server.cli", *map(str, args)], capture_output=True, text=True, check=False
    )


def test_init_and_invite_take_the_data_dir_after_the_verb(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = cli("init", "--data-dir", data)
    assert result.returncode == 0, result.stderr
    assert (data / "server.db").is_file()
    codes = cli("invite", "--role", "mentor", "--count", "2", "--data-dir", data).stdout.split()
    assert len(codes) == 2
    assert cli("--data-dir", data, "invite", "--role", "student").returncode == 0  # before the verb still works


def test_backup_while_serving_then_restore_elsewhere(tmp_path: Path) -> None:
    server = ProcessServer(tmp_path / "data").start()
    writing = threading.Event()
    stop = threading.Event()
    try:
        alice = make_client(tmp_path / "alice", server.url, server.invite())
        bob = make_client(tmp_path / "bob", server.url, server.invite())
        sent = {alice.send(f"before the backup {i}".encode(), [bob.account]).i for i in range(20)}
        alice.engine().sync_once()
        blob = os.urandom(BLOB_CHUNK + 100)
        sha = hashlib.sha256(blob).hexdigest()
        token = _join(server.url, server.invite())
        for index, offset in enumerate(range(0, len(blob), BLOB_CHUNK)):
            assert _put(server.url, token, sha, len(blob), index, blob[offset : offset + BLOB_CHUNK]).ok

        carol = make_client(tmp_path / "carol", server.url, server.invite())

        def keep_writing() -> None:  # the server goes on writing throughout the backup
            engine = carol.engine()
            while not stop.is_set():
                carol.send(b"during the backup", [carol.account])
                engine.sync_once()
                writing.set()

        writer = threading.Thread(target=keep_writing)
        writer.start()
        assert writing.wait(20)
        result = cli("backup", tmp_path / "backup", "--data-dir", tmp_path / "data")
        stop.set()
        writer.join(timeout=30)
        assert result.returncode == 0, result.stderr
        assert "backed up" in result.stdout
        info = json.loads((tmp_path / "backup" / "backup.json").read_text())
        assert info["records"] >= 21 and info["blobs"] == 1
        with sqlite3.connect(tmp_path / "backup" / "server.db") as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        again = cli("backup", tmp_path / "backup", "--data-dir", tmp_path / "data")
        assert again.returncode == 1 and "already exists" in again.stderr  # never written over
    finally:
        stop.set()
        server.stop()

    restored = tmp_path / "restored"
    result = cli("restore", tmp_path / "backup", "--data-dir", restored)
    assert result.returncode == 0, result.stderr
    refused = cli("restore", tmp_path / "backup", "--data-dir", restored)
    assert refused.returncode == 1 and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr

    second = ProcessServer(restored).start()
    try:
        bob.engine(second.url).sync_once()  # bob's device and token came back with the database
        assert sent <= {r.i for r in bob.inbound()}
        got = requests.get(f"{second.url}/v1/blobs/{sha}", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert got.status_code == 200 and got.content == blob
    finally:
        second.stop()


def test_backup_of_a_postgresql_server_points_to_pg_dump(tmp_path: Path) -> None:
    result = cli("backup", tmp_path / "b", "--database", "postgresql+psycopg://u@127.0.0.1/osler")
    assert result.returncode == 2
    assert "pg_dump" in result.stderr and "Traceback" not in result.stderr
