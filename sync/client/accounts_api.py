"""The calls that link a device, restore an account and list an account's devices (PROTOCOL.md §10, §6).

A mixin of ``Transport``: every call goes through its ``_request`` (so it is counted on the wire, a cut is
``Offline``, a refusal a typed error of ``sync.client.errors``). The calls without a device of their own to sign
in with (posting a link request, picking up a welcome, restoring) are signed in the body where the protocol says
so, on a fresh nonce each attempt; refused for the time (``clock-skew``), they are signed once more on the
server's time.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sync.client.errors import AuthFailed, ClockSkew, Offline, TokenRejected, WrongServer
from sync.clock import SYSTEM, Clock, now_ms
from sync.envelope import DeviceKey, RecoveryKeys

if TYPE_CHECKING:
    import requests

    from sync.client.signing import RequestSigner

    Credential = str | RequestSigner

MAX_HOLD_S = 50  # the longest a link poll or a welcome pickup is held by the server


@dataclass(frozen=True)
class LinkSlot:
    slot: str  # the code's first 6 characters, made by the server
    expires: int  # unix s


@dataclass(frozen=True)
class LinkState:
    state: str  # open, requested, approved, expired
    request: bytes | None  # the sealed request (requested, approved)


@dataclass(frozen=True)
class Welcome:
    account: bytes
    device: bytes
    role: str
    welcome: bytes  # sealed to this device's box key


@dataclass(frozen=True)
class Restored:
    account: bytes
    device: bytes
    role: str
    backup: bytes  # sealed to the recovery key


@dataclass(frozen=True)
class DeviceEntry:
    device: bytes
    name: str
    created: int  # unix s
    revoked: bool
    box_key: bytes | None
    last_sync: int | None  # unix s, to the minute; None: never synced


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


class AccountsCalls:
    base_url: str
    timeout: tuple[float, float]

    # provided by Transport
    def _request(self, method: str, path: str, *, resend: bool = True, **kwargs: Any) -> requests.Response: ...
    def _json(self, response: requests.Response, what: str) -> Any: ...
    @staticmethod
    def _auth(credential: Credential, **headers: str) -> dict[str, Any]: ...

    def _unexpected(self, what: str) -> WrongServer:
        return WrongServer(f"{self.base_url} answered {what} with something unexpected")

    def _signed_json(self, path: str, what: str, body_for: Callable[[int], dict[str, Any]], clock: Clock, **kw: Any):
        """POST the body ``body_for(ts_ms)`` makes (a fresh nonce and signature each time): once more after a
        cut (the server answers a repeat the same way) and once more on the server's time after ``clock-skew``;
        ``ClockSkew`` when that is refused too, ``AuthFailed`` for another refusal of the signature."""
        ts, skew_fixed, cut = now_ms(clock), False, False
        while True:
            try:
                return self._request("POST", path, json=body_for(ts), resend=False, **kw)
            except Offline:
                if cut:
                    raise
                cut = True
            except TokenRejected as exc:
                if exc.reason != "clock-skew":
                    raise AuthFailed(str(exc)) from None
                if skew_fixed or exc.server_time_ms is None:
                    raise ClockSkew(str(exc), exc.server_time_ms) from None
                ts, skew_fixed = exc.server_time_ms, True

    # -- linking (PROTOCOL.md §10.2) -----------------------------------------------------------------------

    def create_link(self, token: Credential) -> LinkSlot:
        """A new link for a device of the caller's account (``TooManyLinks`` with three open). Not resent: a
        copy would open a second link."""
        answer = self._json(self._request("POST", "/v1/links", resend=False, **self._auth(token)), "a new link")
        try:
            return LinkSlot(str(answer["slot"]), int(answer["expires"]))
        except (KeyError, TypeError, ValueError):
            raise self._unexpected("a new link") from None

    def post_link_request(self, slot: str, sealed: bytes) -> int:
        """The new device's keys, sealed with the code, to the link's slot: its expiry (unix s). The same bytes
        again are answered the same. ``LinkUnknown``, ``LinkExpired``, ``LinkUsed``."""
        response = self._request("POST", f"/v1/links/{slot}/request", json={"request": _b64(sealed)})
        try:
            return int(self._json(response, "the link request")["expires"])
        except (KeyError, TypeError, ValueError):
            raise self._unexpected("the link request") from None

    def poll_link(self, slot: str, t: int, token: Credential) -> LinkState:
        """The link's state, held by the server up to ``t`` seconds (at most 50) while nobody asked to use it."""
        t = max(0, min(int(t), MAX_HOLD_S))
        timeout = (self.timeout[0], t + 30.0)
        response = self._request("GET", f"/v1/links/{slot}?t={t}", timeout=timeout, **self._auth(token))
        answer = self._json(response, "the link poll")
        try:
            request = answer.get("request")
            return LinkState(str(answer["state"]), None if request is None else base64.b64decode(request))
        except (AttributeError, KeyError, TypeError, ValueError):
            raise self._unexpected("the link poll") from None

    def approve_link(
        self, slot: str, sign_key: bytes, box_key: bytes, name: str, welcome: bytes, token: Credential
    ) -> bytes:
        """Approve the device that asked (its keys from the opened request) with its sealed welcome: the new
        device's id. The same ``sign_key`` again answers the same id; ``LinkUsed`` for another."""
        body = {"sign_key": _b64(sign_key), "box_key": _b64(box_key), "name": name, "welcome": _b64(welcome)}
        response = self._request("POST", f"/v1/links/{slot}/approve", json=body, **self._auth(token))
        try:
            return bytes.fromhex(self._json(response, "the approval")["device"])
        except (KeyError, TypeError, ValueError):
            raise self._unexpected("the approval") from None

    def pickup_welcome(self, slot: str, key: DeviceKey, t: int = 0, clock: Clock = SYSTEM) -> Welcome | None:
        """The welcome of a link approved for ``key``, which makes this device active; None while it is not
        approved yet (the server holds the call up to ``t`` seconds first). Repeatable for a day."""
        t = max(0, min(int(t), MAX_HOLD_S))

        def body(ts: int) -> dict[str, Any]:
            nonce = os.urandom(16)
            sig = key.sign_link_pickup(slot, ts, nonce)
            return {"sign_key": _b64(key.public_bytes()), "ts": ts, "nonce": _b64(nonce), "sig": _b64(sig)}

        timeout = (self.timeout[0], t + 30.0)
        response = self._signed_json(f"/v1/links/{slot}/welcome?t={t}", "the welcome", body, clock, timeout=timeout)
        if response.status_code == 202:
            return None
        answer = self._json(response, "the welcome")
        try:
            return Welcome(
                bytes.fromhex(answer["account"]),
                bytes.fromhex(answer["device"]),
                str(answer["role"]),
                base64.b64decode(answer["welcome"], validate=True),
            )
        except (KeyError, TypeError, ValueError):
            raise self._unexpected("the welcome") from None

    # -- recovery (PROTOCOL.md §10.3) ----------------------------------------------------------------------

    def put_recovery(self, auth: bytes, backup: bytes, token: Credential) -> None:
        """Keep the account's recovery auth public key and sealed backup on the server, replacing the previous
        ones (the previous recovery key stops restoring). Idempotent."""
        body = {"auth": _b64(auth), "backup": _b64(backup)}
        self._request("PUT", "/v1/recovery", json=body, **self._auth(token))

    def recover(
        self, recovery: RecoveryKeys, key: DeviceKey, box_key: bytes, name: str, clock: Clock = SYSTEM
    ) -> Restored:
        """A new device (this one: ``key``, ``box_key``, ``name``) for the account of ``recovery``, and the
        account's sealed backup. Retried with the same key, the same device. ``RecoveryUnknown`` when no account
        here has this recovery key; ``ClockSkew`` when this machine's clock is far off."""
        sign_key = key.public_bytes()

        def body(ts: int) -> dict[str, Any]:
            nonce = os.urandom(16)
            return {
                "auth": _b64(recovery.auth_public),
                "ts": ts,
                "nonce": _b64(nonce),
                "sig": _b64(recovery.sign_restore(ts, nonce, sign_key, box_key, name)),
                "sign_key": _b64(sign_key),
                "box_key": _b64(box_key),
                "name": name,
            }

        answer = self._json(self._signed_json("/v1/recover", "the restore", body, clock), "the restore")
        try:
            return Restored(
                bytes.fromhex(answer["account"]),
                bytes.fromhex(answer["device"]),
                str(answer["role"]),
                base64.b64decode(answer["backup"], validate=True),
            )
        except (KeyError, TypeError, ValueError):
            raise self._unexpected("the restore") from None

    # -- devices (PROTOCOL.md §6) --------------------------------------------------------------------------

    def devices(self, token: Credential) -> list[DeviceEntry]:
        """The account's devices, revoked ones included, oldest first, typed (``list_devices``: as sent)."""
        rows = self._json(self._request("GET", "/v1/devices", **self._auth(token)), "the device list")
        try:
            return [
                DeviceEntry(
                    bytes.fromhex(row["device"]),
                    str(row["name"]),
                    int(row["created"]),
                    bool(row["revoked"]),
                    None if row.get("box_key") is None else base64.b64decode(row["box_key"], validate=True),
                    None if row.get("last_sync") is None else int(row["last_sync"]),
                )
                for row in rows
            ]
        except (AttributeError, KeyError, TypeError, ValueError):
            raise self._unexpected("the device list") from None
