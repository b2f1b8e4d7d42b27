"""End-to-end protection of records. The only module in ``sync`` that touches cryptographic primitives.

This first part covers authorship: each device has an Ed25519 signing key; its public half is registered with
the server, which checks signed records and auth challenges against it. Sealing private records for their
audience (HPKE epoch keys, per-message AEAD) joins here with end-to-end messaging.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sync.protocol import Record, signature_input

AUTH_CONTEXT = b"osler-auth-v1\0"


class DeviceKey:
    """A device's Ed25519 signing key. ``private_bytes()`` is for the vault only, never a log or the wire."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private

    @classmethod
    def generate(cls) -> DeviceKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> DeviceKey:
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    def private_bytes(self) -> bytes:
        return self._private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )

    def public_bytes(self) -> bytes:
        return self._private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def sign_challenge(self, device: bytes, challenge: bytes) -> bytes:
        return self._private.sign(AUTH_CONTEXT + device + challenge)

    def sign_record(self, record: Record, author: bytes, device: bytes) -> Record:
        return record.model_copy(update={"s": self._private.sign(signature_input(record, author, device))})

    def __repr__(self) -> str:
        return "DeviceKey(<secret>)"


def _verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_challenge(public_key: bytes, device: bytes, challenge: bytes, signature: bytes) -> bool:
    return _verify(public_key, signature, AUTH_CONTEXT + device + challenge)


def verify_record(public_key: bytes, record: Record, author: bytes, device: bytes) -> bool:
    return record.s is not None and _verify(public_key, record.s, signature_input(record, author, device))


def valid_public_key(public_key: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError:
        return False
    return True
