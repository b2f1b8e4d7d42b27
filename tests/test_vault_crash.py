"""A passphrase change killed with SIGKILL at random instants: the vault always opens with the old or the new
passphrase, never neither, and its data is intact."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop.vault import StoredMessage, Vault, WrongPassphrase
from tests.conftest import PASSPHRASE

OTHER = "a different passphrase entirely"
KILLS = 50

# The child alternates between the two passphrases as fast as it can, so every instant of its life after
# "ready" is inside some passphrase change: KDF, re-wrap, temp-file write, fsync, rename, folder fsync.
CHILD = """
import sys
from desktop.vault import Vault
vault = Vault.open(sys.argv[1])
old, new = sys.argv[2], sys.argv[3]
print("ready", flush=True)
while True:
    vault.change_passphrase(old, new)
    old, new = new, old
"""


def _which_opens(vault_dir: Path) -> str:
    for candidate in (PASSPHRASE, OTHER):
        vault = Vault.open(vault_dir)
        try:
            vault.unlock(candidate)
        except WrongPassphrase:
            continue
        try:
            assert [m.body for m in vault.messages.newest(5)] == ["still here"]
        finally:
            vault.close()
        return candidate
    raise AssertionError("the vault opens with neither passphrase")


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_passphrase_change_survives_sigkill_at_random_instants(created, vault_dir: Path):
    vault, _ = created
    vault.messages.put(StoredMessage("m", "t", "a", 1, "received", "still here"))
    vault.close()
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    current = PASSPHRASE
    seen = {PASSPHRASE: 0, OTHER: 0}
    leftovers = 0
    for _ in range(KILLS):
        other = OTHER if current == PASSPHRASE else PASSPHRASE
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(vault_dir), current, other],
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parent.parent,
        )
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.6))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        leftovers += any(p.name.endswith(".osler-tmp") for p in vault_dir.iterdir())
        current = _which_opens(vault_dir)
        seen[current] += 1
        assert not any(p.name.endswith(".osler-tmp") for p in vault_dir.iterdir()), "open() clears stale temp files"
    print(
        f"\nkills={KILLS} opened-with-original={seen[PASSPHRASE]} opened-with-other={seen[OTHER]} "
        f"killed-mid-write={leftovers}"
    )
    assert seen[PASSPHRASE] and seen[OTHER], "kills should land both before and after completed changes"


def test_every_intermediate_state_of_the_key_file_write_opens(created, vault_dir: Path):
    """The atomic write has three on-disk states before the rename lands: no temp file, a partial temp file,
    a complete temp file. Each must open with the old passphrase and leave no temp file behind."""
    vault, _ = created
    vault.messages.put(StoredMessage("m", "t", "a", 1, "received", "still here"))
    vault.close()
    key = vault_dir / "vault.key"
    complete = key.read_bytes()
    for partial in (b"", complete[: len(complete) // 2], complete.replace(b'"version": 1', b'"version": 1 ')):
        (vault_dir / ".vault.key.0123456789ab.osler-tmp").write_bytes(partial)
        assert _which_opens(vault_dir) == PASSPHRASE
        assert not list(vault_dir.glob("*.osler-tmp"))


def test_a_checkpoint_cut_after_its_first_page_opens(created, vault_dir: Path, tmp_path: Path):
    """Found by the send-kill test: a checkpoint writes page 1 (with the new page count) before the pages that
    grow the file, so a kill between them leaves vault.db shorter than its header says while the write-ahead log
    still holds every page. That is a whole vault, not a truncated one."""
    import shutil
    import sqlite3

    vault, _ = created
    vault._db.execute("PRAGMA wal_autocheckpoint = 0")  # everything below stays in the log
    vault.messages.put_many([StoredMessage(f"m{i}", "t", "a", i, "received", "x" * 500) for i in range(400)])
    pages = vault._db.execute("PRAGMA page_count").fetchone()[0]
    image = tmp_path / "image"
    shutil.copytree(vault_dir, image)  # what the disk holds if the app dies now
    vault.close()
    header = bytearray((image / "vault.db").read_bytes())
    assert len(header) // 4096 < pages, "the file has not grown yet"
    header[28:32] = pages.to_bytes(4, "big")  # the checkpoint wrote page 1, then was killed
    (image / "vault.db").write_bytes(bytes(header))
    reopened = Vault.open(image)
    reopened.unlock(PASSPHRASE)
    assert reopened.messages.count() == 400
    reopened.close()
    assert sqlite3.connect(image / "vault.db").execute("PRAGMA integrity_check").fetchone() == ("ok",)
