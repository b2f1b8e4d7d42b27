"""Linking a device with a short code (PROTOCOL.md §10.2): device 1 opens a link slot on the server and shows
``slot (6) + secret (10)`` as a code (and as a QR text); device 2 sends its keys sealed under a key derived from
the code (Argon2id), device 1 opens them, approves, and seals the account chain to device 2 (``welcome``); device
2 picks it up. The code's secret never crosses the wire. Re-exported by ``devices.py`` (the names the UI uses).
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgpack

from desktop.domain import keyring
from desktop.domain.directory import DeviceEntry
from desktop.domain.sync_adapter import CATCHING_UP, Program, queue_record, store_program
from desktop.i18n import _
from desktop.vault import Vault
from sync import envelope
from sync.client.errors import LinkExpired, LinkUnknown, LinkUsed, Offline, SyncError
from sync.client.transport import Transport, check_server_url
from sync.clock import SYSTEM, Clock

if TYPE_CHECKING:
    from desktop.domain.account_context import AccountContext

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ = {c: c for c in CROCKFORD} | {"O": "0", "I": "1", "L": "1"}
SLOT_CHARS, SECRET_CHARS = 6, 10
QR_PREFIX = "osler-link:"
NO_DEVICE = b"\0" * 16  # a welcome is sealed before device 2 has an id: the slot inside binds it
_LINKING = "program-linking"  # device 2's keys until it is linked
PICKUP_HOLD_S = 20  # the server holds a welcome pickup this long while device 1 has not approved yet
PICKUP_PAUSE_S = 1.0


@dataclass(frozen=True)
class LinkOffer:
    code: str  # "K7Q4-M2XP-9A3F-RTWZ"
    qr_text: str
    expires_ms: int


@dataclass(frozen=True)
class Linked:
    name: str
    fingerprint: str


class LinkProblem(Exception):
    """Linking did not work; ``reason``: unknown, expired, used, wrong-code, offline, refused."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)

    def __str__(self) -> str:
        return {
            "unknown": _("This server has no such link code. Check the server address and the code."),
            "expired": _("This link code has expired. Make a new one on your other device."),
            "used": _("This link code was already used. Make a new one on your other device."),
            "wrong-code": _("That is not a link code. It is 16 letters and digits in groups of four."),
            "offline": _("The server cannot be reached. Check the connection and try again."),
        }.get(self.reason, _("The server refused to link this device."))


# -- codes ------------------------------------------------------------------------------------------------------


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def parse_link_text(text: str) -> tuple[str | None, str]:
    """(server address or None, the 16-character code) from a typed code or the QR text."""
    text, url = text.strip(), None
    if text.lower().startswith(QR_PREFIX) and "#" in text:
        url, text = text[len(QR_PREFIX) :].rsplit("#", 1)
        url = url.strip() or None
    cleaned = "".join(ch for ch in text.upper() if ch not in " -\t\r\n")
    if len(cleaned) != SLOT_CHARS + SECRET_CHARS or any(ch not in _READ for ch in cleaned):
        raise LinkProblem("wrong-code")
    return url, "".join(_READ[ch] for ch in cleaned)


def _link_key(code: str) -> bytes:
    return envelope.link_key(code[SLOT_CHARS:].encode("ascii"), code[:SLOT_CHARS])


# -- the wire (sync/client/accounts_api.py, a mixin of Transport) ---------------------------------------------------


_LINK_REASONS = ((Offline, "offline"), (LinkUnknown, "unknown"), (LinkExpired, "expired"), (LinkUsed, "used"))


def _link_reason(exc: SyncError) -> str:
    """The ``LinkProblem`` reason for what the transport raised (its typed errors; anything else is refused)."""
    return next((reason for kind, reason in _LINK_REASONS if isinstance(exc, kind)), "refused")


# -- device 1: offer, approve -------------------------------------------------------------------------------------


def this_entry(program: Program) -> DeviceEntry:
    creds = program.credentials
    return DeviceEntry(creds.device.hex(), creds.key.public_bytes(), program.box.public_bytes())  # type: ignore[union-attr]


def offer_link(session: AccountContext) -> LinkOffer:
    try:
        answer = session.engine.authorized(session.transport.create_link)
    except SyncError as exc:
        raise LinkProblem(_link_reason(exc)) from None
    _url, slot = parse_link_text(answer.slot.upper() + "0" * SECRET_CHARS)
    code = slot[:SLOT_CHARS] + "".join(secrets.choice(CROCKFORD) for _ in range(SECRET_CHARS))
    text = format_code(code)
    return LinkOffer(text, f"{QR_PREFIX}{session.transport.base_url}#{text}", answer.expires * 1000)


def await_link(session: AccountContext, offer: LinkOffer, timeout_s: float = 50) -> Linked | None:
    """One held poll of the link; when device 2 asked, open its keys with the code, approve, seal the account
    chain to it and list it in the card. None while nobody asked yet."""
    _url, code = parse_link_text(offer.code)
    slot = code[:SLOT_CHARS]
    transport = session.transport
    try:
        answer = session.engine.authorized(lambda token: transport.poll_link(slot, int(min(timeout_s, 50)), token))
    except SyncError as exc:
        raise LinkProblem(_link_reason(exc)) from None
    if answer.state == "expired":
        raise LinkProblem("expired")
    if answer.state not in ("requested", "approved") or not answer.request:
        return None
    key = _link_key(code)
    try:
        request = msgpack.unpackb(envelope.open_link(key, slot, "request", answer.request), raw=False)
        name, sign, box = str(request["name"])[:80], bytes(request["sign"]), bytes(request["box"])
    except (envelope.EnvelopeError, ValueError, KeyError, TypeError, msgpack.ExtraData):
        raise LinkProblem("refused") from None  # someone without the code asked: never approved
    vault, program = session.vault, session.program
    account = program.credentials.account
    welcome = envelope.seal_account_secrets(keyring.packed_chain(vault, {"slot": slot}), box, account, NO_DEVICE, 0)
    try:
        approved = session.engine.authorized(
            lambda token: transport.approve_link(slot, sign, box, name, welcome, token)
        )
    except SyncError as exc:
        raise LinkProblem(_link_reason(exc)) from None
    device = approved.hex()
    entry = DeviceEntry(device, sign, box, name)
    _remember_device(vault, entry)
    republish_card(session, add=[entry])
    return Linked(name, entry.fingerprint)


