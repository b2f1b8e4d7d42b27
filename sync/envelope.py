"""End-to-end protection of records. The only module in ``sync`` that touches cryptographic primitives.

Authorship: each device has an Ed25519 signing key; its public half is registered with the server, which checks
signed records and auth challenges against it (the same key type signs a release's SHA256SUMS: ``sign_release``).
Confidentiality: private records are sealed under a thread's epoch key, which reaches each member device by HPKE
(PROTOCOL.md §9). Nothing else in ``sync`` touches a
primitive; the server uses only the verification functions.
"""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hpke, serialization
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sync.protocol import Record, signature_input

AUTH_CONTEXT = b"osler-auth-v1\0"
REQUEST_CONTEXT = b"osler-request-v1\0"
RELEASE_CONTEXT = b"osler-release-sums-v1\0"  # a release key signs SHA256SUMS; never a device's context
LINK_PICKUP_CONTEXT = b"osler-link-welcome-v1\0"  # a linked device asks for its welcome (PROTOCOL.md §10.2)
STATEMENT_CONTEXT = b"osler-statement-v1\0"  # a device vouches for a canonical statement (portfolio, attestation)


def _request_input(device: bytes, ts_ms: int, nonce: bytes, method: str, path: str, body: bytes) -> bytes:
    """What a signed request's signature covers (PROTOCOL.md §6.2)."""
    return b"".join(
        (
            REQUEST_CONTEXT,
            device,
            struct.pack(">Q", ts_ms),
            nonce,
            hashlib.sha256(body).digest(),
            method.upper().encode("ascii"),
            b"\0",
            path.encode("utf-8"),
        )
    )


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

    def sign_request(self, device: bytes, ts_ms: int, nonce: bytes, method: str, path: str, body: bytes) -> bytes:
        """The signature of one HTTP request (PROTOCOL.md §6.2): sign-in without a round trip of its own."""
        return self._private.sign(_request_input(device, ts_ms, nonce, method, path, body))

    def sign_link_pickup(self, slot: str, ts_ms: int, nonce: bytes) -> bytes:
        """A new device's proof, when it asks for its welcome, that it holds the key the link was approved for."""
        return self._private.sign(_pickup_input(slot, ts_ms, nonce))

    def sign_record(self, record: Record, author: bytes, device: bytes) -> Record:
        return record.model_copy(update={"s": self._private.sign(signature_input(record, author, device))})

    def sign_release(self, sums: bytes) -> bytes:
        """As a release key: the signature of a SHA256SUMS file (``osler verify-release`` checks it)."""
        return self._private.sign(RELEASE_CONTEXT + sums)

    def sign_statement(self, statement: bytes) -> bytes:
        """A device's signature over a canonical statement (a portfolio, a mentor's confirmation of an entry):
        its own context, so no statement can pass for a record, a request or a release."""
        return self._private.sign(STATEMENT_CONTEXT + statement)

    def __repr__(self) -> str:
        return "DeviceKey(<secret>)"


def _verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    if not valid_public_key(public_key):  # a weak key registered before it was refused verifies nothing
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_challenge(public_key: bytes, device: bytes, challenge: bytes, signature: bytes) -> bool:
    return _verify(public_key, signature, AUTH_CONTEXT + device + challenge)


def verify_request(
    public_key: bytes, device: bytes, ts_ms: int, nonce: bytes, method: str, path: str, body: bytes, signature: bytes
) -> bool:
    if not 0 <= ts_ms < 1 << 64:
        return False
    return _verify(public_key, signature, _request_input(device, ts_ms, nonce, method, path, body))


def _pickup_input(slot: str, ts_ms: int, nonce: bytes) -> bytes:
    return LINK_PICKUP_CONTEXT + slot.encode("ascii") + struct.pack(">Q", ts_ms) + nonce


def verify_link_pickup(public_key: bytes, slot: str, ts_ms: int, nonce: bytes, signature: bytes) -> bool:
    if not 0 <= ts_ms < 1 << 64 or len(nonce) != 16 or not slot.isascii():
        return False
    return _verify(public_key, signature, _pickup_input(slot, ts_ms, nonce))


