"""Links and recovery (PROTOCOL.md §10): how a person's second device joins their account, and how a person who
lost every device gets a new one with their recovery key.

A mixin of ``Storage`` like ``AccountsMixin``. A linked device is PENDING from its approval until it picks up its
welcome: it lives in the ``links`` row only, so no device list shows it and it cannot sign in; picking it up makes
it a row of ``devices``. Link rows are purged a day after the link expired (a pending device with them).
"""

from __future__ import annotations

import secrets
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from sync.server.accounts import DeviceSession
from sync.server.tables import accounts, devices, links, recovery, request_nonces

if TYPE_CHECKING:
    from sync.clock import Clock

LINK_TTL_S = 600  # a link's code works for ten minutes
PICKUP_TTL_S = 24 * 3600  # an approved device may pick up its welcome (again) for a day after its approval
PURGE_AFTER_S = 24 * 3600  # link rows, a pending device with them, go a day after the link expired
MAX_OPEN_LINKS = 3  # per account
SLOT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
SLOT_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{6}$"


@dataclass(frozen=True)
class LinkView:
    state: str  # open, requested, approved, expired
    request: bytes | None
    expires: int


@dataclass(frozen=True)
class Pickup:
    """What a pickup of a link's welcome found: ``outcome`` is ``ok`` (with ``session`` and ``welcome``),
    ``waiting`` (not approved yet), ``unknown``, ``expired``, ``used`` (approved for another key) or ``revoked``."""

    outcome: str
    session: DeviceSession | None = None
    welcome: bytes | None = None


@dataclass(frozen=True)
class Restore:
    """What a restore found: ``outcome`` is ``ok`` (with ``session`` and ``backup``), ``unknown``, ``replayed``
    or ``revoked`` (that signing key was a device of the account, since revoked)."""

    outcome: str
    session: DeviceSession | None = None
    backup: bytes | None = None


def _state(row: sa.Row, now: int) -> str:
    if row.approved_at is not None:
        return "approved"
    if now >= row.expires_at:
        return "expired"
    return "requested" if row.request is not None else "open"


