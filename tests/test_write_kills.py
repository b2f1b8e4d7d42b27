"""Writes other than messages, killed between their steps (``OSLER_FAULT``, see ``desktop/vault/faults.py``):
a mentorship request and a profile change each land whole, with the records that tell others, or not at all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.domain.mentorship import Mentorships
from desktop.domain.sync_adapter import load_program
from desktop.vault import Vault
from sync.protocol import STATUS_KIND
from tests.clients import Client, acquainted

ROOT = Path(__file__).resolve().parent.parent
PASSPHRASE = "client passphrase"

ASK = """
import sys
from desktop.domain.mentorship import Mentorships
from desktop.domain.messaging import Messaging
from desktop.domain.sync_adapter import load_program
from desktop.vault import Vault
from sync.protocol import HybridClock
vault = Vault.open(sys.argv[1])
vault.unlock(sys.argv[2])
chat = Messaging(vault, load_program(vault), HybridClock())
Mentorships(vault, chat).ask(sys.argv[3], "Could you mentor me on a research project?", ["A poster"], 1_700_000_000_000)
print("written", flush=True)
"""

PROFILE = """
import sys
from pathlib import Path
from desktop.domain.session import Session
from desktop.domain.settings import SettingsStore
from desktop.vault import Vault
vault = Vault.open(sys.argv[1])
vault.unlock(sys.argv[2])
session = Session(vault, Path(sys.argv[4]), SettingsStore(Path(sys.argv[4]) / "settings.json"))
session.publish_profile("Amina Renamed", bio="Cardiology")
print("written", flush=True)
"""


def _run(script: str, vault_dir: Path, peer: str, scratch: Path, fault: str | None) -> tuple[bool, bool]:
    """(reported as written, killed)."""
    env = {k: v for k, v in os.environ.items() if k != "OSLER_FAULT"}
    if fault:
        env["OSLER_FAULT"] = fault
    done = subprocess.run(
        [sys.executable, "-c", script, str(vault_dir), PASSPHRASE, peer, str(scratch)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode in (0, -signal.SIGKILL), done.stderr.decode()
    return b"written" in done.stdout, done.returncode == -signal.SIGKILL


def _ask_state(vault: Vault) -> tuple[int, int, int]:
    """(requests this person sees, sealed mentorship records queued, status records queued)."""
    program = load_program(vault)
    from desktop.domain.messaging import Messaging
    from sync.protocol import HybridClock

    seen = len(Mentorships(vault, Messaging(vault, program, HybridClock())).requests())
    queued = [r.kind for r in vault.records.by_state("outbox")]
    return seen, queued.count("mentorship"), queued.count(STATUS_KIND)


def _profile_state(vault: Vault) -> tuple[bool, int]:
    """(the new name is saved, cards queued)."""
    me = load_program(vault).credentials.account.hex()
    saved = (vault.get_profile(me) or {}).get("name") == "Amina Renamed"
    return saved, [r.kind for r in vault.records.by_state("outbox")].count("card")


@pytest.fixture
def student_and_mentor(client_factory) -> tuple[Path, str]:
    student: Client = client_factory()
    mentor: Client = client_factory("mentor")
    acquainted(student, mentor)
    student.vault.close()
    return Path(student.vault.folder), mentor.account.hex()


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
@pytest.mark.parametrize(
    ("script", "fault", "state", "nothing", "whole"),
    [
        (ASK, "mentorship:sent", _ask_state, (0, 0, 0), (1, 1, 1)),
        (ASK, "vault:commit", _ask_state, (0, 0, 0), (1, 1, 1)),
        (PROFILE, "profile:saved", _profile_state, (False, 0), (True, 1)),
        (PROFILE, "vault:commit", _profile_state, (False, 0), (True, 1)),
    ],
)
def test_a_write_killed_half_way_lands_whole_or_not_at_all(
    student_and_mentor, tmp_path: Path, script, fault, state, nothing, whole
):
    vault_dir, peer = student_and_mentor
    reported, killed = _run(script, vault_dir, peer, tmp_path, fault)
    assert killed and not reported
    vault = Vault.open(vault_dir)
    vault.unlock(PASSPHRASE)
    try:
        assert state(vault) == nothing, "a write cut half way must leave no half behind"
    finally:
        vault.close()
    # No manual step: doing it again simply works, once.
    reported, killed = _run(script, vault_dir, peer, tmp_path, None)
    assert reported and not killed
    vault = Vault.open(vault_dir)
    vault.unlock(PASSPHRASE)
    try:
        assert state(vault) == whole
    finally:
        vault.close()