def _remember_device(vault: Vault, entry: DeviceEntry) -> None:
    """Devices linked here before this person published a card: listed in the first card they publish."""
    raw = vault.get_secret("account-devices")
    known = json.loads(raw) if raw else {}
    known[entry.device] = [base64.b64encode(entry.sign).decode(), base64.b64encode(entry.box).decode(), entry.name]
    vault.put_secret("account-devices", json.dumps(known).encode())


def remembered_devices(vault: Vault) -> list[DeviceEntry]:
    raw = vault.get_secret("account-devices")
    known = json.loads(raw) if raw else {}
    return [DeviceEntry(d, base64.b64decode(s), base64.b64decode(b), n) for d, (s, b, n) in known.items()]


def republish_card(session: AccountContext, add: list[DeviceEntry] = (), drop: list[str] = ()) -> bool:  # type: ignore[assignment]
    """Publish this person's card again with the account fields renewed (new device, revoke, generation)."""
    body = keyring.republish_body(
        session.vault,
        session.program.credentials.account,
        this_entry(session.program),
        drop=drop,
        add=[*remembered_devices(session.vault), *add],
    )
    if body is None:
        return False
    queue_record(session.vault, session.program, session.clock, "card", body, None, signed=True)
    session.scheduler.local_change()
    return True


# -- device 2: link ----------------------------------------------------------------------------------------------


def pending_keys(vault: Vault, name: str, tag: str) -> tuple[envelope.DeviceKey, envelope.BoxKey]:
    """The keys of the device being linked or restored: made once, kept in the vault before the first request,
    so a cut or a restart resumes with the same keys (the server answers the same device)."""
    raw = vault.get_secret(name)
    doc = json.loads(raw) if raw else None
    if doc is None or doc.get("tag") != tag:
        key, box = envelope.DeviceKey.generate(), envelope.BoxKey.generate()
        doc = {"tag": tag, "key": key.private_bytes().hex(), "box": box.private_bytes().hex()}
        vault.put_secret(name, json.dumps(doc).encode())
    return (
        envelope.DeviceKey.from_private_bytes(bytes.fromhex(doc["key"])),
        envelope.BoxKey.from_private_bytes(bytes.fromhex(doc["box"])),
    )


def linking_fingerprint(vault: Vault, server_url: str, code_text: str) -> str:
    """The fingerprint of the keys ``link_device`` sends for this code (made and kept now if not yet): what the
    waiting page shows, and what the other device shows once it approved (engineer U's hook)."""
    url, code = parse_link_text(code_text)
    key, box = pending_keys(vault, _LINKING, f"{check_server_url(url or server_url)}#{code}")
    return envelope.fingerprint(key.public_bytes(), box.public_bytes())


def link_device(
    vault: Vault,
    server_url: str,
    code_text: str,
    device_name: str,
    *,
    on_waiting: Callable[[], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Clock = SYSTEM,
    transport: Transport | None = None,
) -> Program:
    """Join this person's account from another device with the code it shows (LinkProblem when not)."""
    url, code = parse_link_text(code_text)
    transport = transport or Transport(url or server_url)
    slot = code[:SLOT_CHARS]
    key, box = pending_keys(vault, _LINKING, f"{transport.base_url}#{code}")
    link_key = _link_key(code)
    plain = msgpack.packb({"name": device_name, "sign": key.public_bytes(), "box": box.public_bytes()})
    try:
        transport.post_link_request(slot, envelope.seal_link(link_key, slot, "request", plain))
        while True:
            answer = transport.pickup_welcome(slot, key, t=PICKUP_HOLD_S, clock=clock)
            if answer is not None:
                break
            if on_waiting is not None:
                on_waiting()
            sleep(PICKUP_PAUSE_S)
    except SyncError as exc:
        raise LinkProblem(_link_reason(exc)) from None
    account, device = answer.account, answer.device
    try:
        payload = envelope.open_account_secrets(answer.welcome, box, account, NO_DEVICE, 0)
        links, publics, doc = keyring.unpack_chain(payload)
    except (envelope.EnvelopeError, ValueError, KeyError, TypeError, msgpack.ExtraData):
        raise LinkProblem("refused") from None
    if doc.get("slot") != slot:
        raise LinkProblem("refused")
    with vault.transaction():
        keyring.store_chain(vault, links, publics)
        program = store_program(vault, transport.base_url, account, device, answer.role, key, box)
        vault.put_secret(CATCHING_UP, b"1")  # the history's grants for other devices: from the keyring
        vault.delete_secret(_LINKING)
    reseal_slot(vault, publics)
    return program


def reseal_slot(vault: Vault, publics: tuple[bytes, bytes] | None) -> None:
    reseal = getattr(vault, "reseal_recovery", None)  # engineer R: this vault opens with the account's key too
    if publics is not None and callable(reseal):
        reseal(publics[1], publics[0])
