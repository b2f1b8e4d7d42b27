"""End-to-end sealing (PROTOCOL.md §9): epoch keys granted by post-quantum HPKE, messages compressed, padded
and sealed so that only the thread's members can read them and nothing moved or altered opens."""

from __future__ import annotations

import os
import zlib

import pytest

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
