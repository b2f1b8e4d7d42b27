"""The keys of a circle (PROTOCOL.md §11.2), as the lead's device makes them and a member's device finds them.

A circle's vault state lives in the threads table under the circle id, in ``meta["circle"]`` (``members`` and
``epochs`` of the thread itself stay empty, so Messages never lists it). Secrets, all kept with
``keyring.keep_epoch_key`` so the account's other devices (one linked later too) receive them in the keyring:
``epoch:{circle}:{e}`` the epoch keys ``E_e`` (e from 1), and at slots ≥ 2**31 the lead key ``L`` of generation
``lv`` and this account's member secret ``m_a`` (``n_a``) of that generation.

A rotation (``rotate``) is one or a few signed ``circle-key`` records: a 48-byte wrap of the new epoch key for
each member, HPKE grants (1,168 B) only where a device has not yet received the member secret or the lead key of
the current generation, and the circle's title, about, kind, roles, parent and listing sealed under ``E_e``.
"""

from __future__ import annotations

import secrets
import struct

import msgpack

from desktop.domain import keyring
from sync import envelope
from sync.protocol import Record, new_record_id

SLOT_BASE = 1 << 31
GRANTS_PER_RECORD = 40  # 40 × 1,168 B stays well under a record's 64 KiB with 100 wraps and the roles beside it
ROLES = ("lead", "mentor", "peer", "member")
MAX_CIRCLE = 100
INVITATIONS = "circle-invitations"  # vault secrets: invitations to this person, listed circles' cards
CARDS = "circle-cards"


