"""Restore after loss (issue 15): the recovery key alone brings the account back on a new computer with
everything that had synced; without it (a wrong key, or only the server's database) nothing comes back; the
restored device then revokes the lost one. Real vaults, sessions and a real server on loopback."""

from __future__ import annotations

import pytest

from desktop.domain import keyring
from desktop.domain.devices import RecoveryProblem, restore_account
from desktop.domain.sync_adapter import VaultSyncStore
from desktop.vault.recovery import format_key, generate
from sync import envelope
from tests.devices_helpers import new_vault, person, server_records, session_for, settle, texts


def test_restore_brings_back_what_had_synced_and_revokes_the_lost_laptop(tmp_path, server):
    amina, recovery_text = person(tmp_path / "amina", server, "Amina Student")
    kofi, _key = person(tmp_path / "kofi", server, "Dr Kofi Mensah", role="mentor")
    settle(amina, kofi)
    thread = amina.messaging.start_direct(kofi.program.credentials.account.hex())
    amina.messaging.send(thread, "before the loss: my question")
    settle(amina, kofi)
    kofi.messaging.send(thread, "before the loss: my answer")
    settle(kofi, amina, kofi)
    assert recovery_text
    # the laptop is stolen; on a new computer, with the recovery key written down at the start
    vault, _new_text = new_vault(tmp_path / "new")
    program = restore_account(vault, server.url, recovery_text, "new laptop")
    assert program.credentials.account == amina.program.credentials.account
    assert program.credentials.device != amina.program.credentials.device
    assert vault.check_recovery_key(recovery_text), "the same key opens the new vault too"
    restored = session_for(vault, tmp_path / "new")
    settle(restored, restored)
    assert {"before the loss: my question", "before the loss: my answer"} <= texts(restored)
    assert restored.account_fingerprint() == amina.account_fingerprint()
    # the lost laptop is revoked from the new one: nothing written afterwards opens with the laptop's vault
    lost = amina.program.credentials.device.hex()
    restored.revoke_device(lost)
    settle(restored, kofi, restored)
    restored.messaging.send(thread, "after the loss: new laptop here")
    kofi.messaging.send(thread, "after the loss: welcome back")
    settle(restored, kofi, restored)
    assert "after the loss: welcome back" in texts(restored)
    assert "after the loss: new laptop here" in texts(kofi)
    store = VaultSyncStore(amina.vault, amina.program.server_key, amina.program.credentials.account)
    store.apply(server_records(server), 10**9)
    amina.messaging.take_in()
    assert not any(t.startswith("after the loss") for t in texts(amina))
    assert [d.revoked for d in restored.devices() if d.device == lost] == [True]
    # and the recovery key still restores after the revoke (the backup was sealed again with the new secret)
    again, _ = new_vault(tmp_path / "again")
    restore_account(again, server.url, recovery_text, "spare laptop")
    assert keyring.current(again).generation == keyring.current(restored.vault).generation == 1
    for session in (amina, kofi, restored):
        session.stop()


def test_without_the_recovery_key_nothing_comes_back(tmp_path, server):
    amina, recovery_text = person(tmp_path / "amina", server, "Amina Student")
    settle(amina)
    typo = recovery_text.replace(recovery_text[0], "Z" if recovery_text[0] != "Z" else "Y", 1)
    vault, _ = new_vault(tmp_path / "new")
    with pytest.raises(RecoveryProblem) as mistyped:
        restore_account(vault, server.url, typo, "new laptop")
    assert mistyped.value.reason == "wrong-key" and "typing mistake" in str(mistyped.value)
    with pytest.raises(RecoveryProblem) as other:
        restore_account(vault, server.url, format_key(generate()), "new laptop")
    assert other.value.reason == "unknown" and "no account for that recovery key" in str(other.value)
    # the server's database alone: the backup and every record, opened with anything but the key — nothing
    from sync.server.tables import metadata

    names = set(metadata.tables)
    assert names, "the server keeps its tables"
    for record in server_records(server):
        if record.k == "keyring":
            with pytest.raises(envelope.EnvelopeError):
                envelope.AccountKeys(envelope.new_account_secret(), 0).open_keyring(record.i, record.b)
    amina.stop()
