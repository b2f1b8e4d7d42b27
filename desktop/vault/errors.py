"""Vault failures. ``str(error)`` is a short English technical line for logs (never a secret);
``error.user_message()`` is the translated sentence a person sees, saying what happened and what to do."""

from __future__ import annotations

from pathlib import Path

from desktop.i18n import _


class VaultError(Exception):
    def user_message(self) -> str:
        return _("Something went wrong with your vault. Nothing was changed.")


class VaultNotFound(VaultError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"no vault at {path}")
        self.path = path

    def user_message(self) -> str:
        return _("No vault was found at {path}.").format(path=self.path)


class VaultExists(VaultError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"a vault already exists at {path}")
        self.path = path

    def user_message(self) -> str:
        return _("A vault already exists at {path}; it was left untouched.").format(path=self.path)


class VaultCorrupt(VaultError):
    """A vault file is missing, truncated, unreadable or does not belong with the others."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"{path}: {detail}")
        self.path, self.detail = path, detail

    def user_message(self) -> str:
        return _(
            "Your vault at {path} is damaged or incomplete ({detail}). Osler changed nothing; "
            "restore the folder from a backup, or ask your programme for help."
        ).format(path=self.path, detail=self.detail)


class VaultDamaged(VaultCorrupt):
    """The database file itself is damaged (a flipped bit, a torn page, a bad disk): found by the integrity
    check at unlock, or by SQLite while the vault is open. Osler stops rather than show a partial vault."""

    def user_message(self) -> str:
        return _(
            "Your vault's database is damaged, so Osler stopped rather than show you an incomplete vault. "
            "Nothing more was changed. Close Osler and restore the vault folder ({path}) from a backup. "
            "With no backup, keep the folder as it is and ask your programme for help."
        ).format(path=self.path.parent if self.path.name.startswith("vault.db") else self.path)


class WeakKdfParameters(VaultCorrupt):
    """The key file asks for a key derivation weaker than Osler's floor: refused, never used."""

    def user_message(self) -> str:
        return _(
            "Your vault's key file asks for weaker protection than Osler allows ({detail}). It may have "
            "been tampered with, so Osler will not use it. Restore the folder from a backup."
        ).format(detail=self.detail)


class ExcessiveKdfParameters(VaultCorrupt):
    """The key file asks for a key derivation so costly that unlocking would take minutes or exhaust memory:
    refused before the derivation runs."""

    def user_message(self) -> str:
        return _(
            "Your vault's key file asks for far more unlocking work than Osler allows ({detail}); unlocking "
            "would take minutes or run out of memory. It may have been damaged or tampered with, so Osler did "
            "not try. Restore the vault folder from a backup, or use the key file of another copy."
        ).format(detail=self.detail)


class VaultTooNew(VaultError):
    def __init__(self, found: int, supported: int) -> None:
        super().__init__(f"vault schema {found} is newer than this app's {supported}")
        self.found, self.supported = found, supported

    def user_message(self) -> str:
        return _("This vault was written by a newer version of Osler. Update Osler to open it.")


class WrongPassphrase(VaultError):
    def __init__(self) -> None:
        super().__init__("the passphrase does not unlock this vault")

    def user_message(self) -> str:
        return _(
            "That passphrase does not unlock this vault. Check Caps Lock and the keyboard language, "
            "or use your recovery key."
        )


class WeakPassphrase(VaultError):
    def __init__(self, minimum: int) -> None:
        super().__init__(f"passphrase shorter than {minimum} characters")
        self.minimum = minimum

    def user_message(self) -> str:
        return _("Choose a passphrase of at least {count} characters.").format(count=self.minimum)


class InvalidRecoveryKey(VaultError):
    """``typo`` is True when the key fails its own checksum (mistyped), False when it is well formed
    but does not open this vault (another vault's, or a key since replaced by a new one)."""

    def __init__(self, typo: bool) -> None:
        super().__init__("recovery key is mistyped" if typo else "recovery key does not fit this vault")
        self.typo = typo

    def user_message(self) -> str:
        if self.typo:
            return _(
                "That recovery key has a typing mistake. It is 36 letters and digits in groups of four; "
                "check each group."
            )
        return _(
            "That recovery key does not open this vault: it belongs to another one, or it was replaced by a "
            "newer recovery key. Use the newest key you wrote down."
        )


class VaultLocked(VaultError):
    def __init__(self) -> None:
        super().__init__("the vault is locked")

    def user_message(self) -> str:
        return _("Your vault is locked. Unlock it to continue.")


class VaultIntegrityError(VaultError):
    """Stored ciphertext failed authentication: tampered, truncated, or moved from another row or field."""

    def __init__(self, table: str, record_id: str, field: str, detail: str = "authentication failed") -> None:
        super().__init__(f"integrity check failed for {table}/{record_id}/{field}: {detail}")
        self.table, self.record_id, self.field, self.detail = table, record_id, field, detail

    def user_message(self) -> str:
        return _(
            "Stored item {record} ({table}) failed its integrity check and was not shown. It may have been "
            "damaged on disk; other items are unaffected."
        ).format(record=self.record_id, table=self.table)
