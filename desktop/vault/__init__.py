"""The encrypted local vault: the only part of the desktop client that touches keys or stored ciphertext.

Use ``Vault.create`` / ``Vault.open`` and the methods of ``Vault``; nothing else in Osler handles primitives.
"""

from desktop.vault.blobs import CHUNK_SIZE, BlobInfo
from desktop.vault.errors import (
    ExcessiveKdfParameters,
    InvalidRecoveryKey,
    VaultCorrupt,
    VaultDamaged,
    VaultError,
    VaultExists,
    VaultIntegrityError,
    VaultLocked,
    VaultNotFound,
    VaultTooNew,
    WeakKdfParameters,
    WeakPassphrase,
    WrongPassphrase,
)
from desktop.vault.kdf import KdfParams
from desktop.vault.messages import StoredMessage
from desktop.vault.store import UnlockTiming, Vault

__all__ = [
    "CHUNK_SIZE",
    "BlobInfo",
    "ExcessiveKdfParameters",
    "InvalidRecoveryKey",
    "KdfParams",
    "StoredMessage",
    "UnlockTiming",
    "Vault",
    "VaultCorrupt",
    "VaultDamaged",
    "VaultError",
    "VaultExists",
    "VaultIntegrityError",
    "VaultLocked",
    "VaultNotFound",
    "VaultTooNew",
    "WeakKdfParameters",
    "WeakPassphrase",
    "WrongPassphrase",
]
