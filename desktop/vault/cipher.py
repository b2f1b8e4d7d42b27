"""Authenticated encryption of stored fields and blob chunks under keys derived from the data key.

A sealed field is ``format (1 byte) | nonce (12) | AES-256-GCM ciphertext + tag (16)``. The associated data binds
the format byte, table, record id and field name (length-prefixed, so no two bindings share an encoding): a
ciphertext copied to another row or another field fails to open. The format byte is what "schema version" means
here: a field changes format only when its encoding changes, so ordinary schema migrations never have to
re-encrypt. Random 96-bit nonces are safe far beyond a vault's lifetime of writes (NIST's 2^32 bound per key).

A blob chunk uses its own derived key and binds blob id, chunk index and a last-chunk flag, so chunks cannot be
reordered, swapped between blobs, or dropped from the end unnoticed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from desktop.vault.errors import VaultIntegrityError

FIELD_FORMAT = 1
CHUNK_FORMAT = 1
NONCE_BYTES = 12
TAG_BYTES = 16
OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES


def _subkey(data_key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"osler vault " + purpose).derive(data_key)


def _frame(*parts: bytes) -> bytes:
    return b"".join(struct.pack(">H", len(part)) + part for part in parts)


class _Sealer:
    def __init__(self, key: bytes, fmt: int) -> None:
        self._aead = AESGCM(key)
        self._fmt = fmt

    def _seal(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        header = bytes([self._fmt])
        return header + nonce + self._aead.encrypt(nonce, plaintext, header + aad)

    def _open(self, sealed: bytes, aad: bytes) -> bytes | None:
        if not isinstance(sealed, bytes | bytearray | memoryview) or len(sealed) < OVERHEAD:
            return None
        sealed = bytes(sealed)
        if sealed[0] != self._fmt:
            return None
        try:
            return self._aead.decrypt(sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :], sealed[:1] + aad)
        except InvalidTag:
            return None


class FieldCipher(_Sealer):
    def __init__(self, data_key: bytes) -> None:
        super().__init__(_subkey(data_key, b"field key v1"), FIELD_FORMAT)

    def seal(self, table: str, record_id: str, field: str, plaintext: bytes) -> bytes:
        return self._seal(plaintext, _frame(table.encode(), record_id.encode(), field.encode()))

    def open(self, table: str, record_id: str, field: str, sealed: bytes) -> bytes:
        plaintext = self._open(sealed, _frame(table.encode(), record_id.encode(), field.encode()))
        if plaintext is None:
            raise VaultIntegrityError(table, record_id, field)
        return plaintext


class BlobIdKey:
    """Row keys of stored blobs: HMAC-SHA256 of the caller's blob id (often the file's plaintext SHA-256) under
    a key derived from the data key, so a copy of the vault does not tell whether it holds a known file."""

    def __init__(self, data_key: bytes) -> None:
        self._key = _subkey(data_key, b"blob id key v1")

    def local(self, blob_id: str) -> str:
        return hmac.new(self._key, blob_id.encode("utf-8"), hashlib.sha256).hexdigest()


class ChunkCipher(_Sealer):
    def __init__(self, data_key: bytes) -> None:
        super().__init__(_subkey(data_key, b"chunk key v1"), CHUNK_FORMAT)

    @staticmethod
    def _aad(blob_id: str, index: int, last: bool) -> bytes:
        return _frame(blob_id.encode(), struct.pack(">IB", index, 1 if last else 0))

    def seal(self, blob_id: str, index: int, last: bool, plaintext: bytes) -> bytes:
        return self._seal(plaintext, self._aad(blob_id, index, last))

    def open(self, blob_id: str, index: int, last: bool, sealed: bytes) -> bytes:
        plaintext = self._open(sealed, self._aad(blob_id, index, last))
        if plaintext is None:
            raise VaultIntegrityError("blob_chunks", blob_id, f"chunk {index}")
        return plaintext