class CircleError(ValueError):
    """A circle action refused, with a ``code`` the UI words: not-lead, full, member-left, not-member, too-large,
    no-keys, bad-role, unknown."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def lead_slot(lv: int) -> int:
    return SLOT_BASE + (lv << 12) + 0xFFF


def member_slot(lv: int, number: int) -> int:
    return SLOT_BASE + (lv << 12) + (number & 0xFFF)


def lead_what(lv: int) -> bytes:
    return b"lead" + struct.pack(">I", lv)


def member_what(lv: int, number: int) -> bytes:
    return b"member" + struct.pack(">II", lv, number)


def secret(vault, circle: str, slot: int) -> bytes | None:  # type: ignore[no-untyped-def]
    return vault.get_secret(f"epoch:{circle}:{slot}")


def rotate(circles, circle: str, roster: dict[str, str], new_lead_key: bool = False, tell: bool = True) -> int:  # type: ignore[no-untyped-def]
    """A new epoch for ``roster`` (account hex → role), made on a lead's device: returns the epoch. Queues the
    signed ``circle-key`` record(s) and keeps the keys; the caller holds the vault transaction."""
    vault, messaging = circles.vault, circles.messaging
    meta = circles.meta(circle)
    c = meta["circle"]
    if not roster or len(roster) > MAX_CIRCLE:
        raise CircleError("full", f"a circle has 1 to {MAX_CIRCLE} members")
    if any(role not in ROLES for role in roster.values()) or "lead" not in roster.values():
        raise CircleError("bad-role", "every member has a known role, and a circle has a lead")
    peers = messaging.device_peers()
    missing = sorted(a for a in roster if not peers.get(a))
    if missing:
        raise CircleError("no-keys", "some people have not published their keys yet")
    circle_bytes = bytes.fromhex(circle)
    gone_members, gone_leads = stale_devices(c, peers)
    c["devices"] = {a: sorted(p.device for p in peers[a]) for a in roster}
    new_lead_key = new_lead_key or bool(gone_leads)  # a lead's device revoked: L is new, so every m_a
    for account in gone_members:  # a member's device revoked: their number moves on, so their m_a is new
        c.setdefault("n", {})[account] = int(c["n"].get(account, 0)) + 1
    lv = int(c.get("lv", 0))
    lead_key = secret(vault, circle, lead_slot(lv)) if lv else None
    if lead_key is None or new_lead_key:
        lv += 1
        lead_key = envelope.new_circle_key()
        keyring.keep_epoch_key(vault, circle, lead_slot(lv), lead_key)
        c["granted"], c["lgranted"] = {}, []
    numbers: dict[str, int] = c.setdefault("n", {})
    epoch = int(c.get("epoch", 0)) + 1
    epoch_key = envelope.new_epoch_key()
    me, my_device = messaging.me, messaging.program.credentials.device.hex()
    wraps: dict[bytes, list] = {}
    grants: list[tuple[str, bytes, bytes]] = []  # ("g" or "lg", device, grant)
    granted: dict[str, dict] = c.setdefault("granted", {})
    for account, _role in sorted(roster.items()):
        number = int(numbers.get(account, 0))
        account_bytes = bytes.fromhex(account)
        member = envelope.member_secret(lead_key, circle_bytes, account_bytes, number)
        wraps[account_bytes] = [number, envelope.wrap_epoch_key(member, circle_bytes, epoch, account_bytes, epoch_key)]
        at = f"{lv}:{number}"
        done = granted.get(account) if granted.get(account, {}).get("at") == at else {"at": at, "d": []}
        for peer in peers[account]:
            if peer.device in done["d"] or peer.device == my_device:
                continue
            what = member_what(lv, number)
            grant = envelope.grant_circle_secret(
                member, peer.box, circle_bytes, what, account_bytes, bytes.fromhex(peer.device)
            )
            grants.append(("g", bytes.fromhex(peer.device), grant))
            done["d"].append(peer.device)
        granted[account] = done
    lead_granted = c.setdefault("lgranted", [])
    for account in sorted(a for a, r in roster.items() if r == "lead"):
        for peer in peers[account]:
            if peer.device in lead_granted or peer.device == my_device:
                continue
            grant = envelope.grant_circle_secret(
                lead_key, peer.box, circle_bytes, lead_what(lv), bytes.fromhex(account), bytes.fromhex(peer.device)
            )
            grants.append(("lg", bytes.fromhex(peer.device), grant))
            lead_granted.append(peer.device)
    info = {
        "n": c.get("title", ""),
        "a": c.get("about", ""),
        "k": c.get("kind", "circle"),
        "r": dict(sorted(roster.items())),
        "p": c.get("parent"),
        "li": bool(c.get("listed")),
    }
    members = [bytes.fromhex(a) for a in sorted(roster)]
    # those leaving the circle with this epoch receive it too (no wrap for them): so they know they are out
    leaving = set(c.get("roster", {})) if tell else set()
    audience = [bytes.fromhex(a) for a in sorted(set(roster) | leaving)]
    leads = [bytes.fromhex(a) for a in sorted(a for a, r in roster.items() if r == "lead")]
    chunks = [grants[i : i + GRANTS_PER_RECORD] for i in range(0, len(grants), GRANTS_PER_RECORD)] or [[]]
    for chunk in chunks:
        record_id = new_record_id()
        sealed = envelope.seal(
            epoch_key, epoch, circle_bytes, record_id, "circle-key", msgpack.packb(info, use_bin_type=True)
        )
        body = {
            "t": circle_bytes,
            "e": epoch,
            "lv": lv,
            "m": members,
            "l": leads,
            "w": wraps,
            "g": {d: g for kind, d, g in chunk if kind == "g"},
            "lg": {d: g for kind, d, g in chunk if kind == "lg"},
            "s": sealed,
        }
        record = Record(i=record_id, k="circle-key", t=audience, h=messaging.clock.now(), b=msgpack.packb(body))
        messaging._enqueue(record, signed=True)
    keyring.keep_epoch_key(vault, circle, epoch, epoch_key)
    c.update(
        lv=lv,
        epoch=epoch,
        roster=dict(sorted(roster.items())),
        leads=sorted(a for a, r in roster.items() if r == "lead"),
    )
    c.setdefault("rosters", {})[str(epoch)] = c["roster"]
    _trim_rosters(c)
    c["n_me"] = int(numbers.get(me, 0))
    c["removed"] = me not in roster
    circles.save(circle, meta)
    if c.get("listed"):
        circles._publish_card(circle)  # the card's count and leads follow the roster
    return epoch


def stale_devices(c: dict, peers: dict) -> tuple[list[str], bool]:
    """Members one of whose devices at the last rotation is no longer on their card (revoked: it may hold their
    m_a from a grant or from the keyring), and whether a lead's is (it may hold L)."""
    listed = {a: {p.device for p in devices} for a, devices in peers.items()}
    before = c.get("devices", {})
    members = [a for a in c.get("roster", {}) if set(before.get(a, [])) - listed.get(a, set())]
    return members, any(a in c.get("leads", []) for a in members)


def _trim_rosters(c: dict, keep: int = 50) -> None:
    rosters = c.get("rosters", {})
    for old in sorted(rosters, key=int)[:-keep]:
        del rosters[old]


def new_circle_id() -> str:
    return secrets.token_hex(16)
