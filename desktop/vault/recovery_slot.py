"""The vault's side of the person's recovery key (PROTOCOL.md §10.3): the slot in ``vault.key`` that the key opens,
and the key's public halves, which the vault keeps sealed so the server cannot swap them.

One recovery key serves every device of an account. A device never needs the key itself to keep its slot current:
it seals its data key to the key's box public half, which it learned when it was created (its own new key, a link's
welcome, or the key typed for a restore) or later from the account's keyring (a rotation made on another device).

Order of writes in a re-seal: ``vault.key`` first (atomic), then the public halves in the database. Killed in
between, the slot already answers to the new key and the database still names the old one, so the next re-seal
with the new halves (the keyring entry is read again) simply repeats; the other order could leave a vault whose
database claims a key its slot does not open.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop.vault import recovery
from desktop.vault.errors import InvalidRecoveryKey
from desktop.vault.faults import crash_point
from desktop.vault.keyfile import KeyFile
from sync import envelope

if TYPE_CHECKING:
    from pathlib import Path

    from sqlite_utils import Database

PUBLICS_ROW = "recovery_publics"
AUTH_PUBLIC_BYTES = 32


def seal_publics(fields: object, auth_public: bytes, box_public: bytes) -> bytes:
    """The database row that names the recovery key's public halves (sealed: the server never sees this file,
    and anyone who can write the folder but not unlock it cannot swap them either)."""
    check_publics(auth_public, box_public)
    return fields.seal("meta", PUBLICS_ROW, "value", auth_public + box_public)  # type: ignore[attr-defined]


def check_publics(auth_public: bytes, box_public: bytes) -> None:
    if len(auth_public) != AUTH_PUBLIC_BYTES or len(box_public) != envelope.BOX_PUBLIC_BYTES:
        raise ValueError("a recovery key's public halves are 32 and 1216 bytes")


def publics_for_new_vault(
    recovery_public: bytes | tuple[bytes, bytes] | None,
) -> tuple[bytes | None, bytes, str | None]:
    """``(auth_public or None, box_public, text to show or None)`` for ``Vault.create``."""
    if recovery_public is None:
        made = recovery.new_key()
        return made.auth_public, made.box_public, made.text
    if isinstance(recovery_public, tuple):
        auth_public, box_public = recovery_public
        check_publics(auth_public, box_public)
        return auth_public, box_public, None
    check_publics(bytes(32), recovery_public)
    return None, recovery_public, None


class RecoverySlot:
    """Mixed into ``Vault``: everything about the recovery slot once the vault exists."""

    folder: Path
    _header: KeyFile

    def recovery_publics(self) -> tuple[bytes, bytes] | None:
        """``(auth_public, box_public)`` of the recovery key this vault's slot is sealed to; ``None`` for a vault
        made before recovery keys were shared by an account's devices (its key still opens it; rotating the key
        or learning the account's key fills this in). Unlocked only."""
        with self._lock:  # type: ignore[attr-defined]
            db, keys = self._session()  # type: ignore[attr-defined]
            row = db.execute("SELECT value FROM meta WHERE key = ?", [PUBLICS_ROW]).fetchone()
            if row is None:
                return None
            both = keys.fields.open("meta", PUBLICS_ROW, "value", row[0])
            return both[:AUTH_PUBLIC_BYTES], both[AUTH_PUBLIC_BYTES:]

    def reseal_recovery(self, box_public: bytes, auth_public: bytes) -> None:
        """Seal this vault's recovery slot to another recovery key (known by its public halves only). From then on
        that key opens the vault and the previous one no longer does. Unlocked only; idempotent."""
        check_publics(auth_public, box_public)
        with self._lock:  # type: ignore[attr-defined]
            db, keys = self._session()  # type: ignore[attr-defined]
            header = KeyFile.load(self.folder / "vault.key").with_sealed_recovery(box_public, keys.data_key)
            header.save(self.folder / "vault.key")
            self._header = header
            crash_point("vault:reseal")
            _write_publics(db, seal_publics(keys.fields, auth_public, box_public))

    def rotate_recovery(self) -> str:
        """Make a new recovery key, seal this vault's slot to it, and return its text to show once. Only this vault
        changes: ``Session.rotate_recovery_key`` also tells the server and the account's other devices."""
        made = recovery.new_key()
        self.reseal_recovery(made.box_public, made.auth_public)
        return made.text

    def check_recovery_key(self, recovery_text: str) -> bool:
        """Whether ``recovery_text`` opens this vault, changing nothing (locked or unlocked). A typing mistake
        raises ``InvalidRecoveryKey(typo=True)``; a well-formed key that is not this vault's answers False."""
        key = recovery.parse_key(recovery_text)
        try:
            KeyFile.load(self.folder / "vault.key").unwrap_with_recovery(key)
        except InvalidRecoveryKey:
            return False
        return True


def _write_publics(db: Database, sealed: bytes) -> None:
    with db.atomic():
        db["meta"].upsert({"key": PUBLICS_ROW, "value": sealed}, pk="key")