def verify_release(public_key: bytes, sums: bytes, signature: bytes) -> bool:
    return _verify(public_key, signature, RELEASE_CONTEXT + sums)


def sign_statement(key: DeviceKey, statement: bytes) -> bytes:
    return key.sign_statement(statement)


def verify_statement(public_key: bytes, statement: bytes, signature: bytes) -> bool:
    return _verify(public_key, signature, STATEMENT_CONTEXT + statement)


def key_fingerprint(public_key: bytes) -> str:
    """What a person compares by eye: the first 16 bytes of the key's SHA-256, in groups of four hex digits."""
    digest = hashlib.sha256(public_key).hexdigest()[:32]
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


def verify_record(public_key: bytes, record: Record, author: bytes, device: bytes) -> bool:
    return record.s is not None and _verify(public_key, record.s, signature_input(record, author, device))


# Ed25519 over GF(p): p = 2^255 - 19, curve -x^2 + y^2 = 1 + d x^2 y^2 (RFC 8032 §5.1).
_P = 2**255 - 19
_D = (-121665 * pow(121666, -1, _P)) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
# The y coordinates of the 8 points of small order (the identity, order 2, two of order 4 at y = 0, four of order
# 8): with such a key, (R = identity, S = 0) verifies for every message, so anyone could sign in as the device.
_SMALL_ORDER_Y = frozenset(
    {
        1,
        _P - 1,
        0,
        int.from_bytes(bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"), "little"),
        int.from_bytes(bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"), "little"),
    }
)


def valid_public_key(public_key: bytes) -> bool:
    """An Ed25519 public key a device may register: 32 bytes, the canonical encoding (y < p, no sign bit on
    x = 0) of a point on the curve, and not one of the 8 points of small order."""
    if len(public_key) != 32:
        return False
    encoded = int.from_bytes(public_key, "little")
    y, sign = encoded & ((1 << 255) - 1), encoded >> 255
    if y >= _P or y in _SMALL_ORDER_Y:
        return False
    # Decompress (RFC 8032 §5.1.3): x^2 = (y^2 - 1) / (d y^2 + 1) must have a square root.
    u, v = (y * y - 1) % _P, (_D * y * y + 1) % _P
    x = (u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P)) % _P
    if (v * x * x - u) % _P != 0:
        x = (x * _SQRT_M1) % _P
        if (v * x * x - u) % _P != 0:
            return False
    if x == 0 and sign:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError:
        return False
    return True


# -- end-to-end encryption of private records ----------------------------------------------------------------
#
# PROTOCOL.md §9. A thread's members share an epoch key, granted to each of their devices by HPKE
# (ML-KEM-768 + X25519, so harvested traffic stays safe against a future quantum computer). The ~1.2 KB
# encapsulation is paid once per device per epoch; each message then costs a 1-byte header, a 4-byte epoch
# number and a 16-byte tag beyond its compressed, padded text.

BOX_SUITE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
EPOCH_KEY_BYTES = 32
GRANT_BYTES = 1168
BOX_PUBLIC_BYTES = 1184 + 32
ENVELOPE_VERSION = 1
CODEC_RAW, CODEC_DEFLATE_DICT = 0, 1
_DICTIONARY = (Path(__file__).with_name("dictionary.txt")).read_bytes()


class EnvelopeError(Exception):
    """A grant or sealed message that does not open: tampered, moved, or not addressed to this device."""


class BoxKey:
    """A device's HPKE key pair for receiving epoch keys. ``private_bytes()`` is for the vault only."""

    def __init__(self, mlkem_key: mlkem.MLKEM768PrivateKey, x_key: x25519.X25519PrivateKey) -> None:
        self._mlkem, self._x = mlkem_key, x_key
        self._private = hpke.MLKEM768X25519PrivateKey(mlkem_key, x_key)

    @classmethod
    def generate(cls) -> BoxKey:
        return cls(mlkem.MLKEM768PrivateKey.generate(), x25519.X25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> BoxKey:
        if len(raw) != 96:
            raise EnvelopeError("a box key is 96 bytes")
        return cls(
            mlkem.MLKEM768PrivateKey.from_seed_bytes(raw[:64]), x25519.X25519PrivateKey.from_private_bytes(raw[64:])
        )

    def private_bytes(self) -> bytes:
        return self._mlkem.private_bytes_raw() + self._x.private_bytes_raw()

    def public_bytes(self) -> bytes:
        return self._mlkem.public_key().public_bytes_raw() + self._x.public_key().public_bytes_raw()

    def __repr__(self) -> str:
        return "BoxKey(<secret>)"


def _box_public(raw: bytes) -> hpke.MLKEM768X25519PublicKey:
    if len(raw) != BOX_PUBLIC_BYTES:
        raise EnvelopeError("a box public key is 1216 bytes")
    try:
        return hpke.MLKEM768X25519PublicKey(
            mlkem.MLKEM768PublicKey.from_public_bytes(raw[:1184]), x25519.X25519PublicKey.from_public_bytes(raw[1184:])
        )
    except ValueError:
        raise EnvelopeError("not a valid box public key") from None


def _grant_info(thread: bytes, epoch: int, account: bytes, device: bytes) -> bytes:
    return b"osler-epoch-grant-v1\0" + thread + struct.pack(">I", epoch) + account + device


def new_epoch_key() -> bytes:
    return os.urandom(EPOCH_KEY_BYTES)


def grant_epoch(
    epoch_key: bytes, recipient_box: bytes, thread: bytes, epoch: int, account: bytes, device: bytes
) -> bytes:
    """Seal ``epoch_key`` to one device; thread, epoch and recipient are bound, so a grant cannot be moved."""
    return BOX_SUITE.encrypt(epoch_key, _box_public(recipient_box), info=_grant_info(thread, epoch, account, device))


def open_grant(grant: bytes, box: BoxKey, thread: bytes, epoch: int, account: bytes, device: bytes) -> bytes:
    try:
        key = BOX_SUITE.decrypt(grant, box._private, info=_grant_info(thread, epoch, account, device))
    except Exception:  # cryptography raises InvalidTag or ValueError, depending on where it fails
        raise EnvelopeError("this grant does not open with this device's key for this thread and epoch") from None
    if len(key) != EPOCH_KEY_BYTES:
        raise EnvelopeError("a granted epoch key has the wrong length")
    return key


def padme(length: int) -> int:
    """Padmé (Nikitin et al., PURBs): pad to a length that leaks at most O(log log n) bits, overhead ≤ 12 %."""
    if length < 2:
        return length
    exponent = length.bit_length() - 1
    size_bits = exponent.bit_length()
    mask = (1 << (exponent - size_bits)) - 1
    return (length + mask) & ~mask


def _pad(data: bytes) -> bytes:
    marked = data + b"\x80"  # ISO/IEC 7816-4: a 0x80 byte, then zeros
    return marked + b"\0" * (padme(len(marked)) - len(marked))


def _unpad(data: bytes) -> bytes:
    end = data.rstrip(b"\0")
    if not end.endswith(b"\x80"):
        raise EnvelopeError("bad padding")
    return end[:-1]


def compress(text: bytes) -> bytes:
    """Codec byte + payload: raw deflate with the shipped domain dictionary, or the text itself when that is
    not smaller (short greetings, or text in a language the dictionary does not know)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, _DICTIONARY)
    packed = packer.compress(text) + packer.flush()
    return bytes([CODEC_DEFLATE_DICT]) + packed if len(packed) < len(text) else bytes([CODEC_RAW]) + text


def decompress(data: bytes, limit: int = 1 << 20) -> bytes:
    if not data:
        raise EnvelopeError("empty payload")
    if data[0] == CODEC_RAW:
        return data[1:]
    if data[0] != CODEC_DEFLATE_DICT:
        raise EnvelopeError("unknown codec")
    unpacker = zlib.decompressobj(-15, zdict=_DICTIONARY)
    try:
        text = unpacker.decompress(data[1:], limit + 1)
    except zlib.error:
        raise EnvelopeError("corrupt compressed payload") from None
    if len(text) > limit or not unpacker.eof:
        raise EnvelopeError("compressed payload too large or truncated")
    return text


def _message_key(epoch_key: bytes, record_id: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"osler-message-v1\0" + record_id).derive(
        epoch_key
    )


def seal(epoch_key: bytes, epoch: int, thread: bytes, record_id: bytes, kind: str, plaintext: bytes) -> bytes:
    """``version | thread (16) | epoch (4) | AES-256-GCM(compressed, padded plaintext)``. The key is derived
    from the epoch key and the record id, so the nonce can be fixed and a body moved to another record (or
    thread, epoch or kind, all in the associated data) does not open."""
    header = bytes([ENVELOPE_VERSION]) + thread + struct.pack(">I", epoch)
    aad = header + record_id + kind.encode()
    return header + AESGCM(_message_key(epoch_key, record_id)).encrypt(b"\0" * 12, _pad(compress(plaintext)), aad)


def envelope_epoch(body: bytes) -> tuple[bytes, int]:
    """(thread, epoch) a sealed body needs a key for, read without opening it."""
    if len(body) < 21 + 16 or body[0] != ENVELOPE_VERSION:
        raise EnvelopeError("not a sealed body of a known version")
    return body[1:17], struct.unpack(">I", body[17:21])[0]


def open_sealed(epoch_key: bytes, record_id: bytes, kind: str, body: bytes) -> bytes:
    envelope_epoch(body)
    header, ciphertext = body[:21], body[21:]
    try:
        padded = AESGCM(_message_key(epoch_key, record_id)).decrypt(
            b"\0" * 12, ciphertext, header + record_id + kind.encode()
        )
    except InvalidTag:
        raise EnvelopeError("the sealed body does not open: tampered, moved, or another epoch's key") from None
    return decompress(_unpad(padded))


def fingerprint(sign_key: bytes, box_key: bytes) -> str:
    """A short code two people compare (in person, by phone) to check they hold each other's real keys:
    12 digits in groups of three, from SHA-256 of the device's public keys."""
    digest = hashlib.sha256(b"osler-fingerprint-v1\0" + sign_key + box_key).digest()
    number = int.from_bytes(digest[:8], "big") % 10**12
    text = f"{number:012d}"
    return " ".join(text[i : i + 3] for i in range(0, 12, 3))


# -- attachments ----------------------------------------------------------------------------------------------

ATTACHMENT_CHUNK = 65_536
MAX_ATTACHMENT = 25 * 1024 * 1024


def new_attachment_key() -> bytes:
    return os.urandom(32)


def _chunk_nonce(index: int, last: bool) -> bytes:
    return struct.pack(">IB", index, 1 if last else 0) + b"\0" * 7


def seal_attachment(key: bytes, data: bytes) -> bytes:
    """A file sealed in 64 KiB chunks under its own fresh key (carried inside the sealed message). The nonce
    holds the chunk index and a last-chunk flag, so chunks cannot be reordered or the end cut off; the same
    key and file always give the same bytes, so an interrupted upload resumes on the same blob."""
    if len(data) > MAX_ATTACHMENT:
        raise EnvelopeError(f"attachments are limited to {MAX_ATTACHMENT} bytes")
    aead = AESGCM(key)
    count = max(1, -(-len(data) // ATTACHMENT_CHUNK))
    return b"".join(
        aead.encrypt(_chunk_nonce(i, i == count - 1), data[i * ATTACHMENT_CHUNK : (i + 1) * ATTACHMENT_CHUNK], None)
        for i in range(count)
    )


def open_attachment(key: bytes, sealed: bytes) -> bytes:
    step = ATTACHMENT_CHUNK + 16
    count = max(1, -(-len(sealed) // step))
    aead = AESGCM(key)
    try:
        return b"".join(
            aead.decrypt(_chunk_nonce(i, i == count - 1), sealed[i * step : (i + 1) * step], None) for i in range(count)
        )
    except InvalidTag:
        raise EnvelopeError("the attachment does not open: damaged, truncated or another key") from None


# -- accounts: one secret per account, shared by its devices (PROTOCOL.md §10) ----------------------------------

ACCOUNT_SECRET_BYTES = 32
IDENTITY_CONTEXT = b"osler-device-cert-v1\0"
CHAIN_CONTEXT = b"osler-identity-chain-v1\0"
RECOVERY_REQUEST_CONTEXT = b"osler-recover-v1\0"


def _derive(secret: bytes, label: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=label).derive(secret)


def new_account_secret() -> bytes:
    return os.urandom(ACCOUNT_SECRET_BYTES)


class AccountKeys:
    """What one generation of an account secret gives every device of the account: the identity key that
    certifies the account's devices (its public half is what peers trust, so linking a device changes nothing
    for them) and the keyring key that seals what the account's devices share (epoch keys, the recovery public
    key). Rotated, as a new generation, whenever a device is revoked."""

    def __init__(self, secret: bytes, generation: int) -> None:
        if len(secret) != ACCOUNT_SECRET_BYTES or not 0 <= generation < 2**32:
            raise EnvelopeError("an account secret is 32 bytes with a generation below 2**32")
        self._secret, self.generation = secret, generation
        self.identity = DeviceKey.from_private_bytes(_derive(secret, b"osler-identity-v1"))
        self._keyring = _derive(secret, b"osler-keyring-v1")

    def secret_bytes(self) -> bytes:
        """For the vault and for sealing to the account's own devices only."""
        return self._secret

    @property
    def identity_public(self) -> bytes:
        return self.identity.public_bytes()

    def certify(self, account: bytes, device: bytes, sign_key: bytes, box_key: bytes) -> bytes:
        """The identity key's signature that ``device`` (with these keys) belongs to ``account``."""
        return self.identity._private.sign(IDENTITY_CONTEXT + account + device + sign_key + box_key)

    def chain_to(self, account: bytes, successor: AccountKeys) -> bytes:
        """This generation's signature over the next one's identity: peers who trusted this identity follow it."""
        message = CHAIN_CONTEXT + account + struct.pack(">I", successor.generation) + successor.identity_public
        return self.identity._private.sign(message)

    def seal_keyring(self, account: bytes, record_id: bytes, plaintext: bytes) -> bytes:
        """A ``keyring`` record's body: sealed like a message, the account as the thread, the generation as the
        epoch, so it opens only with this generation's secret."""
        return seal(self._keyring, self.generation, account, record_id, "keyring", plaintext)

    def open_keyring(self, record_id: bytes, body: bytes) -> bytes:
        return open_sealed(self._keyring, record_id, "keyring", body)

    def __repr__(self) -> str:
        return f"AccountKeys(generation={self.generation}, <secret>)"


def keyring_generation(body: bytes) -> int:
    """The account-secret generation a ``keyring`` body needs, read without opening it."""
    return envelope_epoch(body)[1]


def verify_device(
    identity_public: bytes, account: bytes, device: bytes, sign_key: bytes, box_key: bytes, cert: bytes
) -> bool:
    return _verify(identity_public, cert, IDENTITY_CONTEXT + account + device + sign_key + box_key)


def verify_chain(old_identity: bytes, account: bytes, generation: int, new_identity: bytes, signature: bytes) -> bool:
    return _verify(old_identity, signature, CHAIN_CONTEXT + account + struct.pack(">I", generation) + new_identity)


def identity_fingerprint(identity_public: bytes) -> str:
    """The account's safety number: 12 digits in groups of three, the same on every device of the account."""
    return fingerprint(identity_public, b"")


def _seal_to(box_public: bytes, info: bytes, plaintext: bytes) -> bytes:
    return BOX_SUITE.encrypt(plaintext, _box_public(box_public), info=info)


def _open_from(sealed: bytes, box: BoxKey, info: bytes, what: str) -> bytes:
    try:
        return BOX_SUITE.decrypt(sealed, box._private, info=info)
    except Exception:  # cryptography raises InvalidTag or ValueError, depending on where it fails
        raise EnvelopeError(f"{what} does not open with this key") from None


def _secret_info(account: bytes, device: bytes, generation: int) -> bytes:
    return b"osler-account-secret-v1\0" + account + device + struct.pack(">I", generation)


def seal_account_secrets(payload: bytes, box_public: bytes, account: bytes, device: bytes, generation: int) -> bytes:
    """The account's secrets (``payload``: every generation's secret, packed by the caller) sealed to one of
    its devices, for an ``account-key`` record (after a revoke) or a link's welcome."""
    return _seal_to(box_public, _secret_info(account, device, generation), payload)


def open_account_secrets(sealed: bytes, box: BoxKey, account: bytes, device: bytes, generation: int) -> bytes:
    return _open_from(sealed, box, _secret_info(account, device, generation), "the account's secrets")


# -- recovery: one key a person writes down opens their vaults and their account's backup (PROTOCOL.md §10.3) --


class RecoveryKeys:
    """Derived from the 20-byte recovery key: ``auth`` signs a restore request (the server keeps only its public
    half), ``box`` opens the account backup and every vault's recovery slot (sealed to ``box_public``, which the
    account's devices keep so they can re-seal without the recovery key)."""

    def __init__(self, recovery_key: bytes) -> None:
        if len(recovery_key) < 16:
            raise EnvelopeError("a recovery key has at least 128 bits")
        self.auth = DeviceKey.from_private_bytes(_derive(recovery_key, b"osler-recovery-auth-v1"))
        self.box = BoxKey.from_private_bytes(_derive(recovery_key, b"osler-recovery-box-v1", 96))

    @property
    def auth_public(self) -> bytes:
        return self.auth.public_bytes()

    @property
    def box_public(self) -> bytes:
        return self.box.public_bytes()

    def sign_restore(self, ts_ms: int, nonce: bytes, sign_key: bytes, box_key: bytes, name: str) -> bytes:
        return self.auth._private.sign(_restore_input(ts_ms, nonce, sign_key, box_key, name))

    def __repr__(self) -> str:
        return "RecoveryKeys(<secret>)"


def _restore_input(ts_ms: int, nonce: bytes, sign_key: bytes, box_key: bytes, name: str) -> bytes:
    return (
        RECOVERY_REQUEST_CONTEXT
        + struct.pack(">Q", ts_ms)
        + nonce
        + sign_key
        + hashlib.sha256(box_key).digest()
        + hashlib.sha256(name.encode("utf-8")).digest()
    )


def verify_restore(
    auth_public: bytes, signature: bytes, ts_ms: int, nonce: bytes, sign_key: bytes, box_key: bytes, name: str
) -> bool:
    return _verify(auth_public, signature, _restore_input(ts_ms, nonce, sign_key, box_key, name))


def seal_backup(payload: bytes, recovery_box_public: bytes, account: bytes) -> bytes:
    """The account backup the server keeps and cannot open: sealed to the recovery key's box."""
    return _seal_to(recovery_box_public, b"osler-account-backup-v1\0" + account, payload)


def open_backup(sealed: bytes, recovery: RecoveryKeys, account: bytes) -> bytes:
    return _open_from(sealed, recovery.box, b"osler-account-backup-v1\0" + account, "the account backup")


def seal_vault_slot(data_key: bytes, recovery_box_public: bytes, vault_id: str) -> bytes:
    """A vault's recovery slot: its data key sealed to the recovery key's box, so any device of the account can
    make one (it knows the public half) and only the recovery key opens it."""
    return _seal_to(recovery_box_public, b"osler-vault-recovery-v2\0" + vault_id.encode("utf-8"), data_key)


def open_vault_slot(sealed: bytes, recovery: RecoveryKeys, vault_id: str) -> bytes:
    return _open_from(sealed, recovery.box, b"osler-vault-recovery-v2\0" + vault_id.encode("utf-8"), "the vault")


# -- linking a device with a short code (PROTOCOL.md §10.2) -------------------------------------------------------


def link_key(secret: bytes, slot: str) -> bytes:
    """The key a link's code gives both devices (``secret``: the code's secret part, normalised). Argon2id
    (19 MiB, 2 passes), so a server that saw the sealed request cannot try the 2**50 codes."""
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    return Argon2id(
        salt=b"osler-link-v1\0" + slot.encode("ascii"), length=32, iterations=2, lanes=1, memory_cost=19_456
    ).derive(secret)


def seal_link(key: bytes, slot: str, what: str, plaintext: bytes) -> bytes:
    """``what`` is ``request`` (device 2's keys, to device 1) or another label; nonce fixed: one message per
    label and key."""
    return AESGCM(key).encrypt(b"\0" * 12, plaintext, b"osler-link-v1\0" + slot.encode("ascii") + b"\0" + what.encode())


def open_link(key: bytes, slot: str, what: str, sealed: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(
            b"\0" * 12, sealed, b"osler-link-v1\0" + slot.encode("ascii") + b"\0" + what.encode()
        )
    except InvalidTag:
        raise EnvelopeError("the link request does not open with this code") from None


# -- circles: one lead key, a member secret each, 48-byte wraps of every epoch key (PROTOCOL.md §11) ------------

CIRCLE_KEY_BYTES = 32
WRAP_BYTES = EPOCH_KEY_BYTES + 16
CIRCLE_MEMBER_INFO = b"osler-circle-member-v1\0"
CIRCLE_WRAP_INFO = b"osler-circle-wrap-v1\0"
CIRCLE_GRANT_INFO = b"osler-circle-grant-v1\0"


def new_circle_key() -> bytes:
    """A lead key ``L``: held by the circle's leads' devices only."""
    return os.urandom(CIRCLE_KEY_BYTES)


def member_secret(lead_key: bytes, circle: bytes, account: bytes, number: int) -> bytes:
    """``m_a = HKDF-SHA256(L, circle ‖ account ‖ n_a)``: what member ``a`` holds; one member's secret says nothing
    about another's, nor about ``L``."""
    if len(lead_key) != CIRCLE_KEY_BYTES or len(circle) != 16 or len(account) != 16 or not 0 <= number < 2**32:
        raise EnvelopeError("a member secret needs a 32-byte lead key, 16-byte ids and a number below 2**32")
    return _derive(lead_key, CIRCLE_MEMBER_INFO + circle + account + struct.pack(">I", number))


def _wrap_key(member: bytes, circle: bytes, epoch: int, account: bytes) -> bytes:
    if len(member) != CIRCLE_KEY_BYTES or len(circle) != 16 or len(account) != 16 or not 0 <= epoch < 2**32:
        raise EnvelopeError("a wrap needs a 32-byte member secret, 16-byte ids and an epoch below 2**32")
    return _derive(member, CIRCLE_WRAP_INFO + circle + struct.pack(">I", epoch) + account)


def wrap_epoch_key(member: bytes, circle: bytes, epoch: int, account: bytes, key: bytes) -> bytes:
    """The epoch key for one member: AES-256-GCM under a key derived for this circle, epoch and account (so the
    nonce can be fixed: each derived key seals one thing), 48 bytes."""
    if len(key) != EPOCH_KEY_BYTES:
        raise EnvelopeError("an epoch key is 32 bytes")
    return AESGCM(_wrap_key(member, circle, epoch, account)).encrypt(b"\0" * 12, key, None)


def unwrap_epoch_key(member: bytes, circle: bytes, epoch: int, account: bytes, wrapped: bytes) -> bytes:
    try:
        key = AESGCM(_wrap_key(member, circle, epoch, account)).decrypt(b"\0" * 12, bytes(wrapped), None)
    except (InvalidTag, ValueError, TypeError):
        raise EnvelopeError("this wrap does not open with this member's secret for this circle and epoch") from None
    if len(key) != EPOCH_KEY_BYTES:
        raise EnvelopeError("a wrapped epoch key has the wrong length")
    return key


def _circle_grant_info(circle: bytes, what: bytes, account: bytes, device: bytes) -> bytes:
    return CIRCLE_GRANT_INFO + what + b"\0" + circle + account + device


def grant_circle_secret(
    secret: bytes, box_public: bytes, circle: bytes, what: bytes, account: bytes, device: bytes
) -> bytes:
    """A lead key or a member secret sealed to one device (HPKE ML-KEM-768 + X25519, 1,168 bytes). ``what`` names
    it (e.g. ``b"lead" + generation`` or ``b"member" + generation + n``), so one grant cannot pass for another."""
    return _seal_to(box_public, _circle_grant_info(circle, what, account, device), secret)


def open_circle_grant(grant: bytes, box: BoxKey, circle: bytes, what: bytes, account: bytes, device: bytes) -> bytes:
    secret = _open_from(grant, box, _circle_grant_info(circle, what, account, device), "the circle grant")
    if len(secret) != CIRCLE_KEY_BYTES:
        raise EnvelopeError("a granted circle secret has the wrong length")
    return secret


# -- sync bundles (PROTOCOL.md §13.1) --------------------------------------------------------------------------
# A request bundle is signed by the device and sealed to the server's bundle box key; an answer is signed by the
# server's bundle sign key and sealed to the device's registered box key. Both bind the clear header: the seal
# through its HPKE info, the signature through the header's SHA-256. Each direction has its own context, so no
# answer can pass for a request, nor a bundle signature for any other signature of the project.

BUNDLE_CONTEXTS = {"request": b"osler-bundle-request-v1\0", "answer": b"osler-bundle-answer-v1\0"}
BUNDLE_SIGNATURE_BYTES = 64
BUNDLE_SEAL_OVERHEAD = 1088 + 32 + 16  # HPKE's encapsulated key (ML-KEM-768 + X25519) and the AES-GCM tag
_BUNDLE_SIGNED_BYTES = {kind: len(context) + 64 for kind, context in BUNDLE_CONTEXTS.items()}


class ServerKeys:
    """A programme server's bundle keys: a box key (requests are sealed to it) and an Ed25519 key (it signs the
    answers). ``private_bytes()`` is for the server's database only, never a log or the wire."""

    def __init__(self, box: BoxKey, sign: Ed25519PrivateKey) -> None:
        self._box, self._sign = box, sign

    @classmethod
    def generate(cls) -> ServerKeys:
        return cls(BoxKey.generate(), Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> ServerKeys:
        if len(raw) != 128:
            raise EnvelopeError("server bundle keys are 128 bytes")
        return cls(BoxKey.from_private_bytes(raw[:96]), Ed25519PrivateKey.from_private_bytes(raw[96:]))

    def private_bytes(self) -> bytes:
        return self._box.private_bytes() + self._sign.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )

    @property
    def box(self) -> BoxKey:
        return self._box

    @property
    def box_public(self) -> bytes:
        return self._box.public_bytes()

    @property
    def sign_public(self) -> bytes:
        return self._sign.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def __repr__(self) -> str:
        return "ServerKeys(<secret>)"


def _bundle_context(kind: str) -> bytes:
    try:
        return BUNDLE_CONTEXTS[kind]
    except KeyError:
        raise ValueError(f"no bundle kind {kind!r}") from None


def bundle_signed_input(kind: str, header: bytes, body: bytes) -> bytes:
    """What a bundle's signature covers: its context, the SHA-256 of the clear header and of the gzip part."""
    return _bundle_context(kind) + hashlib.sha256(header).digest() + hashlib.sha256(body).digest()


def sign_bundle(key: DeviceKey | ServerKeys, kind: str, header: bytes, body: bytes) -> bytes:
    """A device signs requests, a server's bundle key signs answers; never the other way round."""
    if isinstance(key, DeviceKey) and kind == "request":
        return key._private.sign(bundle_signed_input(kind, header, body))
    if isinstance(key, ServerKeys) and kind == "answer":
        return key._sign.sign(bundle_signed_input(kind, header, body))
    raise ValueError(f"a {type(key).__name__} does not sign {kind} bundles")


def verify_bundle(public_key: bytes, signed: bytes, signature: bytes) -> bool:
    """``signed`` as ``bundle_signed_input`` made it (one of the two bundle contexts, then two digests)."""
    if not any(signed.startswith(c) and len(signed) == _BUNDLE_SIGNED_BYTES[k] for k, c in BUNDLE_CONTEXTS.items()):
        return False
    return len(signature) == BUNDLE_SIGNATURE_BYTES and _verify(public_key, signature, signed)


def _bundle_info(kind: str, header: bytes) -> bytes:
    return _bundle_context(kind) + hashlib.sha256(header).digest()


def seal_bundle(box_public: bytes, kind: str, header: bytes, plaintext: bytes) -> bytes:
    return _seal_to(box_public, _bundle_info(kind, header), plaintext)


def open_bundle(sealed: bytes, box: BoxKey, kind: str, header: bytes) -> bytes:
    """The plaintext, or EnvelopeError: sealed to another key, or its header or payload changed."""
    return _open_from(sealed, box, _bundle_info(kind, header), f"the {kind} bundle")
