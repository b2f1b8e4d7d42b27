"""The person's recovery key after onboarding (PROTOCOL.md §10.3): making a new one (the old one stops working),
checking a typed key, and one gentle reminder to check it.

Making a new key touches three places, in this order:

1. the server: ``PUT /v1/recovery`` with the new key's ``auth`` public half and the account backup sealed to its
   box; from then on only the new key restores the account (the old one answers ``recovery-unknown``);
2. this vault: its recovery slot is sealed to the new key (``Vault.reseal_recovery``), so the old key no longer
   opens it;
3. the account's other devices: a ``keyring`` record carries the new public pair (``r``); each device that opens
   it re-seals its own slot (``keyring.take_keyring``).

The key is shown and confirmed before anything changes. Offline or refused at step 1, nothing changed and the old
key still works everywhere (and the server is given the old backup again at the next sync, in case the refused
answer hid a write). Once step 1 is asked, the new key's public halves are kept in the vault (``PENDING``) until
every step is done, so a crash or a power cut before the end is finished after the next sync: the person has the
new key written down, and the account never stays split between two keys.

State kept in the vault (sealed, per person): when the key was last shown or confirmed, and whether the one
reminder is over (dismissed, or the key checked once it was due).
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgpack

from desktop.domain import keyring
from desktop.i18n import _
from desktop.vault import InvalidRecoveryKey, Vault
from desktop.vault import recovery as vault_recovery
from desktop.vault.faults import crash_point
from desktop.vault.records import StoredRecord
from sync import envelope
from sync.client.errors import Offline, SyncError
from sync.protocol import Record, new_record_id, pack_record

if TYPE_CHECKING:
    from desktop.domain.account_context import AccountContext

log = logging.getLogger(__name__)
PENDING = "recovery-rotation"  # the new key's public halves, from the moment the server is asked until the end
STATE = "recovery-state"  # {"shown": ms, "checked": ms | None, "reminded": bool}
REMIND_AFTER_MS = 30 * 24 * 3600 * 1000
AUTH_BYTES = 32
_BUSY = threading.Lock()  # one rotation at a time per process: the person's (apply) or a crashed one's (resume)


@dataclass(frozen=True)
class NewRecoveryKey:
    """A key made and shown, not yet in use: ``apply`` it once the person has written it down."""

    text: str
    auth_public: bytes
    box_public: bytes

    @property
    def groups(self) -> list[str]:
        return self.text.split("-")

    def __repr__(self) -> str:
        return "NewRecoveryKey(<secret>)"


class RotationProblem(Exception):
    """The new key could not be put in place; nothing changed and the old key still works. ``reason``:
    ``offline`` (no connection) or ``refused`` (the server said no)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        if self.reason == "offline":
            return _(
                "Osler could not reach your programme's server, so no new recovery key was made. Your current "
                "recovery key still works. Try again when you are online."
            )
        return _(
            "Your programme's server did not accept the new recovery key, so nothing was changed. Your current "
            "recovery key still works."
        )


# -- state ---------------------------------------------------------------------------------------------------------


def _state(vault: Vault, now_ms: int) -> dict:
    """The reminder's state; a vault that has none yet (made before this, or linked) counts from now."""
    raw = vault.get_secret(STATE)
    if raw is not None:
        return json.loads(raw)
    state = {"shown": now_ms, "checked": None, "reminded": False}
    _save(vault, state)
    return state


def _save(vault: Vault, state: dict) -> None:
    vault.put_secret(STATE, json.dumps(state).encode())


def checked_ms(vault: Vault) -> int | None:
    """When the person last confirmed their key (typed it, or wrote down a new one), or None."""
    raw = vault.get_secret(STATE)
    return json.loads(raw).get("checked") if raw else None


def mark_checked(vault: Vault, now_ms: int) -> None:
    """The person confirmed their key. Once the reminder was due, it is over for good."""
    state = _state(vault, now_ms)
    if reminder_due(vault, now_ms):
        state["reminded"] = True
    state["checked"] = now_ms
    _save(vault, state)


def reminder_due(vault: Vault, now_ms: int) -> bool:
    """True from 30 days after the key was last shown or confirmed, until the person dismisses the reminder or
    checks the key; never again after that."""
    state = _state(vault, now_ms)
    if state.get("reminded"):
        return False
    since = max(state.get("shown") or 0, state.get("checked") or 0)
    return now_ms - since >= REMIND_AFTER_MS


def dismiss_reminder(vault: Vault, now_ms: int) -> None:
    state = _state(vault, now_ms)
    state["reminded"] = True
    _save(vault, state)


def check_key(vault: Vault, text: str, now_ms: int) -> bool:
    """Whether the typed key is this person's current recovery key (it opens this vault); a right answer counts
    as confirmed. A typing mistake raises ``InvalidRecoveryKey(typo=True)``.

    On a vault made before an account's devices shared one key (its slot is version 1 and it knows no public
    halves), a right key is also what lets the account be restored: its public halves are learnt from it, the
    slot is sealed again to the same key, and the next sync gives the server the account backup."""
    right = vault.check_recovery_key(text)
    if right:
        if keyring.recovery_publics(vault) is None:
            auth_public, box_public = vault_recovery.publics(vault_recovery.parse_key(text))
            vault.reseal_recovery(box_public, auth_public)
            with vault.transaction():
                keyring.store_chain(vault, [], (auth_public, box_public))
                vault.put_secret(keyring.BACKUP_OWED, b"1")  # the next sync gives the server the backup
        mark_checked(vault, now_ms)
    return right


