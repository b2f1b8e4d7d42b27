"""Making a new recovery key from Settings, with a real server: the old key stops working everywhere (this vault,
a restore on the server, the account's other devices), offline or cut at any byte nothing changes, a crash in the
middle is finished after the next sync; checking a typed key; one gentle reminder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.domain import devices, keyring, recovery
from desktop.domain.session import Session
from desktop.domain.settings import SettingsStore
from desktop.domain.sync_adapter import join_program
from desktop.vault import InvalidRecoveryKey, KdfParams, Vault
from desktop.vault import recovery as vault_recovery
from sync import envelope
from sync.client.errors import RecoveryUnknown
from sync.client.transport import Transport
from sync.clock import ManualClock
from sync.envelope import BoxKey, DeviceKey, RecoveryKeys
from tests.faultproxy import FaultProxy

ROOT = Path(__file__).resolve().parent.parent
PASSPHRASE = "client passphrase"
DAY = 24 * 3600
START = 1_780_000_000  # a fixed instant: nothing here depends on the date the suite runs


def _person(folder: Path, url: str, invite: str) -> tuple[Vault, str]:
    """A vault that joined the programme, with the recovery key its person wrote down at onboarding."""
    vault, text = Vault.create(folder, PASSPHRASE, params=KdfParams.floor())
    join_program(vault, Transport(url), invite, "Amina's laptop")
    return vault, text


def _session(vault: Vault, tmp_path: Path, clock=None) -> Session:
    kwargs = {"clock": clock} if clock is not None else {}
    return Session(vault, tmp_path, SettingsStore(tmp_path / "settings.json"), **kwargs)


def _restores(url: str, text: str) -> bool:
    """Whether the server restores the account with ``text`` (a new device each time: a fresh key)."""
    keys = RecoveryKeys(vault_recovery.parse_key(text))
    try:
        restored = Transport(url).recover(keys, DeviceKey.generate(), BoxKey.generate().public_bytes(), "new laptop")
    except RecoveryUnknown:
        return False
    envelope.open_backup(restored.backup, keys, restored.account)  # the backup opens with that very key
    return True


def _vault_opens(vault: Vault, text: str) -> bool:
    return vault.check_recovery_key(text)


def test_a_new_key_replaces_the_old_one_on_the_server_and_in_this_vault(server, tmp_path: Path):
    vault, old = _person(tmp_path / "vault", server.url, server.invite())
    session = _session(vault, tmp_path, ManualClock(START))
    session.account_upkeep()  # the first sync gives the server the backup under the onboarding key
    assert _restores(server.url, old)

    made = session.new_recovery_key()
    assert _vault_opens(vault, old) and _restores(server.url, old)  # shown, not yet applied: nothing changed
    session.apply_recovery_key(made)

    assert not _restores(server.url, old)  # the server answers recovery-unknown (404) to the old key
    assert _restores(server.url, made.text)
    assert not _vault_opens(vault, old) and _vault_opens(vault, made.text)
    assert keyring.recovery_publics(vault) == (made.auth_public, made.box_public)
    assert vault.recovery_publics() == (made.auth_public, made.box_public)
    assert session.recovery_checked_ms() == START * 1000  # writing down a new key counts as checked
    vault.close()
    with pytest.raises(InvalidRecoveryKey):
        Vault.open(tmp_path / "vault").unlock_with_recovery(old, "a new passphrase")
    Vault.open(tmp_path / "vault").unlock_with_recovery(made.text, "a new passphrase")


def test_the_backup_under_the_new_key_holds_the_account_secrets(server, tmp_path: Path):
    vault, _old = _person(tmp_path / "vault", server.url, server.invite())
    session = _session(vault, tmp_path)
    new = session.rotate_recovery_key()
    keys = RecoveryKeys(vault_recovery.parse_key(new))
    restored = Transport(server.url).recover(keys, DeviceKey.generate(), BoxKey.generate().public_bytes(), "x")
    links, publics, _doc = keyring.unpack_chain(envelope.open_backup(restored.backup, keys, restored.account))
    assert links == keyring.chain(vault)
    assert publics == (keys.auth_public, keys.box_public)


def test_the_other_devices_reseal_their_vault_to_the_new_key(server, tmp_path: Path):
    vault, old = _person(tmp_path / "vault", server.url, server.invite())
    session = _session(vault, tmp_path)
    keyring.ensure(vault)
    # The person's second device: the same account secrets, a vault sealed to the same recovery key.
    other, none = Vault.create(
        tmp_path / "other",
        PASSPHRASE,
        params=KdfParams.floor(),
        recovery_public=vault.recovery_publics(),
    )
    assert none is None
    keyring.store_chain(other, keyring.chain(vault), vault.recovery_publics())
    assert other.check_recovery_key(old)

    made = session.new_recovery_key()
    session.apply_recovery_key(made)
    told = [r for r in vault.records.by_state("outbox") if r.kind == "keyring"]
    assert told, "no keyring record tells the other devices"
    from sync.protocol import unpack_record

    for stored in told:
        record = unpack_record(stored.wire)
        keyring.take_keyring(other, record.i, record.b)
    assert other.check_recovery_key(made.text) and not other.check_recovery_key(old)
    assert other.recovery_publics() == (made.auth_public, made.box_public)


def test_offline_nothing_changes_and_the_old_key_still_works(server, tmp_path: Path):
    with FaultProxy("127.0.0.1", server.port) as proxy:
        vault, old = _person(tmp_path / "vault", proxy.url, server.invite())
        session = _session(vault, tmp_path)
        session.account_upkeep()
        proxy.configure(cut_after_bytes=0)  # every connection drops at once: offline
        session.transport.close()  # no connection kept from before
        made = session.new_recovery_key()
        with pytest.raises(recovery.RotationProblem) as problem:
            session.apply_recovery_key(made)
        assert problem.value.reason == "offline"
        assert "still works" in str(problem.value)
        assert _vault_opens(vault, old) and not _vault_opens(vault, made.text)
        assert _restores(server.url, old) and not _restores(server.url, made.text)
        assert vault.get_secret(recovery.PENDING) is None


@pytest.mark.parametrize("at", [0.05, 0.5, 0.98, -30, -25, -20, -12, -2])
def test_a_rotation_cut_at_any_byte_leaves_one_key_working_everywhere_after_the_next_sync(server, tmp_path: Path, at):
    """``at``: where the link is cut, as a fraction of the PUT's bytes (both ways), or bytes before its end (in the
    answer: the server has taken the new key, the device never hears so)."""
    with FaultProxy("127.0.0.1", server.port) as proxy:
        vault, old = _person(tmp_path / "vault", proxy.url, server.invite())
        session = _session(vault, tmp_path)
        session.account_upkeep()
        proxy.reset_counters()
        devices.seal_backup(session)  # a PUT of the same size as the rotation's
        total = proxy.bytes_up + proxy.bytes_down
        proxy.configure(cut_after_bytes=int(total * at) if at > 0 else total + at)
        session.transport.close()  # the PUT opens a connection that the cut applies to
        made = session.new_recovery_key()
        try:
            session.apply_recovery_key(made)
            applied = True
        except recovery.RotationProblem:
            applied = False
        proxy.configure(cut_after_bytes=None)
        session.account_upkeep()  # the next sync
        current = made.text if applied else old
        stale = old if applied else made.text
        assert _vault_opens(vault, current) and not _vault_opens(vault, stale)
        assert _restores(server.url, current) and not _restores(server.url, stale)


APPLY = """
import sys
from pathlib import Path
from desktop.domain.session import Session
from desktop.domain.settings import SettingsStore
from desktop.vault import Vault

