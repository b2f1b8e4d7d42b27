"""``vault.key``: the versioned header that turns a passphrase or the recovery key into the data key.

JSON, so a person or a support script can see which KDF a vault uses::

    {"format": "osler-vault-key", "version": 2, "vault_id": "<32 hex>",
     "kdf": {"alg": "argon2id", "memory_kib": 65536, "iterations": 3, "lanes": 4, "salt": "<b64>"},
     "slots": {"passphrase": {"nonce": "<b64>", "wrapped": "<b64>"},
               "recovery":   {"sealed": "<b64>"}}}

Both slots hold the same random 256-bit data key. The passphrase slot wraps it with AES-256-GCM under a KEK from
Argon2id; its associated data binds the format, vault id, slot name and every KDF parameter (and ``"version": 1``,
the passphrase slot's own version, unchanged since version 1 files, so a recovery slot can be replaced without the
passphrase), so editing any of them makes unwrapping fail.

Version 2's recovery slot is the data key sealed (HPKE, ``envelope.seal_vault_slot``, bound to the vault id) to
the box public key the person's recovery key derives (``envelope.RecoveryKeys``). Sealing needs only that public
key, so every device of the account can make or replace its slot (after a link, a restore, or a rotation made on
another device) without ever holding the recovery key; only the recovery key opens it.

Version 1 files (Osler before accounts had several devices) are still read and still open with their key: their
recovery slot is ``{"salt", "nonce", "wrapped"}``, the data key wrapped with AES-256-GCM under HKDF(recovery key).
The first recovery re-seal (rotation, or a recovery key learned from the account) writes version 2.

The file is replaced atomically, so a passphrase change or a re-seal killed at any instant leaves the old header
or the new one.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from desktop.vault import kdf
from desktop.vault.errors import (
    ExcessiveKdfParameters,
    InvalidRecoveryKey,
    VaultCorrupt,
    WeakKdfParameters,
    WrongPassphrase,
)
from desktop.vault.fsutil import atomic_write
from sync import envelope  # the recovery slot's seal (and only that): PROTOCOL.md §10.3

FORMAT = "osler-vault-key"
VERSION = 2  # what new vaults get and every recovery re-seal writes
VERSIONS = (1, 2)  # what this Osler reads
SLOT_AAD_VERSION = 1  # bound into the passphrase slot (and v1 recovery slot): unchanged since version 1
NONCE_BYTES = 12
WRAPPED_BYTES = kdf.KEY_BYTES + 16
SEALED_SLOT_BYTES = envelope.GRANT_BYTES  # HPKE ML-KEM768+X25519 encapsulation + the sealed 32-byte key
MAX_FILE_BYTES = 16 * 1024


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class Slot:
    nonce: bytes
    wrapped: bytes
    salt: bytes = b""
    sealed: bytes = b""  # version 2 recovery slot: the data key sealed to the recovery box public key


@dataclass(frozen=True)
class KeyFile:
    vault_id: str
    params: kdf.KdfParams
    salt: bytes
    passphrase: Slot
    recovery: Slot
    version: int = VERSION

    # -- creating and re-wrapping -------------------------------------------------------------------------

    @classmethod
    def new(
        cls,
        passphrase: str,
        recovery_box_public: bytes,
        data_key: bytes,
        params: kdf.KdfParams,
    ) -> KeyFile:
        """A version 2 header: the recovery slot sealed to ``recovery_box_public``."""
        empty = Slot(b"", b"")
        header = cls(secrets.token_hex(16), params, b"", empty, empty)
        return header.with_passphrase(passphrase, data_key, params).with_sealed_recovery(recovery_box_public, data_key)

    @classmethod
    def new_v1(cls, passphrase: str, recovery_key: bytes, data_key: bytes, params: kdf.KdfParams) -> KeyFile:
        """A version 1 header, exactly as Osler wrote it before recovery slots were sealed (migration tests)."""
        empty = Slot(b"", b"")
        header = cls(secrets.token_hex(16), params, b"", empty, empty, version=1)
        return header.with_passphrase(passphrase, data_key, params).with_recovery(recovery_key, data_key)

    def with_passphrase(self, passphrase: str, data_key: bytes, params: kdf.KdfParams) -> KeyFile:
        salt = secrets.token_bytes(kdf.SALT_BYTES)
        draft = replace(self, params=params, salt=salt)
        kek = kdf.derive_kek(passphrase, salt, params)
        nonce = secrets.token_bytes(NONCE_BYTES)
        wrapped = AESGCM(kek).encrypt(nonce, data_key, draft._aad("passphrase"))
        return replace(draft, passphrase=Slot(nonce, wrapped))

    def with_recovery(self, recovery_key: bytes, data_key: bytes) -> KeyFile:
        """Version 1's recovery slot (kept for the migration tests that make a version 1 vault)."""
        salt = secrets.token_bytes(kdf.SALT_BYTES)
        nonce = secrets.token_bytes(NONCE_BYTES)
        draft = replace(self, recovery=Slot(b"", b"", salt), version=1)
        wrapped = AESGCM(self._recovery_kek(recovery_key, salt)).encrypt(nonce, data_key, draft._aad("recovery"))
        return replace(draft, recovery=Slot(nonce, wrapped, salt))

    def with_sealed_recovery(self, recovery_box_public: bytes, data_key: bytes) -> KeyFile:
        """A version 2 header whose recovery slot is ``data_key`` sealed to ``recovery_box_public``; the old slot
        (either version) is gone, so the key it answered to no longer opens the vault."""
        try:
            sealed = envelope.seal_vault_slot(data_key, recovery_box_public, self.vault_id)
        except Exception as exc:  # a malformed public key: ValueError/EnvelopeError from cryptography
            raise ValueError("not a recovery box public key") from exc
        return replace(self, recovery=Slot(b"", b"", b"", sealed), version=VERSION)

    # -- unwrapping ---------------------------------------------------------------------------------------

    def unwrap_with_passphrase(self, passphrase: str) -> bytes:
        kek = kdf.derive_kek(passphrase, self.salt, self.params)
        try:
            return AESGCM(kek).decrypt(self.passphrase.nonce, self.passphrase.wrapped, self._aad("passphrase"))
        except InvalidTag:
            raise WrongPassphrase() from None

    def unwrap_with_recovery(self, recovery_key: bytes) -> bytes:
        """The data key, or ``InvalidRecoveryKey(typo=False)`` when ``recovery_key`` is not this slot's key."""
        if self.version >= 2:
            try:
                return envelope.open_vault_slot(
                    self.recovery.sealed, envelope.RecoveryKeys(recovery_key), self.vault_id
                )
            except envelope.EnvelopeError:
                raise InvalidRecoveryKey(typo=False) from None
        kek = self._recovery_kek(recovery_key, self.recovery.salt)
        try:
            return AESGCM(kek).decrypt(self.recovery.nonce, self.recovery.wrapped, self._aad("recovery"))
        except InvalidTag:
            raise InvalidRecoveryKey(typo=False) from None

    def _recovery_kek(self, recovery_key: bytes, salt: bytes) -> bytes:
        return HKDF(
            algorithm=hashes.SHA256(),
            length=kdf.KEY_BYTES,
            salt=salt,
            info=b"osler recovery kek v1 " + self.vault_id.encode("ascii"),
        ).derive(recovery_key)

    def _aad(self, slot: str) -> bytes:
        bound: dict[str, object] = {
            "format": FORMAT,
            "version": SLOT_AAD_VERSION,
            "vault_id": self.vault_id,
            "slot": slot,
        }
        if slot == "passphrase":
            bound["kdf"] = self._kdf_json()
        else:
            bound["salt"] = _b64(self.recovery.salt)
        return json.dumps(bound, sort_keys=True, separators=(",", ":")).encode("utf-8")

    # -- file format --------------------------------------------------------------------------------------

    def _kdf_json(self) -> dict[str, object]:
        return {
            "alg": "argon2id",
            "memory_kib": self.params.memory_kib,
            "iterations": self.params.iterations,
            "lanes": self.params.lanes,
            "salt": _b64(self.salt),
        }

    def to_bytes(self) -> bytes:
        if self.version >= 2:
            recovery_doc = {"sealed": _b64(self.recovery.sealed)}
        else:
            recovery_doc = {
                "salt": _b64(self.recovery.salt),
                "nonce": _b64(self.recovery.nonce),
                "wrapped": _b64(self.recovery.wrapped),
            }
        document = {
            "format": FORMAT,
            "version": self.version,
            "vault_id": self.vault_id,
            "kdf": self._kdf_json(),
            "slots": {
                "passphrase": {"nonce": _b64(self.passphrase.nonce), "wrapped": _b64(self.passphrase.wrapped)},
                "recovery": recovery_doc,
            },
        }
        return json.dumps(document, indent=2).encode("utf-8") + b"\n"

    def save(self, path: Path) -> None:
        atomic_write(path, self.to_bytes())

    @classmethod
    def load(cls, path: Path) -> KeyFile:
        """Read and validate ``path``; every defect is a ``VaultCorrupt`` naming what is wrong."""
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            raise VaultCorrupt(path, "the key file is missing") from None
        except OSError as exc:
            raise VaultCorrupt(path, f"the key file cannot be read ({exc.strerror})") from None
        if len(raw) > MAX_FILE_BYTES:
            raise VaultCorrupt(path, "the key file is too large")
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise VaultCorrupt(path, "the key file is not valid JSON") from None
        return cls._from_document(path, doc)

    @classmethod
    def _from_document(cls, path: Path, doc: object) -> KeyFile:
        def fail(detail: str) -> VaultCorrupt:
            return VaultCorrupt(path, f"key file: {detail}")

        def field(container: object, name: str, kind: type) -> object:
            if not isinstance(container, dict) or not isinstance(container.get(name), kind):
                raise fail(f"'{name}' is missing or has the wrong type")
            value = container[name]
            if kind is int and isinstance(value, bool):
                raise fail(f"'{name}' is missing or has the wrong type")
            return value

        def blob(container: object, name: str, size: int | None = None) -> bytes:
            try:
                value = base64.b64decode(str(field(container, name, str)), validate=True)
            except (binascii.Error, ValueError):
                raise fail(f"'{name}' is not base64") from None
            if size is not None and len(value) != size:
                raise fail(f"'{name}' has {len(value)} bytes, expected {size}")
            return value

        if field(doc, "format", str) != FORMAT:
            raise fail("not an Osler vault key file")
        version = int(field(doc, "version", int))  # type: ignore[arg-type]
        if version not in VERSIONS:
            raise fail(f"unsupported version {version}")
        vault_id = str(field(doc, "vault_id", str))
        if len(vault_id) != 32 or any(c not in "0123456789abcdef" for c in vault_id):
            raise fail("'vault_id' is malformed")
        kdf_doc = field(doc, "kdf", dict)
        if field(kdf_doc, "alg", str) != "argon2id":
            raise fail("unsupported key derivation")
        params = kdf.KdfParams(
            memory_kib=int(field(kdf_doc, "memory_kib", int)),  # type: ignore[arg-type]
            iterations=int(field(kdf_doc, "iterations", int)),  # type: ignore[arg-type]
            lanes=int(field(kdf_doc, "lanes", int)),  # type: ignore[arg-type]
        )
        weakness = params.weakness()
        if weakness:
            raise WeakKdfParameters(path, weakness)
        excess = params.excess()
        if excess:
            raise ExcessiveKdfParameters(path, excess)
        salt = blob(kdf_doc, "salt", kdf.SALT_BYTES)
        slots = field(doc, "slots", dict)
        pass_doc, rec_doc = field(slots, "passphrase", dict), field(slots, "recovery", dict)
        if version >= 2:
            recovery_slot = Slot(b"", b"", b"", blob(rec_doc, "sealed", SEALED_SLOT_BYTES))
        else:
            recovery_slot = Slot(
                blob(rec_doc, "nonce", NONCE_BYTES),
                blob(rec_doc, "wrapped", WRAPPED_BYTES),
                blob(rec_doc, "salt", kdf.SALT_BYTES),
            )
        return cls(
            vault_id=vault_id,
            params=params,
            salt=salt,
            passphrase=Slot(blob(pass_doc, "nonce", NONCE_BYTES), blob(pass_doc, "wrapped", WRAPPED_BYTES)),
            recovery=recovery_slot,
            version=version,
        )
