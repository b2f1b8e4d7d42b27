"""Circles (PROTOCOL.md §11): named groups of up to 100 people with roles, each an end-to-end encrypted space.

A circle is a thread of its own kind: a lead's device makes each epoch (``circle_keys.rotate``), members post
signed records sealed under the epoch key, and every device checks what arrives (``circle_receiving``): the
author's signature by their published key, membership of that epoch's roster, lead-only kinds from a lead.
Invitations and answers travel sealed 1:1 in direct threads (``messaging.handlers``). Plain Python over the vault.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import msgpack

from desktop.domain import directory
from desktop.domain.circle_keys import CARDS, INVITATIONS, MAX_CIRCLE, ROLES, CircleError, new_circle_id, rotate
from desktop.domain.circle_receiving import CircleReceiving
from desktop.domain.messaging import Messaging
from desktop.vault import Vault
from desktop.vault.circle_events import StoredEvent
from sync import envelope
from sync.clock import now_ms as wall_ms
from sync.protocol import MAX_RECORD_BODY, Record, new_record_id

__all__ = [
    "MAX_CIRCLE",
    "ROLES",
    "Circle",
    "CircleError",
    "CircleEvent",
    "Circles",
    "Invitation",
    "ListedCircle",
    "Member",
]
log = logging.getLogger(__name__)
KINDS = ("circle-post", "circle-announce", "project", "circle-leave")
LEAD_KINDS = ("circle-announce",)
MAX_POST_BYTES = 48 * 1024  # a sealed post stays one record (64 KiB) with room for header, tag and padding


@dataclass(frozen=True)
class Member:
    account: str
    role: str


@dataclass(frozen=True)
class Circle:
    id: str
    title: str
    about: str
    kind: str
    listed: bool
    parent: str | None
    members: tuple[Member, ...]
    my_role: str | None
    updated: int


@dataclass(frozen=True)
class CircleEvent:
    circle: str
    id: str
    kind: str
    author: str
    device: str
    hlc: int
    content: dict
    role: str | None  # the author's role when it arrived


@dataclass(frozen=True)
class Invitation:
    id: str
    circle: str
    title: str
    role: str
    by: str
    at: int


@dataclass(frozen=True)
class ListedCircle:
    id: str
    title: str
    about: str
    kind: str
    leads: tuple[str, ...]
    count: int


class Circles(CircleReceiving):
    def __init__(self, vault: Vault, messaging: Messaging) -> None:
        self.vault, self.messaging = vault, messaging
        self.me = messaging.me
        self.clock = messaging.clock
        self._handlers: dict[str, list[Callable[[CircleEvent], None]]] = {}
        messaging.handlers["circle-invite"] = self._take_invite
        messaging.handlers["circle-answer"] = self._take_answer

    def now_ms(self) -> int:
        return wall_ms(self.clock.wall)

    # -- vault state -----------------------------------------------------------------------------------------

    def meta(self, circle: str) -> dict:
        meta = self.vault.threads.get(circle)
        if meta is None or "circle" not in meta:
            raise CircleError("unknown", "this circle is not known on this device")
        return meta

    def save(self, circle: str, meta: dict) -> None:
        meta["circle"]["updated"] = self.now_ms()
        self.vault.threads.put(circle, meta)

    def _state(self, circle: str) -> dict | None:
        meta = self.vault.threads.get(circle)
        return meta.get("circle") if meta else None

    # -- reading ---------------------------------------------------------------------------------------------

    def circles(self, kind: str | None = None) -> list[Circle]:
        out = []
        for circle_id, meta, _updated in self.vault.threads.all():
            c = meta.get("circle")
            if c is None or c.get("removed") or not c.get("epoch") or (kind is not None and c.get("kind") != kind):
                continue
            out.append(self._view(circle_id, c))
        return out

    def circle(self, circle_id: str) -> Circle | None:
        c = self._state(circle_id)
        return self._view(circle_id, c) if c is not None and c.get("epoch") else None

    def _view(self, circle_id: str, c: dict) -> Circle:
        roster = c.get("roster", {})
        return Circle(
            circle_id,
            c.get("title", ""),
            c.get("about", ""),
            c.get("kind", "circle"),
            bool(c.get("listed")),
            c.get("parent"),
            tuple(Member(a, r) for a, r in sorted(roster.items())),
            None if c.get("removed") else roster.get(self.me),
            int(c.get("updated", 0)),
        )

    def role(self, circle_id: str, account: str) -> str | None:
        c = self._state(circle_id)
        return None if c is None else c.get("roster", {}).get(account)

    def events(self, circle_id: str, kind: str, ref: str | None = None) -> list[CircleEvent]:
        return [self._event(e) for e in self.vault.circle_events.find(circle_id, kind, ref)]

    @staticmethod
    def _event(stored: StoredEvent) -> CircleEvent:
        doc = msgpack.unpackb(stored.body, raw=False)
        return CircleEvent(
            stored.circle, stored.id, stored.kind, stored.author, stored.device, stored.hlc, doc["c"], doc.get("r")
        )

    def on(self, kind: str, handler: Callable[[CircleEvent], None]) -> None:
        """Call ``handler`` with every event of ``kind`` stored from now on: one that arrived verified, and one
        posted here (``post`` stores it at once). A handler that raises loses nothing: the event is stored."""
        self._handlers.setdefault(kind, []).append(handler)

    # -- making and changing circles (a lead's device) ---------------------------------------------------------

    def create(
        self,
        title: str,
        about: str = "",
        kind: str = "circle",
        listed: bool = False,
        parent: str | None = None,
        members: dict[str, str] | None = None,
    ) -> str:
        title = title.strip()[:120]
        if not title:
            raise CircleError("invalid", "a circle needs a title")
        if kind not in ("circle", "project"):
            raise CircleError("invalid", "a circle is a circle or a project")
        roster = {**(members or {}), self.me: "lead"}
        self._check_people(roster)
        circle = new_circle_id()
        state = {"title": title, "about": about.strip()[:2000], "kind": kind, "listed": listed, "parent": parent}
        meta = {"members": [], "title": "", "epochs": {}, "circle": state}
        with self.vault.transaction():
            self.save(circle, meta)
            rotate(self, circle, roster)
        return circle

    def _check_people(self, roster: dict[str, str]) -> None:
        if len(roster) > MAX_CIRCLE:
            raise CircleError("full", f"a circle has at most {MAX_CIRCLE} members")
        if any(role not in ROLES for role in roster.values()):
            raise CircleError("bad-role", f"a role is one of {', '.join(ROLES)}")
        # someone who left the programme has no card, or a last card without devices (they published it leaving)
        present = {c.account for c in directory.cards(self.vault) if c.devices or c.keys} | {self.me}
        gone = [a for a in roster if a not in present]
        if gone:
            raise CircleError("member-left", "someone named is no longer a member of the programme")

    def _lead_state(self, circle: str) -> tuple[dict, dict]:
        meta = self.meta(circle)
        c = meta["circle"]
        if c.get("removed") or c.get("roster", {}).get(self.me) != "lead":
            raise CircleError("not-lead", "only a lead of this circle can do this")
        return meta, c

    def invite(self, circle_id: str, account: str, role: str = "member") -> str:
        """Invite ``account`` (sealed 1:1); they join at this device's next rotation after they accept."""
        meta, c = self._lead_state(circle_id)
        if role not in ROLES:
            raise CircleError("bad-role", f"a role is one of {', '.join(ROLES)}")
        if account in c["roster"]:
            raise CircleError("already", "this person is a member already")
        if len(c["roster"]) + len(c.get("invites", {})) >= MAX_CIRCLE:
            raise CircleError("full", f"a circle has at most {MAX_CIRCLE} members")
        self._check_people({account: role})
        invite_id = secrets.token_hex(16)
        content = {"c": circle_id, "n": c.get("title", ""), "r": role, "by": self.me, "i": invite_id}
        with self.vault.transaction():
            thread = self.messaging.start_direct(account)
            self.messaging._sealed_record(thread, "circle-invite", content, audience=[self.me, account])
            c.setdefault("invites", {})[invite_id] = {"account": account, "role": role}
            self.save(circle_id, meta)
        return invite_id

    def remove(self, circle_id: str, account: str) -> None:
        """A new epoch without ``account``: nothing posted after it opens for them (a removed lead: new L)."""
        _meta, c = self._lead_state(circle_id)
        roster = dict(c["roster"])
        role = roster.pop(account, None)
        if role is None:
            raise CircleError("not-member", "this person is not a member of the circle")
        with self.vault.transaction():
            rotate(self, circle_id, roster, new_lead_key=role == "lead")

    def set_role(self, circle_id: str, account: str, role: str) -> None:
        _meta, c = self._lead_state(circle_id)
        if role not in ROLES:
            raise CircleError("bad-role", f"a role is one of {', '.join(ROLES)}")
        roster = dict(c["roster"])
        if account not in roster:
            raise CircleError("not-member", "this person is not a member of the circle")
        demoted = roster[account] == "lead" and role != "lead"
        roster[account] = role
        with self.vault.transaction():
            rotate(self, circle_id, roster, new_lead_key=demoted)

    def leave(self, circle_id: str) -> None:
        """Say so to the circle (a lead's device removes this person at its next rotation); a lead who is the
        only lead hands over first."""
        meta = self.meta(circle_id)
        c = meta["circle"]
        if c.get("roster", {}).get(self.me) == "lead" and len(c.get("leads", [])) == 1 and len(c["roster"]) > 1:
            raise CircleError("last-lead", "make someone else a lead before leaving")
        with self.vault.transaction():
            self.post(circle_id, "circle-leave", {})
            c["left"] = True
            self.save(circle_id, meta)

    # -- invitations (this person's side) --------------------------------------------------------------------

    def _invitations(self) -> dict:
        raw = self.vault.get_secret(INVITATIONS)
        return msgpack.unpackb(raw, raw=False) if raw else {}

    def invitations(self) -> list[Invitation]:
        return [Invitation(i, **v) for i, v in sorted(self._invitations().items(), key=lambda kv: kv[1]["at"])]

    def accept(self, invitation_id: str) -> None:
        self._answer(invitation_id, True)

    def decline(self, invitation_id: str) -> None:
        self._answer(invitation_id, False)

    def _answer(self, invitation_id: str, ok: bool) -> None:
        pending = self._invitations()
        invitation = pending.pop(invitation_id, None)
        if invitation is None:
            raise CircleError("unknown", "this invitation is not here any more")
        content = {"i": invitation_id, "c": invitation["circle"], "ok": ok}
        with self.vault.transaction():
            thread = self.messaging.start_direct(invitation["by"])
            self.messaging._sealed_record(thread, "circle-answer", content, audience=[self.me, invitation["by"]])
            self.vault.put_secret(INVITATIONS, msgpack.packb(pending, use_bin_type=True))

    # -- listed circles ----------------------------------------------------------------------------------------

    def listed(self) -> list[ListedCircle]:
        raw = self.vault.get_secret(CARDS)
        cards = msgpack.unpackb(raw, raw=False) if raw else {}
        return [
            ListedCircle(i, **{**v, "leads": tuple(v["leads"])})
            for i, v in sorted(cards.items(), key=lambda kv: kv[1]["title"].lower())
        ]

    def _publish_card(self, circle: str) -> None:
        c = self.meta(circle)["circle"]
        card = {
            "c": bytes.fromhex(circle),
            "n": c.get("title", ""),
            "a": c.get("about", ""),
            "k": c.get("kind", "circle"),
            "leads": [bytes.fromhex(a) for a in c.get("leads", [])],
            "count": len(c.get("roster", {})),
        }
        record = Record(i=new_record_id(), k="circle-card", t=None, h=self.clock.now(), b=msgpack.packb(card))
        self.messaging._enqueue(record, signed=True)

    def ask_to_join(self, circle_id: str) -> None:
        """Ask a listed circle's first lead to invite this person (sealed 1:1; the lead sees it in ``asks``)."""
        card = next((c for c in self.listed() if c.id == circle_id), None)
        if card is None or not card.leads:
            raise CircleError("unknown", "this circle is not listed")
        lead = card.leads[0]
        content = {"i": secrets.token_hex(16), "c": circle_id, "ok": True, "ask": True}
        with self.vault.transaction():
            thread = self.messaging.start_direct(lead)
            self.messaging._sealed_record(thread, "circle-answer", content, audience=[self.me, lead])

    def asks(self, circle_id: str) -> list[str]:
        """Accounts that asked to join this circle (a lead's device)."""
        c = self._state(circle_id) or {}
        return sorted(a for a in c.get("asks", {}) if a not in c.get("roster", {}))

    # -- posting ---------------------------------------------------------------------------------------------

    def post(self, circle_id: str, kind: str, content: dict) -> str:
        """Seal and sign ``content`` for the circle's current epoch, queue it and keep it here (one vault
        transaction): the author sees it at once, offline too. Returns the event id."""
        if kind not in KINDS:
            raise CircleError("invalid", f"a circle carries {', '.join(KINDS)}")
        c = self.meta(circle_id)["circle"]
        role = None if c.get("removed") else c.get("roster", {}).get(self.me)
        if role is None:
            raise CircleError("not-member", "only members of this circle can post in it")
        if kind in LEAD_KINDS and role != "lead":
            raise CircleError("not-lead", "only a lead posts announcements")
        plain = msgpack.packb(content, use_bin_type=True)
        if len(plain) > MAX_POST_BYTES:
            raise CircleError("too-large", f"a post is limited to {MAX_POST_BYTES // 1024} KB")
        epoch = int(c["epoch"])
        key = self.vault.get_secret(f"epoch:{circle_id}:{epoch}")
        if key is None:
            raise CircleError("no-keys", "this circle's key has not arrived on this device yet")
        record_id = new_record_id()
        body = envelope.seal(key, epoch, bytes.fromhex(circle_id), record_id, kind, plain)
        if len(body) > MAX_RECORD_BODY:
            raise CircleError("too-large", "this post is too large to send")
        audience = [bytes.fromhex(a) for a in sorted(c["roster"])]
        record = Record(i=record_id, k=kind, t=audience, h=self.clock.now(), b=body)
        device = self.messaging.program.credentials.device.hex()
        with self.vault.transaction():
            self.messaging._enqueue(record, signed=True)
            self._store(circle_id, record_id.hex(), kind, self.me, device, record.h, content, role)
        return record_id.hex()
