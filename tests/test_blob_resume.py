"""Attachment downloads that the app did not finish: a ``.part`` file left at any point, even with every byte in
it, is resumed, verified and finished, never reported as "wrong server"."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.clients import make_client
from tests.faultproxy import FaultProxy

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def uploaded(client_factory) -> tuple[object, bytes, str]:
    """A reader client and a 300,000-byte blob (5 chunks) someone else uploaded."""
    writer, reader = client_factory(), client_factory()
    blob = os.urandom(300_000)
    sha = writer.engine().upload_blob(blob)
    return reader, blob, sha


def test_a_part_file_with_every_byte_is_verified_and_finished(uploaded, tmp_path: Path):
    """The app died after the last byte reached ``<sha>.part`` but before the rename."""
    reader, blob, sha = uploaded
    destination = tmp_path / sha
    (tmp_path / f"{sha}.part").write_bytes(blob)
    assert reader.engine().download_blob(sha, destination) == destination
    assert destination.read_bytes() == blob and not (tmp_path / f"{sha}.part").exists()


@pytest.mark.parametrize("content", ["same-length-corrupt", "too-long"])
def test_a_full_but_bad_part_file_is_discarded_and_fetched_again(uploaded, tmp_path: Path, content: str):
    """The server answers 416 (nothing past the end): what is on disk is checked, found bad, and fetched anew."""
    reader, blob, sha = uploaded
    bad = bytes(len(blob)) if content == "same-length-corrupt" else blob + b"tail"
    (tmp_path / f"{sha}.part").write_bytes(bad)
    reader.engine().download_blob(sha, tmp_path / sha)
    assert (tmp_path / sha).read_bytes() == blob and not (tmp_path / f"{sha}.part").exists()


def test_a_finished_file_left_by_a_dead_app_is_used_as_it_is(uploaded, tmp_path: Path):
    """The app died after the rename, before the attachment was stored: the verified file is used again."""
    reader, blob, sha = uploaded
    (tmp_path / sha).write_bytes(blob)
    engine = reader.engine(url="http://127.0.0.1:9")  # nothing listens there: no request may be needed
    assert engine.download_blob(sha, tmp_path / sha).read_bytes() == blob


CHILD = """
import sys
import time
from pathlib import Path
from desktop.domain.sync_adapter import load_program
from desktop.vault import Vault
from sync.client.engine import SyncEngine
from sync.client.transport import Transport
vault = Vault.open(sys.argv[1]); vault.unlock("client passphrase")
program = load_program(vault)
vault.close()
engine = SyncEngine(Transport(sys.argv[2]), None, program.credentials)
print("ready", flush=True)
engine.download_blob(sys.argv[3], Path(sys.argv[4]))
print("done", flush=True)
"""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_download_killed_in_a_real_process_then_resumed(server, tmp_path: Path):
    """A client process downloading over a slow link is killed when its ``.part`` holds a third, two thirds and
    all of the blob; each time the app starts again it finishes the download from what is on disk."""
    writer = make_client(tmp_path / "w", server.url, server.invite())
    reader = make_client(tmp_path / "r", server.url, server.invite())
    reader_dir = Path(reader.vault.folder)
    reader.vault.close()
    blob = os.urandom(600_000)
    sha = writer.engine().upload_blob(blob)
    assert sha == hashlib.sha256(blob).hexdigest()
    outcomes = []
    with FaultProxy("127.0.0.1", server.port, bandwidth_bps=8_000_000) as proxy:
        for fraction in (1 / 3, 2 / 3, 1.0):
            downloads = tmp_path / f"downloads-{fraction:.2f}"
            downloads.mkdir()
            part, destination = downloads / f"{sha}.part", downloads / sha
            args = [sys.executable, "-c", CHILD, str(reader_dir), proxy.url, sha, str(destination)]
            child = subprocess.Popen(args, stdout=subprocess.PIPE, cwd=ROOT)
            assert child.stdout.readline().strip() == b"ready"
            while child.poll() is None and not (part.exists() and part.stat().st_size >= fraction * len(blob)):
                time.sleep(0.001)
            child.send_signal(signal.SIGKILL)
            child.wait()
            child.stdout.close()
            outcomes.append("renamed" if destination.exists() else f"part {part.stat().st_size}")
            assert reader.engine(url=proxy.url).download_blob(sha, destination).read_bytes() == blob
            assert not part.exists()
    print(f"\nkilled at: {outcomes}")
