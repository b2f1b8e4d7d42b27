"""What arrives for circles (PROTOCOL.md §11), a mixin of ``Circles``: ``circle-key`` records (a new epoch: its
wrap, grants and sealed roster), posts, announcements, project changes and leaves (each checked: the author's
signature by their published device key, membership of that epoch's roster, lead-only kinds from a lead), listed
circles' cards, and invitations and answers (sealed 1:1, through ``messaging.handlers``). What fails a check is
dropped, counted in ``messaging.refused`` and logged without content; what cannot open yet waits for the next sync.
"""

from __future__ import annotations

import logging

import msgpack

from desktop.domain import keyring
from desktop.domain.circle_keys import (
    CARDS,
    INVITATIONS,
    MAX_CIRCLE,
    ROLES,
    CircleError,
    lead_slot,
    lead_what,
    member_slot,
    member_what,
    rotate,
    secret,
    stale_devices,
)
from desktop.vault.circle_events import StoredEvent
from desktop.vault.records import StoredRecord
from sync import envelope
from sync.protocol import Record, unpack_record

log = logging.getLogger(__name__)
EVENT_KINDS = ("circle-post", "circle-announce", "project", "circle-leave")
WAIT, DONE, REFUSED = "wait", "done", "refused"


def _id(value: object) -> bytes:
    """A 16-byte id from a body, or TypeError (never ``bytes(n)`` of a number someone chose)."""
    if not isinstance(value, bytes) or len(value) != 16:
        raise TypeError("not a 16-byte id")
    return value


