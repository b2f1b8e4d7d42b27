"""End-to-end sealing (PROTOCOL.md §9): epoch keys granted by post-quantum HPKE, messages compressed, padded
and sealed so that only the thread's members can read them and nothing moved or altered opens."""

from __future__ import annotations

import os
import zlib

import pytest

from sync import envelope
from sync.envelope import (
    BoxKey,
    EnvelopeError,
    compress,
    decompress,
    fingerprint,
    grant_epoch,
    new_epoch_key,
    open_grant,
    open_sealed,
    padme,
    seal,
)

THREAD, ACCOUNT, DEVICE, RECORD = (bytes([n]) * 16 for n in (1, 2, 3, 4))


def test_a_grant_opens_only_for_its_device_thread_and_epoch():
    box, stranger = BoxKey.generate(), BoxKey.generate()
    key = new_epoch_key()
    grant = grant_epoch(key, box.public_bytes(), THREAD, 7, ACCOUNT, DEVICE)
    assert 1100 <= len(grant) <= 1200, "one post-quantum encapsulation, paid once per device and epoch"
    assert open_grant(grant, BoxKey.from_private_bytes(box.private_bytes()), THREAD, 7, ACCOUNT, DEVICE) == key
    for args in [
        (stranger, THREAD, 7, ACCOUNT, DEVICE),
        (box, bytes(16), 7, ACCOUNT, DEVICE),
        (box, THREAD, 8, ACCOUNT, DEVICE),
        (box, THREAD, 7, bytes(16), DEVICE),
        (box, THREAD, 7, ACCOUNT, bytes(16)),
    ]:
        with pytest.raises(EnvelopeError):
            open_grant(grant, *args)
    for offset in (0, 500, len(grant) - 1):
        damaged = grant[:offset] + bytes([grant[offset] ^ 1]) + grant[offset + 1 :]
        with pytest.raises(EnvelopeError):
            open_grant(damaged, box, THREAD, 7, ACCOUNT, DEVICE)


def test_bad_box_keys_are_refused():
    with pytest.raises(EnvelopeError):
        grant_epoch(new_epoch_key(), b"\0" * 10, THREAD, 1, ACCOUNT, DEVICE)
    with pytest.raises(EnvelopeError):
        BoxKey.from_private_bytes(b"short")


def test_sealed_messages_round_trip_and_nothing_altered_or_moved_opens():
    key = new_epoch_key()
    text = "Pouvez-vous relire la section méthodes ? Le patient avait 38,5 °C — مرحبا".encode()
    body = seal(key, 3, THREAD, RECORD, "message", text)
    assert open_sealed(key, RECORD, "message", body) == text
    for offset in range(len(body)):
        damaged = body[:offset] + bytes([body[offset] ^ 0x40]) + body[offset + 1 :]
        with pytest.raises(EnvelopeError):
            open_sealed(key, RECORD, "message", damaged)
    with pytest.raises(EnvelopeError):
        open_sealed(key, bytes(16), "message", body)  # moved to another record
    with pytest.raises(EnvelopeError):
        open_sealed(key, RECORD, "receipt", body)  # relabelled as another kind
    with pytest.raises(EnvelopeError):
        open_sealed(new_epoch_key(), RECORD, "message", body)  # another epoch's key
    with pytest.raises(EnvelopeError):
        open_sealed(key, RECORD, "message", body[:-1])


def test_padding_hides_exact_lengths():
    assert [padme(n) for n in (1, 100, 1000, 1025, 5000)] == [1, 104, 1024, 1088, 5120]
    assert all(n <= padme(n) <= n * 1.12 + 2 for n in range(1, 20_000, 37))
    key = new_epoch_key()
    sizes = {len(seal(key, 1, THREAD, RECORD, "message", os.urandom(n))) for n in range(1000, 1020)}
    assert len(sizes) == 1, "twenty different lengths, one sealed size"


