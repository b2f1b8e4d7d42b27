"""The person's recovery key as the vault sees it: one key for the account (its public halves kept sealed in the
vault), a slot that any device can re-seal to a new key without holding it, rotation (the old key stops opening
the vault), checking a typed key without changing anything, and vaults made before all this still opening."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.vault import InvalidRecoveryKey, KdfParams, Vault, WrongPassphrase
from desktop.vault import recovery as recovery_key
from tests.conftest import PASSPHRASE, snapshot

ROOT = Path(__file__).resolve().parent.parent


def _key_doc(folder: Path) -> dict:
    return json.loads((folder / "vault.key").read_text())


def _opens_with(folder: Path, text: str) -> bool:
    """Whether ``text`` gets a person back into the vault in ``folder`` ("forgot passphrase")."""
    vault = Vault.open(folder)
    try:
        vault.unlock_with_recovery(text, "a brand new passphrase")
    except InvalidRecoveryKey as exc:
        assert not exc.typo
        return False
    finally:
        vault.close()
    return True


def test_a_new_vault_keeps_its_keys_public_halves_and_opens_with_the_key(created, vault_dir: Path):
    vault, text = created
    assert _key_doc(vault_dir)["version"] == 2 and set(_key_doc(vault_dir)["slots"]["recovery"]) == {"sealed"}
    assert vault.recovery_publics() == recovery_key.publics(recovery_key.parse_key(text))
    assert text not in (vault_dir / "vault.key").read_text()
    vault.close()
    assert _opens_with(vault_dir, text)
    reopened = Vault.open(vault_dir)
    reopened.unlock("a brand new passphrase")
    assert reopened.recovery_publics() == recovery_key.publics(recovery_key.parse_key(text))
    reopened.close()


def test_a_vault_for_an_existing_key_shows_no_new_key_and_opens_with_the_persons_key(tmp_path: Path):
    person = recovery_key.new_key()  # the key the person wrote down on their first device
    vault, text = Vault.create(
        tmp_path / "laptop-2",
        PASSPHRASE,
        params=KdfParams.floor(),
        recovery_public=(person.auth_public, person.box_public),
    )
    assert text is None
    assert vault.recovery_publics() == (person.auth_public, person.box_public)
    assert vault.check_recovery_key(person.text)
    vault.close()
    assert _opens_with(tmp_path / "laptop-2", person.text)


def test_malformed_public_halves_are_refused_before_anything_is_written(tmp_path: Path):
    person = recovery_key.new_key()
    with pytest.raises(ValueError):
        Vault.create(
            tmp_path / "v", PASSPHRASE, params=KdfParams.floor(), recovery_public=(b"x" * 31, person.box_public)
        )
    assert not (tmp_path / "v").exists()


def test_rotation_the_old_key_stops_opening_the_vault_and_the_new_one_opens_it(created, vault_dir: Path):
    vault, old = created
    new = vault.rotate_recovery()
    assert new != old and len(new.replace("-", "")) == 36
    assert vault.recovery_publics() == recovery_key.publics(recovery_key.parse_key(new))
    assert vault.check_recovery_key(new) and not vault.check_recovery_key(old)
    vault.close()
    assert not _opens_with(vault_dir, old)
    assert _opens_with(vault_dir, new)
    with pytest.raises(WrongPassphrase):
        Vault.open(vault_dir).unlock(PASSPHRASE)  # the passphrase slot was untouched until the recovery reset it
    Vault.open(vault_dir).unlock("a brand new passphrase")


def test_rotation_keeps_the_passphrase_and_the_data(created, vault_dir: Path):
    vault, _old = created
    vault.put_secret("canary", b"still here")
    vault.rotate_recovery()
    vault.close()
    reopened = Vault.open(vault_dir)
    reopened.unlock(PASSPHRASE)
    assert reopened.get_secret("canary") == b"still here"
    reopened.close()


def test_another_device_re_seals_to_a_key_it_only_knows_by_its_public_halves(created, vault_dir: Path):
    vault, old = created
    rotated_elsewhere = recovery_key.new_key()  # made on another device; this one learns the halves (keyring)
    vault.reseal_recovery(rotated_elsewhere.box_public, rotated_elsewhere.auth_public)
    vault.reseal_recovery(rotated_elsewhere.box_public, rotated_elsewhere.auth_public)  # learned twice: harmless
    assert vault.recovery_publics() == (rotated_elsewhere.auth_public, rotated_elsewhere.box_public)
    vault.close()
    assert not _opens_with(vault_dir, old)
    assert _opens_with(vault_dir, rotated_elsewhere.text)


def test_checking_a_key_says_right_or_wrong_and_changes_nothing(created, vault_dir: Path, tmp_path: Path):
    vault, text = created
    _other, other_text = Vault.create(tmp_path / "other", PASSPHRASE, params=KdfParams.floor())
    key_file = (vault_dir / "vault.key").read_bytes()
    assert vault.check_recovery_key(text.lower().replace("-", " "))
    assert not vault.check_recovery_key(other_text)
    with pytest.raises(InvalidRecoveryKey) as typo:
        vault.check_recovery_key(("X" if text[0] != "X" else "Y") + text[1:])
    assert typo.value.typo
    assert (vault_dir / "vault.key").read_bytes() == key_file and not vault.is_locked
    vault.lock()
    before = snapshot(vault_dir)
    locked = Vault.open(vault_dir)
    assert locked.check_recovery_key(text) and not locked.check_recovery_key(other_text)  # locked: works too
    assert snapshot(vault_dir) == before


def test_a_version_1_vault_still_opens_with_its_key_and_rotation_moves_it_to_version_2(vault_dir: Path):
    vault, old = Vault.create(vault_dir, PASSPHRASE, params=KdfParams.floor(), key_version=1)
    assert _key_doc(vault_dir)["version"] == 1 and set(_key_doc(vault_dir)["slots"]["recovery"]) == {
        "salt",
        "nonce",
        "wrapped",
    }
    assert vault.recovery_publics() is None  # made before keys were shared by an account's devices
    assert vault.check_recovery_key(old)
    vault.close()
    assert _opens_with(vault_dir, old)
    assert _key_doc(vault_dir)["version"] == 1  # a passphrase reset keeps the slot as it was

    vault = Vault.open(vault_dir)
    vault.unlock("a brand new passphrase")
    new = vault.rotate_recovery()
    assert _key_doc(vault_dir)["version"] == 2
    assert vault.recovery_publics() == recovery_key.publics(recovery_key.parse_key(new))
    vault.close()
    assert not _opens_with(vault_dir, old)
    assert _opens_with(vault_dir, new)


def test_an_edited_recovery_slot_opens_with_no_key(created, vault_dir: Path):
    vault, text = created
    vault.close()
    doc = _key_doc(vault_dir)
    import base64

    sealed = bytearray(base64.b64decode(doc["slots"]["recovery"]["sealed"]))
    sealed[-1] ^= 1
    doc["slots"]["recovery"]["sealed"] = base64.b64encode(bytes(sealed)).decode()
    (vault_dir / "vault.key").write_text(json.dumps(doc))
    assert not _opens_with(vault_dir, text)
    Vault.open(vault_dir).unlock(PASSPHRASE)  # the passphrase slot is separate and still opens


RESEAL = """
import sys
from desktop.vault import Vault
from desktop.vault import recovery
vault = Vault.open(sys.argv[1])
vault.unlock(sys.argv[2])
made = recovery.new_key()
print(made.text, flush=True)
vault.reseal_recovery(made.box_public, made.auth_public)
print("resealed", flush=True)
"""


@pytest.mark.parametrize("fault", ["vault:reseal", None])
def test_a_reseal_killed_between_its_writes_leaves_a_vault_the_new_key_opens(created, vault_dir: Path, fault):
    vault, old = created
    old_publics = vault.recovery_publics()
    vault.close()
    env = {k: v for k, v in os.environ.items() if k != "OSLER_FAULT"}
    if fault:
        env["OSLER_FAULT"] = fault
    done = subprocess.run(
        [sys.executable, "-c", RESEAL, str(vault_dir), PASSPHRASE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == (-signal.SIGKILL if fault else 0), done.stderr.decode()
    new = done.stdout.decode().split()[0]
    assert (b"resealed" in done.stdout) is (fault is None)

    vault = Vault.open(vault_dir)
    vault.unlock(PASSPHRASE)
    new_publics = recovery_key.publics(recovery_key.parse_key(new))
    assert vault.check_recovery_key(new) and not vault.check_recovery_key(old)
    # Killed: the database still names the old key, so learning the new one again finishes the job.
    assert vault.recovery_publics() == (old_publics if fault else new_publics)
    vault.reseal_recovery(new_publics[1], new_publics[0])
    assert vault.recovery_publics() == new_publics
    vault.close()
    assert _opens_with(vault_dir, new)
