"""The recovery key: 160 random bits a person can write down and type back.

Shown once at creation as nine groups of four Crockford base32 characters: 32 carry the key, the last 4 are a
20-bit checksum so a typing mistake is told apart from a key of another vault. Crockford's alphabet has no I, L,
O or U, and reading is forgiving: lower case, spaces and dashes are fine, O reads as 0 and I/L as 1.

One key per person, not per vault: ``envelope.RecoveryKeys`` derives from it the key that signs a restore (the
server keeps its public half) and the box key that opens the account backup and every vault's recovery slot.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from desktop.vault.errors import InvalidRecoveryKey
from sync import envelope  # the keys a recovery key derives (PROTOCOL.md §10.3)

KEY_BYTES = 20
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {c: i for i, c in enumerate(_ALPHABET)} | {"O": 0, "I": 1, "L": 1}
_KEY_CHARS = 32
_CHECK_CHARS = 4
GROUP = 4
LENGTH = _KEY_CHARS + _CHECK_CHARS


def _encode(value: int, chars: int) -> str:
    return "".join(_ALPHABET[(value >> (5 * (chars - 1 - i))) & 31] for i in range(chars))


def _checksum(key: bytes) -> int:
    return int.from_bytes(hashlib.sha256(b"osler-recovery-key-v1" + key).digest()[:3], "big") >> 4


def generate() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def format_key(key: bytes) -> str:
    """``key`` as the grouped text shown to the person."""
    text = _encode(int.from_bytes(key, "big"), _KEY_CHARS) + _encode(_checksum(key), _CHECK_CHARS)
    return "-".join(text[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def parse_key(text: str) -> bytes:
    """Read a typed recovery key back; raises ``InvalidRecoveryKey(typo=True)`` on any typing mistake."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -\t\r\n")
    if len(cleaned) != LENGTH or any(ch not in _DECODE for ch in cleaned):
        raise InvalidRecoveryKey(typo=True)
    value = 0
    for ch in cleaned:
        value = (value << 5) | _DECODE[ch]
    check = value & ((1 << (5 * _CHECK_CHARS)) - 1)
    key = (value >> (5 * _CHECK_CHARS)).to_bytes(KEY_BYTES, "big")
    if _checksum(key) != check:
        raise InvalidRecoveryKey(typo=True)
    return key


@dataclass(frozen=True)
class NewRecoveryKey:
    """A freshly made recovery key: the text to show the person once, and the public halves a device keeps (the
    server keeps ``auth_public``; vault slots and the account backup are sealed to ``box_public``)."""

    text: str
    auth_public: bytes
    box_public: bytes

    def __repr__(self) -> str:
        return "NewRecoveryKey(<secret>)"


def publics(key: bytes) -> tuple[bytes, bytes]:
    """``(auth_public, box_public)`` of a recovery key (the raw bytes from ``parse_key``)."""
    keys = envelope.RecoveryKeys(key)
    return keys.auth_public, keys.box_public


def new_key() -> NewRecoveryKey:
    key = generate()
    auth_public, box_public = publics(key)
    return NewRecoveryKey(format_key(key), auth_public, box_public)