def test_compression_uses_the_dictionary_and_falls_back_to_raw():
    note = (
        b"Thank you for the feedback on the abstract. I revised the methods and the sample size, and the "
        b"ethics approval came through; could we schedule a call on Thursday to discuss the results?"
    )
    plain_deflate = zlib.compress(note, 9)
    assert len(compress(note)) < len(plain_deflate) < len(note)
    assert decompress(compress(note)) == note
    noise = os.urandom(200)
    assert compress(noise)[0] == 0 and decompress(compress(noise)) == noise
    bomb = compress(b"a" * 2_000_000)
    with pytest.raises(EnvelopeError):
        decompress(bomb)
    with pytest.raises(EnvelopeError):
        decompress(b"\x07whatever")


def test_fingerprints_are_short_stable_and_key_specific():
    box = BoxKey.generate()
    first = fingerprint(b"s" * 32, box.public_bytes())
    assert first == fingerprint(b"s" * 32, box.public_bytes())
    assert len(first) == 15 and first.replace(" ", "").isdigit()
    assert first != fingerprint(b"t" * 32, box.public_bytes())


# -- accounts, recovery and linking (PROTOCOL.md §10) ------------------------------------------------------------


def test_an_account_secret_certifies_its_devices_and_nothing_else():
    account, device = os.urandom(16), os.urandom(16)
    keys = envelope.AccountKeys(envelope.new_account_secret(), 0)
    sign, box = envelope.DeviceKey.generate().public_bytes(), envelope.BoxKey.generate().public_bytes()
    cert = keys.certify(account, device, sign, box)
    assert envelope.verify_device(keys.identity_public, account, device, sign, box, cert)
    other = envelope.BoxKey.generate().public_bytes()
    assert not envelope.verify_device(keys.identity_public, account, device, sign, other, cert)
    stranger = envelope.AccountKeys(envelope.new_account_secret(), 0)
    assert not envelope.verify_device(stranger.identity_public, account, device, sign, box, cert)
    # the same secret gives the same identity on every device: peers see one safety number
    again = envelope.AccountKeys(keys.secret_bytes(), 0)
    assert envelope.identity_fingerprint(again.identity_public) == envelope.identity_fingerprint(keys.identity_public)


def test_a_new_generation_is_chained_to_the_old_identity():
    account = os.urandom(16)
    old = envelope.AccountKeys(envelope.new_account_secret(), 3)
    new = envelope.AccountKeys(envelope.new_account_secret(), 4)
    link = old.chain_to(account, new)
    assert envelope.verify_chain(old.identity_public, account, 4, new.identity_public, link)
    assert not envelope.verify_chain(old.identity_public, account, 5, new.identity_public, link)
    assert not envelope.verify_chain(new.identity_public, account, 4, new.identity_public, link)


def test_a_keyring_record_opens_only_with_its_generation():
    account, record = os.urandom(16), os.urandom(16)
    secret = envelope.new_account_secret()
    body = envelope.AccountKeys(secret, 1).seal_keyring(account, record, b"epoch keys")
    assert envelope.keyring_generation(body) == 1
    assert envelope.AccountKeys(secret, 1).open_keyring(record, body) == b"epoch keys"
    with pytest.raises(envelope.EnvelopeError):
        envelope.AccountKeys(envelope.new_account_secret(), 1).open_keyring(record, body)
    with pytest.raises(envelope.EnvelopeError):
        envelope.AccountKeys(secret, 1).open_keyring(os.urandom(16), body)


def test_account_secrets_sealed_to_one_device_open_only_there():
    account, device = os.urandom(16), os.urandom(16)
    box = envelope.BoxKey.generate()
    sealed = envelope.seal_account_secrets(b"secrets", box.public_bytes(), account, device, 2)
    assert envelope.open_account_secrets(sealed, box, account, device, 2) == b"secrets"
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_account_secrets(sealed, box, account, os.urandom(16), 2)
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_account_secrets(sealed, envelope.BoxKey.generate(), account, device, 2)


