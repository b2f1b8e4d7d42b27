"""One person, several devices (PROTOCOL.md §10): the names the UI uses. Linking lives in ``linking.py``
(re-exported here); this module restores the account on a new device with the recovery key, lists and revokes
devices, and keeps the account current after each sync. Plain Python; Session has thin methods over it and the
UI runs them on a worker thread.

Restoring: the recovery key signs a restore request and opens the account backup (the chain). Revoking: the
account secret gets a new generation, sealed to every remaining device (an ``account-key`` record), every thread
a new epoch, the card republished, the backup sealed again.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgpack

from desktop.domain import keyring
from desktop.domain.linking import (  # noqa: F401 - re-exported: the UI imports them from here
    Linked,
    LinkOffer,
    LinkProblem,
    await_link,
    link_device,
    offer_link,
    parse_link_text,
    pending_keys,
    remembered_devices,
    republish_card,
    reseal_slot,
    this_entry,
)
from desktop.domain.sync_adapter import CATCHING_UP, Program, queue_record, store_program
from desktop.i18n import _
from desktop.vault import Vault
from sync import envelope
from sync.client.errors import ClockSkew, Offline, RecoveryUnknown, SyncError
from sync.client.transport import Transport
from sync.clock import SYSTEM, Clock

if TYPE_CHECKING:
    from desktop.domain.account_context import AccountContext

log = logging.getLogger(__name__)
_RESTORING = "program-restoring"  # the keys of a device being restored, until it is


@dataclass(frozen=True)
class DeviceInfo:
    device: str
    name: str
    fingerprint: str
    created_ms: int
    last_sync_ms: int | None
    this: bool
    revoked: bool


class RecoveryProblem(Exception):
    """Restoring did not work; ``reason``: unknown, wrong-key, offline, clock."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)

    def __str__(self) -> str:
        return {
            "unknown": _("This server has no account for that recovery key."),
            "wrong-key": _("That recovery key has a typing mistake. Check each group of four against your copy."),
            "offline": _("The server cannot be reached. Check the connection and try again."),
            "clock": _("This computer's clock is wrong. Set the date and time, then try again."),
        }.get(self.reason, _("The server refused to restore the account."))


_RECOVERY_REASONS = ((Offline, "offline"), (RecoveryUnknown, "unknown"), (ClockSkew, "clock"))


def _recovery_reason(exc: SyncError) -> str:
    """The ``RecoveryProblem`` reason for what the transport raised (its typed errors; anything else is refused)."""
    return next((reason for kind, reason in _RECOVERY_REASONS if isinstance(exc, kind)), "refused")


# -- after each sync ---------------------------------------------------------------------------------------------


def upkeep(session: AccountContext) -> None:
    """After a sync: the card lists this device under the newest generation, the epoch keys opened are in a
    keyring record, the server's backup holds the newest chain (each a no-op when already so)."""
    try:
        if not card_is_current(session):
            republish_card(session)
        if session.messaging is not None:
            session.messaging.flush_keyring()
        if session.vault.get_secret(keyring.BACKUP_OWED) is not None:
            seal_backup(session)
    except Exception as exc:  # never the reason a sync fails: tried again after the next one
        log.info("account upkeep postponed: %s", type(exc).__name__)


def card_is_current(session: AccountContext) -> bool:
    """This device's card lists this device under the newest generation (else it is republished)."""
    card = keyring.my_card(session.vault, session.program.credentials.account.hex())
    keys = keyring.current(session.vault)
    if card is None or keys is None:
        return True  # nothing published yet: publish_profile will
    me = session.program.credentials.device.hex()
    return card.identity == keys.identity_public and any(e.device == me for e in card.devices)


# -- restore ------------------------------------------------------------------------------------------------------


def restore_account(
    vault: Vault,
    server_url: str,
    recovery_text: str,
    device_name: str,
    *,
    clock: Clock = SYSTEM,
    transport: Transport | None = None,
) -> Program:
    """A new device of the account whose recovery key this is (RecoveryProblem when not)."""
    from desktop.vault.errors import InvalidRecoveryKey
    from desktop.vault.recovery import parse_key

    try:
        recovery = envelope.RecoveryKeys(parse_key(recovery_text))
    except InvalidRecoveryKey:
        raise RecoveryProblem("wrong-key") from None
    transport = transport or Transport(server_url)
    key, box = pending_keys(vault, _RESTORING, transport.base_url)
    try:
        answer = transport.recover(recovery, key, box.public_bytes(), device_name, clock=clock)
    except SyncError as exc:
        raise RecoveryProblem(_recovery_reason(exc)) from None
    account, device = answer.account, answer.device
    try:
        payload = envelope.open_backup(answer.backup, recovery, account)
        links, _publics, _doc = keyring.unpack_chain(payload)
    except (envelope.EnvelopeError, ValueError, KeyError, TypeError, msgpack.ExtraData):
        raise RecoveryProblem("unknown") from None
    publics = (recovery.auth_public, recovery.box_public)
    with vault.transaction():
        keyring.store_chain(vault, links, publics)
        program = store_program(vault, transport.base_url, account, device, answer.role, key, box)
        vault.put_secret(CATCHING_UP, b"1")  # the history's grants for other devices: from the keyring
        vault.delete_secret(_RESTORING)
    reseal_slot(vault, publics)
    return program