def key_text(typed: str) -> str:
    """A typed key as shown (groups of four, upper case, dashes), to save or print again after a check."""
    return vault_recovery.format_key(vault_recovery.parse_key(typed))


# -- a new key -----------------------------------------------------------------------------------------------------


def new_key() -> NewRecoveryKey:
    made = vault_recovery.new_key()
    return NewRecoveryKey(made.text, made.auth_public, made.box_public)


def confirm_groups(made: NewRecoveryKey, positions: tuple[int, int], first: str, second: str) -> bool:
    """Whether the person typed the groups at ``positions`` (0-based) back, forgiving case and spaces."""

    def norm(text: str) -> str:
        return "".join(text.split()).upper().replace("O", "0").replace("I", "1").replace("L", "1")

    groups = [norm(g) for g in made.groups]
    return groups[positions[0]] == norm(first) and groups[positions[1]] == norm(second)


def apply(session: AccountContext, made: NewRecoveryKey) -> None:
    """Put ``made`` in place of the current key: server first, then this vault, then the other devices (module
    docstring). ``RotationProblem`` when the server cannot be told: then nothing changed."""
    vault = session.vault
    with _BUSY:  # never at the same time as resume() on the sync thread
        vault.put_secret(PENDING, made.auth_public + made.box_public)
        try:
            _tell_server(session, made.auth_public, made.box_public)
        except SyncError as exc:
            offline = isinstance(exc, Offline)
            _give_up(vault, offline)
            raise RotationProblem("offline" if offline else "refused") from None
        crash_point("recovery:told-server")
        _finish(session, made.auth_public, made.box_public)


def _give_up(vault: Vault, offline: bool) -> None:
    """The server was not (knowingly) told: the key in use stays. Cut (``offline``), the server may have taken the
    new key all the same, so the next sync gives it the current key's backup again."""
    with vault.transaction():
        vault.delete_secret(PENDING)
        if offline:
            vault.put_secret(keyring.BACKUP_OWED, b"1")


def rotate(session: AccountContext) -> str:
    """``new_key`` and ``apply`` in one call; the text to show. For callers that show the key afterwards."""
    made = new_key()
    apply(session, made)
    return made.text


def resume(session: AccountContext) -> bool:
    """Finish a new key's steps that a crash interrupted (after a sync, so online). True when one was finished."""
    vault = session.vault
    if not _BUSY.acquire(blocking=False):  # apply() is at work on another thread
        return False
    try:
        raw = vault.get_secret(PENDING)
        if raw is None:
            return False
        auth_public, box_public = raw[:AUTH_BYTES], raw[AUTH_BYTES:]
        try:
            _tell_server(session, auth_public, box_public)  # idempotent: the same key again
        except Offline:
            return False  # after the next sync, then
        except SyncError:  # refused: this key will not be taken; the one in use stays, and the server gets it again
            _give_up(vault, offline=True)
            return False
        _finish(session, auth_public, box_public)
        return True
    finally:
        _BUSY.release()


def _tell_server(session: AccountContext, auth_public: bytes, box_public: bytes) -> None:
    vault = session.vault
    keyring.ensure(vault)
    account = session.program.credentials.account
    doc = msgpack.unpackb(keyring.packed_chain(vault), raw=False)
    doc["r"] = {"a": auth_public, "b": box_public}  # the backup names the key that opens it
    backup = envelope.seal_backup(msgpack.packb(doc, use_bin_type=True), box_public, account)
    session.engine.authorized(lambda token: session.transport.put_recovery(auth_public, backup, token))


def _finish(session: AccountContext, auth_public: bytes, box_public: bytes) -> None:
    vault = session.vault
    vault.reseal_recovery(box_public, auth_public)  # the key file first: see recovery_slot.py
    crash_point("recovery:resealed")
    now = session.now_ms()
    with vault.transaction():
        keyring.store_chain(vault, [], (auth_public, box_public))
        vault.delete_secret(keyring.BACKUP_OWED)  # the server holds this chain, under the new key
        if session.messaging is not None:  # with the epoch keys this device owes one anyway
            session.messaging.flush_keyring(recovery=(auth_public, box_public))
        else:
            _queue_keyring(session, {"r": {"a": auth_public, "b": box_public, "at": now}})
        state = _state(vault, now)
        state.update(shown=now, checked=now)
        _save(vault, state)
        vault.delete_secret(PENDING)
    session.scheduler.local_change()


def _queue_keyring(session: AccountContext, content: dict) -> None:
    """One ``keyring`` record (sealed with the account's current keyring key, for the person's own account) that
    tells the other devices the new key's public halves."""
    keys = keyring.ensure(session.vault)
    program = session.program
    account = program.credentials.account
    record_id = new_record_id()
    body = keys.seal_keyring(account, record_id, msgpack.packb(content, use_bin_type=True))
    record = Record(i=record_id, k="keyring", t=[account], h=session.clock.now(), b=body)
    session.vault.records.enqueue(
        StoredRecord(record_id.hex(), "keyring", account.hex(), record.h, pack_record(record))
    )


__all__ = [
    "InvalidRecoveryKey",
    "NewRecoveryKey",
    "RotationProblem",
    "apply",
    "check_key",
    "checked_ms",
    "confirm_groups",
    "dismiss_reminder",
    "key_text",
    "mark_checked",
    "new_key",
    "reminder_due",
    "resume",
    "rotate",
]