class LinksMixin:
    clock: Clock
    is_sqlite: bool
    reader: Engine

    def _write(self) -> AbstractContextManager[Connection]: ...  # provided by Storage

    def _now(self) -> int: ...  # provided by AccountsMixin

    # -- links ---------------------------------------------------------------------------------------------

    def create_link(self, account: bytes) -> tuple[str, int] | None:
        """A new link slot for ``account``: (slot, expires as unix s); None when the account has
        ``MAX_OPEN_LINKS`` open (neither expired nor approved) already."""
        now = self._now()
        with self._write() as conn:
            conn.execute(links.delete().where(links.c.expires_at < now - PURGE_AFTER_S))
            open_now = conn.execute(
                sa.select(sa.func.count())
                .select_from(links)
                .where(links.c.account_id == account, links.c.expires_at > now, links.c.approved_at.is_(None))
            ).scalar_one()
            if open_now >= MAX_OPEN_LINKS:
                return None
            while True:
                slot = "".join(secrets.choice(SLOT_ALPHABET) for _ in range(6))
                if conn.execute(sa.select(links.c.slot).where(links.c.slot == slot)).first() is None:
                    break
            expires = now + LINK_TTL_S
            conn.execute(links.insert().values(slot=slot, account_id=account, created_at=now, expires_at=expires))
        return slot, expires

    def link_request(self, slot: str, sealed: bytes) -> tuple[str, int]:
        """Store a new device's sealed request: (outcome, expires), outcome ``accepted`` (also for the same bytes
        again, even once approved: a request retried after its answer was lost), ``unknown``, ``expired``, or
        ``used`` (another request came first)."""
        now = self._now()
        with self._write() as conn:
            row = conn.execute(sa.select(links).where(links.c.slot == slot).with_for_update()).first()
            if row is None:
                return "unknown", 0
            state = _state(row, now)
            if row.request is not None and secrets.compare_digest(row.request, sealed) and state != "expired":
                return "accepted", row.expires_at
            if state == "expired":
                return "expired", row.expires_at
            if state != "open":
                return "used", row.expires_at
            conn.execute(links.update().where(links.c.slot == slot).values(request=sealed))
        return "accepted", row.expires_at

    def link_view(self, slot: str, account: bytes) -> LinkView | None:
        """The link's state for a device of its account; None when there is no such link on that account."""
        with self.reader.connect() as conn:
            row = conn.execute(sa.select(links).where(links.c.slot == slot, links.c.account_id == account)).first()
        if row is None:
            return None
        state = _state(row, self._now())
        return LinkView(state, row.request if state in ("requested", "approved") else None, row.expires_at)

    def approve_link(
        self, slot: str, account: bytes, sign_key: bytes, box_key: bytes, name: str, welcome: bytes
    ) -> tuple[str, bytes | None]:
        """Approve the link for the device with ``sign_key``: (outcome, its new device id), outcome ``ok`` (also
        again for the same key), ``unknown``, ``expired``, ``not-requested`` or ``used`` (approved for another
        key)."""
        now = self._now()
        with self._write() as conn:
            row = conn.execute(
                sa.select(links).where(links.c.slot == slot, links.c.account_id == account).with_for_update()
            ).first()
            if row is None:
                return "unknown", None
            state = _state(row, now)
            if state == "approved":
                if secrets.compare_digest(row.sign_key, sign_key):
                    return "ok", row.device_id
                return "used", None
            if state == "expired":
                return "expired", None
            if state == "open":
                return "not-requested", None
            device = secrets.token_bytes(16)
            conn.execute(
                links.update()
                .where(links.c.slot == slot)
                .values(
                    approved_at=now, device_id=device, sign_key=sign_key, box_key=box_key, name=name, welcome=welcome
                )
            )
        return "ok", device

    def pickup_link(self, slot: str, sign_key: bytes) -> Pickup:
        """The welcome of an approved link, for the key it was approved for: the pending device becomes a device
        of the account (once; a pickup repeated within a day answers the same)."""
        with self.reader.connect() as conn:  # a held pickup looks every 1.5 s: without taking the write lock
            seen = conn.execute(sa.select(links.c.approved_at, links.c.expires_at).where(links.c.slot == slot)).first()
        now = self._now()
        if seen is not None and seen.approved_at is None and now < seen.expires_at:
            return Pickup("waiting")
        with self._write() as conn:
            row = conn.execute(sa.select(links).where(links.c.slot == slot).with_for_update()).first()
            if row is None:
                return Pickup("unknown")
            state = _state(row, now)
            if state in ("open", "requested"):
                return Pickup("waiting")
            if state == "expired" or now > row.approved_at + PICKUP_TTL_S:
                return Pickup("expired")
            if not secrets.compare_digest(row.sign_key, sign_key):
                return Pickup("used")
            role = conn.execute(sa.select(accounts.c.role).where(accounts.c.id == row.account_id)).scalar_one()
            made = conn.execute(sa.select(devices.c.revoked_at).where(devices.c.id == row.device_id)).first()
            if made is None:
                conn.execute(
                    devices.insert().values(
                        id=row.device_id,
                        account_id=row.account_id,
                        name=row.name,
                        sign_key=row.sign_key,
                        box_key=row.box_key,
                        created_at=now,
                    )
                )
            elif made.revoked_at is not None:
                return Pickup("revoked")
        return Pickup("ok", DeviceSession(row.account_id, row.device_id, role), row.welcome)

    # -- recovery ------------------------------------------------------------------------------------------

    def put_recovery(self, account: bytes, auth_public: bytes, backup: bytes) -> bool:
        """Keep ``account``'s recovery auth key and backup, replacing the previous ones (the old key stops working
        at once); False when another account has this auth key."""
        now = self._now()
        upsert = (sqlite_insert if self.is_sqlite else postgresql_insert)(recovery).values(
            account_id=account, auth_public=auth_public, backup=backup, updated_at=now
        )
        with self._write() as conn:
            other = conn.execute(
                sa.select(recovery.c.account_id).where(
                    recovery.c.auth_public == auth_public, recovery.c.account_id != account
                )
            ).first()
            if other is not None:
                return False
            conn.execute(
                upsert.on_conflict_do_update(
                    index_elements=["account_id"],
                    set_={"auth_public": auth_public, "backup": backup, "updated_at": now},
                )
            )
        return True

    def restore(
        self, auth_public: bytes, nonce: bytes, keep_until: int, sign_key: bytes, box_key: bytes, name: str
    ) -> Restore:
        """A device for the account whose recovery auth key is ``auth_public`` (its signature already checked):
        a new active device, or the same one again for the same ``sign_key`` (a restore retried with a fresh
        nonce after its answer was lost). The nonce is spent here, with the device, in one transaction."""
        now = self._now()
        insert = sqlite_insert if self.is_sqlite else postgresql_insert
        with self._write() as conn:
            found = conn.execute(
                sa.select(recovery.c.account_id, recovery.c.backup, accounts.c.role)
                .join(accounts, accounts.c.id == recovery.c.account_id)
                .where(recovery.c.auth_public == auth_public)
            ).first()
            if found is None:
                return Restore("unknown")
            conn.execute(request_nonces.delete().where(request_nonces.c.expires_at < now))
            fresh = conn.execute(
                insert(request_nonces)  # the account stands for the device: nonces are random, 16 bytes
                .values(nonce=nonce, device_id=found.account_id, expires_at=keep_until)
                .on_conflict_do_nothing(index_elements=["nonce"])
                .returning(request_nonces.c.nonce)
            ).first()
            if fresh is None:
                return Restore("replayed")
            same = conn.execute(
                sa.select(devices.c.id, devices.c.revoked_at).where(
                    devices.c.account_id == found.account_id, devices.c.sign_key == sign_key
                )
            ).first()
            if same is not None and same.revoked_at is not None:
                return Restore("revoked")
            device = same.id if same is not None else secrets.token_bytes(16)
            if same is None:
                conn.execute(
                    devices.insert().values(
                        id=device,
                        account_id=found.account_id,
                        name=name,
                        sign_key=sign_key,
                        box_key=box_key,
                        created_at=now,
                    )
                )
        return Restore("ok", DeviceSession(found.account_id, device, found.role), found.backup)