vault = Vault.open(sys.argv[1])
vault.unlock(sys.argv[2])
session = Session(vault, Path(sys.argv[3]), SettingsStore(Path(sys.argv[3]) / "settings.json"))
made = session.new_recovery_key()
print(made.text, flush=True)
session.apply_recovery_key(made)
print("applied", flush=True)
"""


@pytest.mark.parametrize("fault", ["recovery:told-server", "recovery:resealed", "vault:reseal"])
def test_a_rotation_killed_in_the_middle_is_finished_after_the_next_sync(server, tmp_path: Path, fault):
    vault, old = _person(tmp_path / "vault", server.url, server.invite())
    _session(vault, tmp_path).account_upkeep()
    vault.close()
    env = {k: v for k, v in os.environ.items() if k != "OSLER_FAULT"} | {"OSLER_FAULT": fault}
    done = subprocess.run(
        [sys.executable, "-c", APPLY, str(tmp_path / "vault"), PASSPHRASE, str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    new = done.stdout.decode().split()[0]
    assert _restores(server.url, new) and not _restores(server.url, old)  # the server was told before the kill

    vault = Vault.open(tmp_path / "vault")
    vault.unlock(PASSPHRASE)
    session = _session(vault, tmp_path)
    session.account_upkeep()  # the next sync finishes what the kill interrupted
    assert _vault_opens(vault, new) and not _vault_opens(vault, old)
    assert vault.recovery_publics() == recovery_key_publics(new)
    assert keyring.recovery_publics(vault) == recovery_key_publics(new)
    assert any(r.kind == "keyring" for r in vault.records.by_state("outbox"))
    assert _restores(server.url, new)


def recovery_key_publics(text: str) -> tuple[bytes, bytes]:
    return vault_recovery.publics(vault_recovery.parse_key(text))


def test_checking_a_typed_key(server, tmp_path: Path):
    clock = ManualClock(START)
    vault, text = _person(tmp_path / "vault", server.url, server.invite())
    session = _session(vault, tmp_path, clock)
    assert session.recovery_checked_ms() is None
    clock.advance(3 * DAY)
    assert not session.check_recovery_key(vault_recovery.new_key().text)
    assert session.recovery_checked_ms() is None
    with pytest.raises(InvalidRecoveryKey):
        session.check_recovery_key(text[:-1] + ("0" if text[-1] != "0" else "1"))
    assert session.check_recovery_key(text.lower())
    assert session.recovery_checked_ms() == (START + 3 * DAY) * 1000


def test_the_reminder_comes_once_thirty_days_after_the_key_was_shown_and_goes_for_good(server, tmp_path: Path):
    clock = ManualClock(START)
    vault, _text = _person(tmp_path / "vault", server.url, server.invite())
    session = _session(vault, tmp_path, clock)
    assert not session.recovery_reminder_due()
    clock.advance(29 * DAY)
    assert not session.recovery_reminder_due()
    clock.advance(DAY)
    assert session.recovery_reminder_due()
    assert session.recovery_reminder_due()  # until dismissed: a restart shows it again
    session.dismiss_recovery_reminder()
    assert not session.recovery_reminder_due()
    clock.advance(400 * DAY)
    assert not session.recovery_reminder_due()


def test_checking_the_key_early_moves_the_reminder_and_checking_it_when_due_ends_it(server, tmp_path: Path):
    clock = ManualClock(START)
    vault, text = _person(tmp_path / "vault", server.url, server.invite())
    session = _session(vault, tmp_path, clock)
    session.recovery_reminder_due()
    clock.advance(20 * DAY)
    assert session.check_recovery_key(text)
    clock.advance(20 * DAY)
    assert not session.recovery_reminder_due()  # 40 days after it was shown, 20 after it was checked
    clock.advance(10 * DAY)
    assert session.recovery_reminder_due()
    assert session.check_recovery_key(text)
    clock.advance(100 * DAY)
    assert not session.recovery_reminder_due()


def test_checking_the_key_on_a_vault_from_before_lets_the_account_be_restored(server, tmp_path: Path):
    """A vault made before an account's devices shared one key knows no public halves, so its server has no
    backup; the person's key, typed in "Check my recovery key", is what gives it one."""
    vault, text = Vault.create(tmp_path / "vault", PASSPHRASE, params=KdfParams.floor(), key_version=1)
    join_program(vault, Transport(server.url), server.invite(), "Amina's old laptop")
    session = _session(vault, tmp_path)
    session.account_upkeep()
    assert keyring.recovery_publics(vault) is None and not _restores(server.url, text)
    assert session.check_recovery_key(text)
    session.account_upkeep()  # the next sync
    assert _restores(server.url, text)
    assert vault.recovery_publics() == recovery_key_publics(text) and vault.check_recovery_key(text)


def test_a_new_key_made_on_one_device_reaches_the_linked_one_after_a_sync(server, tmp_path: Path):
    """Two real devices of one person, linked with a code: a new key made on the laptop re-seals the phone's vault
    after the phone syncs; the old key opens neither."""
    from tests.devices_helpers import link, person, settle

    laptop, old = person(tmp_path / "laptop", server, "Amina")
    settle(laptop)
    phone = link(laptop, tmp_path / "phone")
    settle(laptop, phone)
    assert phone.vault.check_recovery_key(old)  # the linked device's vault answers to the person's one key

    new = laptop.rotate_recovery_key()
    settle(laptop, phone)
    for device in (laptop, phone):
        assert device.vault.check_recovery_key(new) and not device.vault.check_recovery_key(old)
        assert keyring.recovery_publics(device.vault) == recovery_key_publics(new)
    assert _restores(server.url, new) and not _restores(server.url, old)