class CircleReceiving:
    def take_in(self) -> set[str]:
        """Open what sync brought for circles (after ``messaging.take_in``); returns the circles that changed.
        One vault transaction."""
        with self.vault.transaction():
            inbound = [
                r for r in self.vault.records.by_state("inbound") if r.kind.startswith("circle") or r.kind == "project"
            ]
            keys = sorted((r for r in inbound if r.kind == "circle-key"), key=lambda r: r.hlc)
            changed: set[str] = set()
            applied: list[str] = []
            for stored in keys:
                outcome, circle = self._take_key(stored, unpack_record(stored.wire))
                if outcome != WAIT:
                    applied.append(stored.id)
                if outcome == DONE and circle:
                    changed.add(circle)
            for stored in inbound:
                if stored.kind in EVENT_KINDS:
                    outcome, circle = self._take_event(stored, unpack_record(stored.wire))
                elif stored.kind == "circle-card":
                    outcome, circle = self._take_card(stored, unpack_record(stored.wire)), None
                else:
                    continue
                if outcome != WAIT:
                    applied.append(stored.id)
                if outcome == DONE and circle:
                    changed.add(circle)
            self.vault.records.mark_applied(applied)
            self._recover_refused()
            self._rotate_pending()
            return changed

    def _refuse(self, stored: StoredRecord, why: str) -> tuple[str, None]:
        log.warning("circle record %s (%s) dropped: %s", stored.id, stored.kind, why)
        self.messaging.refused += 1
        return REFUSED, None

    def _signed(self, stored: StoredRecord, record: Record) -> bool:
        if record.d is None or record.a is None:
            return False
        devices = self.messaging.device_peers().get(stored.author, [])
        signer = next((p for p in devices if p.device == record.d.hex()), None)
        return signer is not None and envelope.verify_record(signer.sign, record, record.a, record.d)

    # -- a new epoch ------------------------------------------------------------------------------------------

    def _take_key(self, stored: StoredRecord, record: Record) -> tuple[str, str | None]:
        try:
            doc = msgpack.unpackb(record.b, raw=False)
            circle_bytes, epoch, lv = _id(doc["t"]), int(doc["e"]), int(doc["lv"])
            members = [_id(m).hex() for m in doc["m"][: MAX_CIRCLE + 1]]
            leads = [_id(m).hex() for m in doc["l"][: MAX_CIRCLE + 1]]
            wraps, grants, lead_grants = dict(doc["w"]), dict(doc.get("g") or {}), dict(doc.get("lg") or {})
        except (ValueError, KeyError, TypeError, AttributeError, msgpack.UnpackException):
            return self._refuse(stored, "malformed")
        if len(circle_bytes) != 16 or not 0 < epoch < 2**31 or not 0 < lv < 2**19 or len(members) > MAX_CIRCLE:
            return self._refuse(stored, "out of range")
        circle = circle_bytes.hex()
        if not self._signed(stored, record):
            return self._refuse(stored, "not signed by its author's published key")
        meta = self.vault.threads.get(circle)
        c = meta.get("circle") if meta else None
        if c is not None and c.get("epoch"):
            if stored.author not in c.get("leads", []):
                return self._refuse(stored, "a roster from someone who is not a lead")
        elif stored.author not in leads:
            return self._refuse(stored, "a new circle's roster from someone it does not name a lead")
        if c is not None and epoch < int(c.get("epoch", 0)):
            return DONE, None  # an older epoch (a device catching up): its keys came with the keyring if needed
        creds = self.messaging.program.credentials
        box = self.messaging.program.box
        me = bytes.fromhex(self.me)
        try:
            lead_grant = lead_grants.get(creds.device)
            if isinstance(lead_grant, bytes) and secret(self.vault, circle, lead_slot(lv)) is None:
                lead_key = envelope.open_circle_grant(lead_grant, box, circle_bytes, lead_what(lv), me, creds.device)
                keyring.keep_epoch_key(self.vault, circle, lead_slot(lv), lead_key)
            mine = wraps.get(me)
            if self.me not in members or not isinstance(mine, list) or len(mine) != 2:
                return self._removed(circle, meta, epoch, members, leads), circle
            number, wrapped = int(mine[0]), mine[1]
            if not isinstance(wrapped, bytes) or not 0 <= number < 4095:
                return self._refuse(stored, "a malformed wrap")
            grant = grants.get(creds.device)
            if isinstance(grant, bytes) and secret(self.vault, circle, member_slot(lv, number)) is None:
                member = envelope.open_circle_grant(grant, box, circle_bytes, member_what(lv, number), me, creds.device)
                keyring.keep_epoch_key(self.vault, circle, member_slot(lv, number), member)
            member = secret(self.vault, circle, member_slot(lv, number))
            lead_key = secret(self.vault, circle, lead_slot(lv))
            if member is None and lead_key is not None:
                member = envelope.member_secret(lead_key, circle_bytes, me, number)
            if member is None:
                return WAIT, None  # its grant went to another device: the account's keyring brings it
            epoch_key = envelope.unwrap_epoch_key(member, circle_bytes, epoch, me, wrapped)
            info = msgpack.unpackb(envelope.open_sealed(epoch_key, record.i, record.k, doc["s"]), raw=False)
            roles = {str(a): str(r) for a, r in dict(info["r"]).items()}
        except (envelope.EnvelopeError, ValueError, KeyError, TypeError, AttributeError, msgpack.UnpackException):
            return self._refuse(stored, "did not open")
        if set(roles) != set(members) or any(r not in ROLES for r in roles.values()):
            return self._refuse(stored, "its sealed roles do not match its members")
        if sorted(a for a, r in roles.items() if r == "lead") != sorted(leads):
            return self._refuse(stored, "its sealed leads do not match its leads")
        keyring.keep_epoch_key(self.vault, circle, epoch, epoch_key)
        meta = meta or {"members": [], "title": "", "epochs": {}}
        c = meta.setdefault("circle", {})
        c.update(
            title=str(info.get("n", ""))[:120],
            about=str(info.get("a", ""))[:2000],
            kind="project" if info.get("k") == "project" else "circle",
            parent=info.get("p") if isinstance(info.get("p"), str) else None,
            listed=bool(info.get("li")),
            epoch=epoch,
            lv=lv,
            roster=dict(sorted(roles.items())),
            leads=sorted(leads),
            n_me=number,
            removed=False,
        )
        c.setdefault("rosters", {})[str(epoch)] = c["roster"]
        self.save(circle, meta)
        return DONE, circle

    def _removed(self, circle: str, meta: dict | None, epoch: int, members: list[str], leads: list[str]) -> None:
        """A roster without this person: they are out of the circle from ``epoch`` on (nothing later opens)."""
        if meta is None or "circle" not in meta:
            return None
        c = meta["circle"]
        c.update(epoch=epoch, removed=True, leads=sorted(leads))
        c["roster"] = {a: c.get("roster", {}).get(a, "member") for a in members}
        self.save(circle, meta)
        return None

    # -- posts, announcements, project changes, leaves -------------------------------------------------------------

    def _take_event(self, stored: StoredRecord, record: Record) -> tuple[str, str | None]:
        try:
            circle_bytes, epoch = envelope.envelope_epoch(record.b)
        except envelope.EnvelopeError:
            return self._refuse(stored, "malformed")
        circle = circle_bytes.hex()
        c = self._state(circle)
        key = self.vault.get_secret(f"epoch:{circle}:{epoch}")
        if c is None or key is None:
            return WAIT, None  # its epoch's key has not arrived (and never will for someone removed before it)
        if not self._signed(stored, record):
            return self._refuse(stored, "not signed by its author's published key")
        role = c.get("rosters", {}).get(str(epoch), {}).get(stored.author)
        if role is None:
            return self._refuse(stored, "its author is not a member of the circle in its epoch")
        if record.k == "circle-announce" and role != "lead":
            return self._refuse(stored, "an announcement from someone who is not a lead")
        try:
            content = msgpack.unpackb(envelope.open_sealed(key, record.i, record.k, record.b), raw=False)
        except (envelope.EnvelopeError, ValueError, msgpack.UnpackException):
            return self._refuse(stored, "did not open")
        if not isinstance(content, dict):
            return self._refuse(stored, "not a dict")
        self._store(circle, stored.id, record.k, stored.author, record.d.hex(), record.h, content, role)
        if record.k == "circle-leave" and stored.author != self.me:
            c = self._state(circle) or {}
            c.setdefault("leaving", []).append(stored.author)
            meta = self.meta(circle)
            meta["circle"] = c
            self.save(circle, meta)
        return DONE, circle

    def _store(
        self, circle: str, event_id: str, kind: str, author: str, device: str, hlc: int, content: dict, role
    ) -> None:  # type: ignore[no-untyped-def]
        ref = content.get("ref")
        ref = ref if isinstance(ref, str) else ""
        body = msgpack.packb({"c": content, "r": role}, use_bin_type=True)
        if not self.vault.circle_events.put(StoredEvent(event_id, circle, kind, ref, author, device, hlc, body)):
            return
        for handler in self._handlers.get(kind, []):
            try:
                handler(self._event(StoredEvent(event_id, circle, kind, ref, author, device, hlc, body)))
            except Exception:  # a view's handler must not lose the event: it is stored already
                log.exception("a circle event handler failed")

    # -- listed circles --------------------------------------------------------------------------------------------

    def _take_card(self, stored: StoredRecord, record: Record) -> str:
        try:
            doc = msgpack.unpackb(record.b, raw=False)
            circle = _id(doc["c"]).hex()
            card = {
                "title": str(doc["n"])[:120],
                "about": str(doc.get("a", ""))[:2000],
                "kind": "project" if doc.get("k") == "project" else "circle",
                "leads": tuple(_id(a).hex() for a in doc["leads"][:MAX_CIRCLE]),
                "count": int(doc.get("count", 0)),
            }
        except (ValueError, KeyError, TypeError, AttributeError, msgpack.UnpackException):
            return self._refuse(stored, "malformed")[0]
        if not self._signed(stored, record) or stored.author not in card["leads"]:
            return self._refuse(stored, "a card not signed by one of the leads it names")[0]
        known = self._state(circle)
        if known is not None and known.get("epoch") and stored.author not in known.get("leads", []):
            return self._refuse(stored, "a card from someone who is not a lead of the circle")[0]
        raw = self.vault.get_secret(CARDS)
        cards = msgpack.unpackb(raw, raw=False) if raw else {}
        cards[circle] = {**card, "leads": list(card["leads"])}
        self.vault.put_secret(CARDS, msgpack.packb(cards, use_bin_type=True))
        return DONE

    # -- invitations and answers (sealed 1:1, via messaging) ---------------------------------------------------

    def _take_invite(self, content: dict, author: str) -> None:
        try:
            invite_id, circle, role = str(content["i"]), str(content["c"]), str(content["r"])
            title = str(content.get("n", ""))[:120]
        except (KeyError, TypeError):
            return
        if content.get("by") != author or role not in ROLES or len(circle) != 32 or author == self.me:
            return
        raw = self.vault.get_secret(INVITATIONS)
        pending = msgpack.unpackb(raw, raw=False) if raw else {}
        pending[invite_id] = {"circle": circle, "title": title, "role": role, "by": author, "at": self.now_ms()}
        self.vault.put_secret(INVITATIONS, msgpack.packb(pending, use_bin_type=True))

    def _take_answer(self, content: dict, author: str) -> None:
        """An answer to an invitation this device sent: an acceptance joins the person at once (a new epoch)."""
        circle = content.get("c")
        c = self._state(circle) if isinstance(circle, str) else None
        if c is None or c.get("removed") or c.get("roster", {}).get(self.me) != "lead":
            return
        meta = self.meta(circle)
        c = meta["circle"]
        if content.get("ask") is True:
            c.setdefault("asks", {})[author] = self.now_ms()
            self.save(circle, meta)
            return
        invite = c.get("invites", {}).get(content.get("i"))
        if invite is None or invite["account"] != author:
            return
        del c["invites"][content["i"]]
        if content.get("ok") is True:
            c.setdefault("joining", {})[author] = invite["role"]
        self.save(circle, meta)

    def _recover_refused(self) -> None:
        """A roster of this device's that the server refused for good (someone named left the programme, §11.4):
        a new epoch with the roster before it, so what is posted next reaches every member again."""
        for stored in self.vault.records.by_state("rejected"):
            if stored.kind != "circle-key" or stored.author != self.me:
                continue
            try:
                doc = msgpack.unpackb(unpack_record(stored.wire).b, raw=False)
                circle, epoch = _id(doc["t"]).hex(), int(doc["e"])
            except (ValueError, KeyError, TypeError, AttributeError, msgpack.UnpackException):
                continue
            c = self._state(circle)
            if c is None or int(c.get("epoch", 0)) != epoch or epoch in c.get("refused", []):
                continue
            before = c.get("rosters", {}).get(str(epoch - 1))
            meta = self.meta(circle)
            meta["circle"].setdefault("refused", []).append(epoch)
            self.save(circle, meta)
            if before and before.get(self.me) == "lead":
                log.info("circle %s: roster of epoch %d refused by the server; back to the one before", circle, epoch)
                rotate(self, circle, dict(before), tell=False)

    def _rotate_pending(self) -> None:
        """On a lead's device: join those who accepted this device's invitations, and drop those who left (the
        first lead's device does that), in one new epoch per circle."""
        for circle, meta, _updated in self.vault.threads.all():
            c = meta.get("circle")
            if c is None or c.get("removed") or c.get("roster", {}).get(self.me) != "lead":
                continue
            joining, leaving = c.get("joining", {}), c.get("leaving", [])
            peers = self.messaging.device_peers()
            mine = sorted(p.device for p in peers.get(self.me, []))
            device = self.messaging.program.credentials.device.hex()
            first = c.get("leads", [None])[0] == self.me and mine[:1] == [device]  # one device acts
            if not joining and not leaving:
                if first and any(stale_devices(c, peers)):
                    with self.vault.transaction():  # a device revoked: a new epoch it cannot open
                        rotate(self, circle, dict(c["roster"]))
                elif first:  # devices linked since the last rotation (they read m_a from the keyring)
                    seen = c.setdefault("devices", {})
                    grown = {
                        a: sorted(set(seen.get(a, [])) | {p.device for p in peers.get(a, [])}) for a in c["roster"]
                    }
                    if grown != seen:
                        c["devices"] = grown
                        self.save(circle, meta)
                continue
            roster = dict(c["roster"])
            if leaving and c["leads"][0] == self.me:
                for account in leaving:
                    roster.pop(account, None)
            roster.update({a: r for a, r in joining.items() if len(roster) < MAX_CIRCLE or a in roster})
            lead_left = any(a in c["leads"] for a in leaving)
            c["joining"], c["leaving"] = {}, []
            self.save(circle, meta)
            if roster == c["roster"]:
                continue
            try:
                with self.vault.transaction():
                    rotate(self, circle, roster, new_lead_key=lead_left)
            except CircleError as refused:
                log.info("circle %s rotation waits: %s", circle, refused.code)
                meta = self.meta(circle)
                meta["circle"]["joining"], meta["circle"]["leaving"] = joining, leaving
                self.save(circle, meta)