def seal_backup(session: AccountContext, publics: tuple[bytes, bytes] | None = None) -> bool:
    """Give the server the account backup: the chain sealed to the recovery key (``publics``: its auth and box
    public halves, by default the ones this vault's slot is sealed to). Only the device that made a generation
    (joined, or revoked) owes it: another device's older view of the recovery key must never replace it."""
    vault = session.vault
    publics = publics or keyring.recovery_publics(vault)
    if publics is None or keyring.current(vault) is None:
        return False
    account = session.program.credentials.account
    backup = envelope.seal_backup(keyring.packed_chain(vault), publics[1], account)
    session.engine.authorized(lambda token: session.transport.put_recovery(publics[0], backup, token))
    vault.delete_secret(keyring.BACKUP_OWED)
    return True


# -- list, revoke -------------------------------------------------------------------------------------------------


def list_devices(session: AccountContext) -> list[DeviceInfo]:
    """The account's devices as the server lists them, with each one's fingerprint from the card (the keys
    the account's identity certified), this device marked."""
    rows = session.engine.authorized(session.transport.devices)
    card = keyring.my_card(session.vault, session.program.credentials.account.hex())
    entries = {e.device: e for e in (card.devices if card else ())}
    entries.update({e.device: e for e in remembered_devices(session.vault)})
    me = this_entry(session.program)
    entries[me.device] = me
    out = []
    for row in rows:
        device = row.device.hex()
        entry = entries.get(device)
        out.append(
            DeviceInfo(
                device=device,
                name=row.name,
                fingerprint=entry.fingerprint if entry else "",
                created_ms=row.created * 1000,
                last_sync_ms=row.last_sync * 1000 if row.last_sync is not None else None,
                this=device == me.device,
                revoked=row.revoked,
            )
        )
    return out


def revoke_device(session: AccountContext, device_hex: str) -> None:
    """Remove a lost or retired device: the server stops serving it; a new generation of the account secret
    goes to every remaining device (not to the revoked one), every thread gets a new epoch, the card lists the
    remaining devices under the new identity, and the backup is sealed again."""
    program = session.program
    if device_hex == program.credentials.device.hex():
        raise ValueError("this device cannot revoke itself")
    session.engine.authorized(lambda token: session.transport.revoke_device(bytes.fromhex(device_hex), token))
    rotate_account(session, drop=[device_hex])
    with contextlib.suppress(SyncError):  # else after the next sync (owed: upkeep seals it)
        seal_backup(session)


def rotate_account(session: AccountContext, drop: list[str]) -> int:
    vault, program = session.vault, session.program
    account = program.credentials.account
    old = keyring.ensure(vault)
    new = envelope.AccountKeys(envelope.new_account_secret(), old.generation + 1)
    me = this_entry(program)
    remaining = [
        e
        for e in keyring.card_devices(vault, account.hex(), me, drop) + remembered_devices(vault)
        if e.device not in drop and e.device != me.device
    ]
    with vault.transaction():
        keyring.store_chain(vault, [(new.generation, new.secret_bytes())])
        vault.put_secret(keyring.BACKUP_OWED, b"1")
        body = keyring.republish_body(vault, account, me, drop=drop, add=remembered_devices(vault))
        payload = keyring.packed_chain(vault)
        sealed = {
            e.device: envelope.seal_account_secrets(payload, e.box, account, bytes.fromhex(e.device), new.generation)
            for e in {e.device: e for e in remaining}.values()
        }
        doc = {"g": new.generation, "i": new.identity_public, "c": old.chain_to(account, new), "k": sealed}
        queue_record(
            vault, program, session.clock, "account-key", msgpack.packb(doc, use_bin_type=True), [account], signed=True
        )
        _forget_devices(vault, drop)
        if body is not None:
            queue_record(vault, program, session.clock, "card", body, None, signed=True)
        if session.messaging is not None:
            session.messaging.rekey_all()
            session.messaging.flush_keyring()
    session.scheduler.local_change()
    return new.generation


def _forget_devices(vault: Vault, drop: list[str]) -> None:
    raw = vault.get_secret("account-devices")
    if raw:
        known = {d: v for d, v in json.loads(raw).items() if d not in drop}
        vault.put_secret("account-devices", json.dumps(known).encode())
