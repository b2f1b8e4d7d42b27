"""Invites, accounts, devices, challenges and tokens: the part of the server's storage that says who is calling.

A mixin of ``Storage`` (which owns the engines, the clock and ``_write``), kept apart from the records so each
half reads on its own.
"""

from __future__ import annotations

import hashlib
import secrets
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from sync.server.tables import accounts, challenges, device_seen, devices, invites, request_nonces, tokens

if TYPE_CHECKING:
    from sync.clock import Clock

TOKEN_TTL_S = 3600
SEEN_EVERY_S = 60  # a device's last sync is written at most once a minute
CHALLENGE_TTL_S = 120
ROLES = ("student", "mentor", "admin")


@dataclass(frozen=True)
class DeviceSession:
    """Who is calling: resolved from a bearer token on every request."""

    account: bytes
    device: bytes
    role: str


def secret_hash(secret: str | bytes) -> bytes:
    return hashlib.sha256(secret.encode() if isinstance(secret, str) else secret).digest()


def normalize_invite(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


class AccountsMixin:
    clock: Clock
    is_sqlite: bool
    reader: Engine
    _seen: dict[bytes, int]

    def _write(self) -> AbstractContextManager[Connection]: ...  # provided by Storage

    def _now(self) -> int:
        return int(self.clock.time())

    # -- invites, accounts, devices ------------------------------------------------------------------------

    def create_invites(self, role: str, count: int = 1) -> list[str]:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        alphabet = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
        codes = []
        with self._write() as conn:
            for _ in range(count):
                raw = "".join(secrets.choice(alphabet) for _ in range(12))
                codes.append("-".join(raw[i : i + 4] for i in range(0, 12, 4)))
                conn.execute(invites.insert().values(code_hash=secret_hash(raw), role=role, created_at=self._now()))
        return codes

    def invite_usable(self, invite: str) -> bool:
        """Whether ``invite`` is known and unspent (without spending it)."""
        with self.reader.connect() as conn:
            row = conn.execute(
                sa.select(invites.c.used_at).where(invites.c.code_hash == secret_hash(normalize_invite(invite)))
            ).first()
        return row is not None and row.used_at is None

    def register(self, invite: str, name: str, sign_key: bytes, box_key: bytes | None) -> DeviceSession | None:
        """Spend ``invite`` on a new account with this first device; None when the invite is unknown or used.

        Idempotent for the key that spent it: a register retried after its answer was lost (same invite, same
        signing key) gets the same account and device back, as long as that device is not revoked. Any other
        key presenting a spent invite gets None."""
        code_hash = secret_hash(normalize_invite(invite))
        with self._write() as conn:
            row = conn.execute(
                sa.select(invites.c.role, invites.c.used_at, invites.c.device_id)
                .where(invites.c.code_hash == code_hash)
                .with_for_update()
            ).first()
            if row is None:
                return None
            if row.used_at is not None:
                return self._spent_by(conn, row.device_id, sign_key)
            account, device, now = secrets.token_bytes(16), secrets.token_bytes(16), self._now()
            conn.execute(accounts.insert().values(id=account, role=row.role, created_at=now))
            conn.execute(
                devices.insert().values(
                    id=device, account_id=account, name=name, sign_key=sign_key, box_key=box_key, created_at=now
                )
            )
            conn.execute(invites.update().where(invites.c.code_hash == code_hash).values(used_at=now, device_id=device))
        return DeviceSession(account, device, row.role)

    @staticmethod
    def _spent_by(conn: Connection, device: bytes | None, sign_key: bytes) -> DeviceSession | None:
        if device is None:
            return None
        found = conn.execute(
            sa.select(devices.c.account_id, devices.c.sign_key, devices.c.revoked_at, accounts.c.role)
            .join(accounts, accounts.c.id == devices.c.account_id)
            .where(devices.c.id == device)
        ).first()
        if found is None or found.revoked_at is not None or not secrets.compare_digest(found.sign_key, sign_key):
            return None
        return DeviceSession(found.account_id, device, found.role)

    def device_key(self, device: bytes) -> tuple[bytes, bool] | None:
        """(public signing key, revoked) of a device, or None."""
        with self.reader.connect() as conn:
            row = conn.execute(
                sa.select(devices.c.sign_key, devices.c.revoked_at).where(devices.c.id == device)
            ).first()
        return None if row is None else (row.sign_key, row.revoked_at is not None)

    def device_keys(self, device_ids: set[bytes]) -> dict[bytes, bytes]:
        with self.reader.connect() as conn:
            rows = conn.execute(sa.select(devices.c.id, devices.c.sign_key).where(devices.c.id.in_(device_ids)))
            return {row.id: row.sign_key for row in rows}

    def list_devices(self, account: bytes) -> list[dict[str, object]]:
        with self.reader.connect() as conn:
            rows = conn.execute(
                sa.select(devices, device_seen.c.last_seen)
                .outerjoin(device_seen, device_seen.c.device_id == devices.c.id)
                .where(devices.c.account_id == account)
                .order_by(devices.c.created_at, devices.c.id)
            )
            return [
                {
                    "device": r.id.hex(),
                    "name": r.name,
                    "created": r.created_at,
                    "revoked": r.revoked_at is not None,
                    "box_key": r.box_key,
                    "last_sync": r.last_seen,
                }
                for r in rows
            ]

    def revoke_device(self, device: bytes, account: bytes | None = None) -> bool:
        """Revoke ``device`` (only when it belongs to ``account``, when given); False, and nothing changed, when
        there is no such active device. Its tokens stop working at once: ``session_for_token`` refuses every
        token of a revoked device with ``device-revoked`` (they are left to expire, so the device is told why)."""
        where = [devices.c.id == device, devices.c.revoked_at.is_(None)]
        if account is not None:
            where.append(devices.c.account_id == account)
        with self._write() as conn:
            return bool(conn.execute(devices.update().where(*where).values(revoked_at=self._now())).rowcount)

    def seen(self, device: bytes) -> None:
        """Note that ``device`` synced now (what tells an admin "has not synced for a while" from
        "unresponsive"); written at most once a minute per device and process."""
        now = self._now()
        if now - self._seen.get(device, 0) < SEEN_EVERY_S:
            return
        upsert = (sqlite_insert if self.is_sqlite else postgresql_insert)(device_seen).values(
            device_id=device, last_seen=now
        )
        with self._write() as conn:
            conn.execute(upsert.on_conflict_do_update(index_elements=["device_id"], set_={"last_seen": now}))
        self._seen[device] = now

    def presence(self) -> list[dict[str, object]]:
        """Every account with its role, when it joined, and its last sync from any active device (or None):
        metadata an admin needs, and nothing of what people wrote."""
        with self.reader.connect() as conn:
            rows = conn.execute(
                sa.select(
                    accounts.c.id,
                    accounts.c.role,
                    accounts.c.created_at,
                    sa.func.max(device_seen.c.last_seen).label("last_sync"),
                )
                .select_from(accounts)
                .outerjoin(devices, sa.and_(devices.c.account_id == accounts.c.id, devices.c.revoked_at.is_(None)))
                .outerjoin(device_seen, device_seen.c.device_id == devices.c.id)
                .group_by(accounts.c.id, accounts.c.role, accounts.c.created_at)
                .order_by(accounts.c.created_at, accounts.c.id)
            )
            return [
                {"account": r.id.hex(), "role": r.role, "joined": r.created_at, "last_sync": r.last_sync} for r in rows
            ]

    # -- challenge and token -------------------------------------------------------------------------------

    def new_challenge(self, device: bytes) -> tuple[bytes, int]:
        now = self._now()
        challenge, expires = secrets.token_bytes(32), now + CHALLENGE_TTL_S
        with self._write() as conn:
            conn.execute(challenges.delete().where(challenges.c.expires_at < now))
            conn.execute(challenges.insert().values(challenge=challenge, device_id=device, expires_at=expires))
        return challenge, expires

    def spend_challenge(self, device: bytes, challenge: bytes) -> bool:
        with self._write() as conn:
            return bool(
                conn.execute(
                    challenges.delete().where(
                        challenges.c.challenge == challenge,
                        challenges.c.device_id == device,
                        challenges.c.expires_at >= self._now(),
                    )
                ).rowcount
            )

    def issue_token(self, device: bytes) -> tuple[str, int]:
        now = self._now()
        token, expires = secrets.token_urlsafe(32), now + TOKEN_TTL_S
        with self._write() as conn:
            conn.execute(tokens.delete().where(tokens.c.expires_at < now))
            conn.execute(tokens.insert().values(token_hash=secret_hash(token), device_id=device, expires_at=expires))
        return token, expires

    def signing_device(self, device: bytes) -> tuple[DeviceSession, bytes, bool] | None:
        """(session, public signing key, revoked) of a device, for a signed request; None if unknown."""
        with self.reader.connect() as conn:
            row = conn.execute(
                sa.select(devices.c.account_id, devices.c.sign_key, devices.c.revoked_at, accounts.c.role)
                .join(accounts, accounts.c.id == devices.c.account_id)
                .where(devices.c.id == device)
            ).first()
        if row is None:
            return None
        return DeviceSession(row.account_id, device, row.role), row.sign_key, row.revoked_at is not None

    def spend_nonce_for_token(self, device: bytes, nonce: bytes, keep_until: int) -> tuple[str, int] | None:
        """Record a signed request's nonce until ``keep_until`` (unix s) and issue the device a token, in one
        transaction; None when the nonce was seen before (a replay)."""
        now = self._now()
        token, expires = secrets.token_urlsafe(32), now + TOKEN_TTL_S
        insert = sqlite_insert if self.is_sqlite else postgresql_insert
        with self._write() as conn:
            conn.execute(request_nonces.delete().where(request_nonces.c.expires_at < now))
            fresh = conn.execute(
                insert(request_nonces)
                .values(nonce=nonce, device_id=device, expires_at=keep_until)
                .on_conflict_do_nothing(index_elements=["nonce"])
                .returning(request_nonces.c.nonce)  # rowcount is not told reliably for this on PostgreSQL
            ).first()
            if fresh is None:
                return None
            conn.execute(tokens.delete().where(tokens.c.expires_at < now))
            conn.execute(tokens.insert().values(token_hash=secret_hash(token), device_id=device, expires_at=expires))
        return token, expires

    def session_for_token(self, token: str) -> tuple[DeviceSession | None, str]:
        """(session, "") or (None, reason) with reason one of ``unauthenticated``, ``token-expired``,
        ``device-revoked``."""
        with self.reader.connect() as conn:
            row = conn.execute(
                sa.select(
                    tokens.c.expires_at, devices.c.id, devices.c.account_id, devices.c.revoked_at, accounts.c.role
                )
                .join(devices, devices.c.id == tokens.c.device_id)
                .join(accounts, accounts.c.id == devices.c.account_id)
                .where(tokens.c.token_hash == secret_hash(token))
            ).first()
        if row is None:
            return None, "unauthenticated"
        if row.revoked_at is not None:
            return None, "device-revoked"
        if row.expires_at < self._now():
            return None, "token-expired"
        return DeviceSession(row.account_id, row.id, row.role), ""