def test_the_recovery_key_alone_opens_the_backup_and_signs_a_restore():
    account, raw = os.urandom(16), os.urandom(20)
    keys = envelope.RecoveryKeys(raw)
    assert envelope.RecoveryKeys(raw).box_public == keys.box_public  # derived: the same key, the same halves
    backup = envelope.seal_backup(b"the account secrets", keys.box_public, account)
    assert envelope.open_backup(backup, envelope.RecoveryKeys(raw), account) == b"the account secrets"
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_backup(backup, envelope.RecoveryKeys(os.urandom(20)), account)
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_backup(backup, keys, os.urandom(16))
    sign, box, nonce = os.urandom(32), os.urandom(1216), os.urandom(16)
    sig = keys.sign_restore(1_000, nonce, sign, box, "new laptop")
    assert envelope.verify_restore(keys.auth_public, sig, 1_000, nonce, sign, box, "new laptop")
    assert not envelope.verify_restore(keys.auth_public, sig, 1_000, nonce, sign, box, "another name")
    slot = envelope.seal_vault_slot(b"k" * 32, keys.box_public, "vault-1")
    assert envelope.open_vault_slot(slot, keys, "vault-1") == b"k" * 32
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_vault_slot(slot, keys, "vault-2")


def test_a_link_request_opens_only_with_the_code_it_was_made_with():
    key = envelope.link_key(b"7KQ4M2XP9A", "ABC123")
    sealed = envelope.seal_link(key, "ABC123", "request", b"device 2 keys")
    assert (
        envelope.open_link(envelope.link_key(b"7KQ4M2XP9A", "ABC123"), "ABC123", "request", sealed) == b"device 2 keys"
    )
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_link(envelope.link_key(b"7KQ4M2XP9B", "ABC123"), "ABC123", "request", sealed)
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_link(key, "ABC124", "request", sealed)


def test_circle_member_secrets_and_wraps_open_only_for_their_circle_epoch_and_account():
    lead = envelope.new_circle_key()
    circle, other_circle = os.urandom(16), os.urandom(16)
    amina, kofi = os.urandom(16), os.urandom(16)
    m_amina = envelope.member_secret(lead, circle, amina, 0)
    assert m_amina != envelope.member_secret(lead, circle, kofi, 0), "one member's secret is not another's"
    assert m_amina != envelope.member_secret(lead, circle, amina, 1), "a new number gives a new secret"
    assert m_amina != envelope.member_secret(lead, other_circle, amina, 0)
    assert m_amina != envelope.member_secret(envelope.new_circle_key(), circle, amina, 0), "a new lead key, new m"
    key = envelope.new_epoch_key()
    wrapped = envelope.wrap_epoch_key(m_amina, circle, 7, amina, key)
    assert len(wrapped) == envelope.WRAP_BYTES == 48
    assert envelope.unwrap_epoch_key(m_amina, circle, 7, amina, wrapped) == key
    m_kofi = envelope.member_secret(lead, circle, kofi, 0)
    for secret, c, e, a in (
        (m_kofi, circle, 7, amina),  # another member's secret
        (m_kofi, circle, 7, kofi),  # moved to another account
        (m_amina, other_circle, 7, amina),  # another circle
        (m_amina, circle, 8, amina),  # another epoch
    ):
        with pytest.raises(envelope.EnvelopeError):
            envelope.unwrap_epoch_key(secret, c, e, a, wrapped)
    with pytest.raises(envelope.EnvelopeError):
        envelope.unwrap_epoch_key(m_amina, circle, 7, amina, wrapped[:-1] + bytes([wrapped[-1] ^ 1]))


def test_circle_grants_open_only_on_their_device_for_what_they_name():
    box, other = BoxKey.generate(), BoxKey.generate()
    circle, account, device = os.urandom(16), os.urandom(16), os.urandom(16)
    secret = envelope.new_circle_key()
    grant = envelope.grant_circle_secret(secret, box.public_bytes(), circle, b"lead:1", account, device)
    assert len(grant) == envelope.GRANT_BYTES
    assert envelope.open_circle_grant(grant, box, circle, b"lead:1", account, device) == secret
    for args in (
        (other, circle, b"lead:1", account, device),
        (box, os.urandom(16), b"lead:1", account, device),
        (box, circle, b"member:1:0", account, device),  # a lead key grant never passes for a member's secret
        (box, circle, b"lead:1", os.urandom(16), device),
        (box, circle, b"lead:1", account, os.urandom(16)),
    ):
        with pytest.raises(envelope.EnvelopeError):
            envelope.open_circle_grant(grant, *args)
    # and an epoch grant's info string differs: the same bytes do not open as an epoch grant
    with pytest.raises(envelope.EnvelopeError):
        envelope.open_grant(grant, box, circle, 1, account, device)
