"""Meetings between two people: proposals of one to three slots, acceptances, declines, reschedules,
cancellations, recurring series with their moved or cancelled occurrences, and notes after a meeting. Also the
person's availability and busy times, which the overlap finder reads.

Every change is a sealed ``meeting`` record in the pair's direct thread, ``{op, i: meeting id, h: hlc,
a: author, …}`` (PROTOCOL.md §9.1), so everything works offline and the server never reads it. Folding is per
field, last (hlc, author) wins (``meeting_fold``), so both people changing a meeting offline converge. Records
come from other people: anything malformed is dropped and counted (``refused``); a change by anyone but the
meeting's two people is ignored and counted (``ignored``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence

import msgpack

from desktop.domain import meeting_checks as checks
from desktop.domain.availability import Availability
from desktop.domain.meeting_fold import KINDS, MAX_SLOTS, STATES, Meeting, Slot, fold, write
from desktop.domain.meeting_time import DAY_MS
from desktop.domain.mentorship import Mentorships, disclose
from desktop.domain.message_format import MissingKeys
from desktop.domain.messaging import Messaging
from desktop.vault import Vault
from sync.protocol import StatusBody

__all__ = ["KINDS", "MAX_SLOTS", "STATES", "Meeting", "MeetingError", "Meetings", "Slot"]
log = logging.getLogger(__name__)
STORE = "meetings"
MeetingError = checks.MeetingError


class Meetings:
    """This person's meetings, availability and busy times, kept sealed in the vault."""

    def __init__(
        self, vault: Vault, messaging: Messaging, mentorships: Mentorships | None, clock_now: Callable[[], int]
    ) -> None:
        self.vault, self.messaging, self.mentorships, self.now_ms = vault, messaging, mentorships, clock_now
        self.me = messaging.me
        self.refused = 0  # malformed meeting records dropped
        self.ignored = 0  # changes by someone who is not one of the meeting's two people
        self.card_changed: Callable[[], None] | None = None  # the session republishes the card (availability)
        self.cards: Callable[[], list] = list  # the session's directory cards (others' published availability)
        messaging.handlers["meeting"] = self._receive

    # -- storage --------------------------------------------------------------------------------------------

    def _load(self) -> dict:
        raw = self.vault.get_secret(STORE)
        data = msgpack.unpackb(raw, raw=False, strict_map_key=False) if raw else {}
        for name in ("m", "avail", "busy", "sent"):
            data.setdefault(name, {})
        return data

    def _save(self, data: dict) -> None:
        self.vault.put_secret(STORE, msgpack.packb(data, use_bin_type=True))

    def meetings(self) -> list[Meeting]:
        return [fold(i, entry) for i, entry in self._load()["m"].items()]

    def meeting(self, meeting_id: str) -> Meeting | None:
        entry = self._load()["m"].get(meeting_id)
        return fold(meeting_id, entry) if entry else None

    # -- operations -------------------------------------------------------------------------------------------

    def _send(self, other: str, content: dict) -> None:
        content = {**content, "h": self.messaging.clock.now(), "a": self.me}
        with self.vault.transaction():
            thread = self.messaging.start_direct(other)
            self.messaging._sealed_record(thread, "meeting", content)
            self._take(content, self.me)

    def _mine(self, meeting_id: str) -> Meeting:
        found = self.meeting(meeting_id)
        if found is None or self.me not in (found.organiser, found.other):
            raise MeetingError("not-yours")
        return found

    def propose(
        self,
        other: str,
        kind: str,
        title: str,
        slots: Sequence[tuple[int, int]],
        *,
        link: str = "",
        mentorship: str | None = None,
        rrule: str = "",
        tz: str | None = None,
    ) -> str:
        """Propose a meeting of one to three slots to ``other``; works offline. ``tz``: the zone a recurrence
        keeps its wall time in (mine, from my availability or card, when None). Returns the meeting id."""
        zone = tz or self._my_zone()
        checks.proposal(self.me, other, kind, title, link, rrule, zone)
        plan = checks.new_slots(slots, self.now_ms())
        meeting_id = os.urandom(16).hex()
        content = {"op": "propose", "i": meeting_id, "o": other, "k": kind, "t": title.strip(), "l": link.strip()}
        content.update({"z": zone, "s": plan, "rr": rrule.strip().upper(), "m": mentorship})
        self._send(other, content)
        return meeting_id

    def accept(self, meeting_id: str, slot_index: int) -> None:
        found = self._mine(meeting_id)
        if found.waiting_on() != self.me:
            raise MeetingError("state")
        if not 0 <= slot_index < len(found.slots):
            raise MeetingError("no-slots")
        self._send(found.partner(self.me), {"op": "accept", "i": meeting_id, "r": found.round, "c": slot_index})

    def decline(self, meeting_id: str, reason: str) -> None:
        found = self._mine(meeting_id)
        if found.waiting_on() != self.me:
            raise MeetingError("state")
        content = {"op": "decline", "i": meeting_id, "r": found.round, "why": reason.strip()[: checks.MAX_REASON]}
        self._send(found.partner(self.me), content)

    def reschedule(self, meeting_id: str, slots: Sequence[tuple[int, int]]) -> None:
        """Propose other times: a new round of one to three slots, which the other person answers."""
        found = self._mine(meeting_id)
        plan = checks.new_slots(slots, self.now_ms())
        self._send(found.partner(self.me), {"op": "reschedule", "i": meeting_id, "r": found.round + 1, "s": plan})

    def cancel(self, meeting_id: str, reason: str = "") -> None:
        found = self._mine(meeting_id)
        if found.state == "cancelled":
            raise MeetingError("state")
        self._send(found.partner(self.me), {"op": "cancel", "i": meeting_id, "why": reason.strip()[:1000]})

    def edit(self, meeting_id: str, *, title: str | None = None, link: str | None = None) -> None:
        """Change the title or the link (either person; the later change wins)."""
        found = self._mine(meeting_id)
        content: dict = {"op": "edit", "i": meeting_id}
        if title is not None:
            content["t"] = checks.title(title)
        if link is not None:
            content["l"] = checks.link(link)
        self._send(found.partner(self.me), content)

    def move_occurrence(self, meeting_id: str, occurrence: int, slot: tuple[int, int] | None) -> None:
        """Move one occurrence (its original start) to ``slot``, or cancel just that one (None)."""
        found = self._mine(meeting_id)
        if found.state != "confirmed" or found.chosen is None:
            raise MeetingError("state")
        if occurrence != found.chosen.start and not found._is_occurrence(occurrence):
            raise MeetingError("no-occurrence")
        moved = checks.new_slots([slot], self.now_ms())[0] if slot is not None else None
        self._send(found.partner(self.me), {"op": "occurrence", "i": meeting_id, "o": occurrence, "s": moved})

    def record_notes(self, meeting_id: str, occurrence: int, progress: str, blockers: str, next_steps: str) -> None:
        """Keep notes on one occurrence; for a mentorship's meeting they also become a check-in in its plan,
        and the programme is told "meeting-held" (metadata only, PROTOCOL.md §3.4)."""
        found = self._mine(meeting_id)
        now = self.now_ms()
        first = occurrence not in found.notes
        notes = {"progress": progress[:2000], "blockers": blockers[:2000], "next": next_steps[:2000], "at": now}
        with self.vault.transaction():
            self._send(found.partner(self.me), {"op": "notes", "i": meeting_id, "o": occurrence, "n": notes})
            plan = self.mentorships.mentorship(found.mentorship) if self.mentorships and found.mentorship else None
            if plan is not None and self.me in (plan.student, plan.mentor):
                assert self.mentorships is not None
                self.mentorships.check_in(plan.id, progress, blockers, next_steps, now)
                if first:
                    # dated by the occurrence: both people's notes on one meeting tell the programme of one meeting
                    status = StatusBody(e="meeting-held", r=plan.id, at=min(occurrence, now))
                    disclose(self.vault, self.messaging.program, self.messaging.clock, status)

    # -- reading ----------------------------------------------------------------------------------------------

    def upcoming(self, now_ms: int, days: int = 14) -> list[tuple[Meeting, Slot]]:
        """Confirmed occurrences and proposed slots not yet over within ``days``, soonest first."""
        end = now_ms + days * DAY_MS
        out: list[tuple[Meeting, Slot]] = []
        for meeting in self.meetings():
            if meeting.state == "confirmed":
                out.extend((meeting, slot) for slot in meeting.occurrences(now_ms, end))
            elif meeting.state == "proposed":
                ahead = [s for s in meeting.slots if s.end > now_ms and s.start < end]
                if ahead:
                    out.append((meeting, min(ahead)))
        return sorted(out, key=lambda pair: (pair[1].start, pair[0].id))

    def waiting_for_me(self) -> list[Meeting]:
        """Proposals I must answer; one whose every slot is over can no longer be answered (the demo's first
        call, held on the proposed time, with notes, is one)."""
        now = self.now_ms()
        return [m for m in self.meetings() if m.waiting_on() == self.me and any(s.end > now for s in m.slots)]

    def held_count(self, now_ms: int) -> int:
        return sum(m.held(now_ms) for m in self.meetings())

    def busy(self) -> list[tuple[int, int]]:
        """Busy times from every source (imported calendars…) and my confirmed meetings' next weeks."""
        spans = [(a, b) for source in self._load()["busy"].values() for a, b in source]
        now = self.now_ms()
        for meeting in self.meetings():
            spans.extend((s.start, s.end) for s in meeting.occurrences(now - 7 * DAY_MS, now + 60 * DAY_MS))
        return sorted(spans)

    def set_busy(self, source: str, intervals: Sequence[tuple[int, int]]) -> None:
        """Replace the busy times of ``source`` (e.g. "ics:work.ics") at once; an empty list forgets it."""
        spans = [[int(a), int(b)] for a, b in intervals if int(b) > int(a)][:20_000]
        with self.vault.transaction():
            data = self._load()
            if spans:
                data["busy"][source] = spans
            else:
                data["busy"].pop(source, None)
            self._save(data)

    def busy_sources(self) -> list[str]:
        return sorted(self._load()["busy"])

    # -- availability -----------------------------------------------------------------------------------------

    def set_availability(self, av: Availability) -> None:
        """Save my availability; publish it on my card (share "card") or send it sealed to each mentorship
        partner (share "mentorships", and then never on the card)."""
        mine = Availability(self.me, av.tz, av.weekly, av.online, av.share, self.messaging.clock.now())
        Availability.from_doc(mine.to_doc(), self.me, mine.share)  # the same checks others will make
        with self.vault.transaction():
            data = self._load()
            data["mine"] = {**mine.to_doc(), "share": mine.share}
            self._save(data)
            self.share_availability()
        if self.card_changed is not None:
            self.card_changed()

    def my_availability(self) -> Availability | None:
        doc = self._load().get("mine")
        return Availability.from_doc(doc, self.me, doc.get("share", "card")) if doc else None

    def card_fields(self) -> dict:
        """What my card carries of my availability: ``avail`` and ``windows`` (its online hours) when shared with
        everyone; with share "mentorships", nothing (and the card's ``windows`` is dropped too)."""
        mine = self.my_availability()
        if mine is None:
            return {}
        if mine.share != "card":
            return {"avail": None, "windows": None}
        fields: dict = {"avail": {k: v for k, v in mine.to_doc().items() if k != "h"}}
        if mine.online:  # else the card keeps the windows the profile gave
            fields["windows"] = mine.online_hours()
        return fields

    def share_availability(self) -> int:
        """Send my availability to every mentorship partner who has not got this version (share "mentorships");
        runs after a change and before each sync (a new mentorship gets it). Returns how many were sent."""
        mine = self.my_availability()
        if mine is None or mine.share != "mentorships" or self.mentorships is None:
            return 0
        sent = self._load()["sent"]
        partners = {p.mentor if p.student == self.me else p.student for p in self.mentorships.mentorships()}
        due = sorted(p for p in partners if sent.get(p) != mine.hlc)
        sent_now = 0
        for partner in due:
            try:
                with self.vault.transaction():
                    self._send(partner, {"op": "avail", "i": "", "av": mine.to_doc()})
                    data = self._load()
                    data["sent"][partner] = mine.hlc
                    self._save(data)
            except MissingKeys:  # their keys have not arrived yet: the next sync tries again
                log.info("availability for %s waits for their keys", partner[:8])
                continue
            sent_now += 1
        return sent_now

    def availability(self, account: str) -> Availability | None:
        """Someone's availability: mine, or the newer of what their card publishes and what they sent me."""
        if account == self.me:
            return self.my_availability()
        shared = self._load()["avail"].get(account)
        found = Availability.from_doc(shared, account, "mentorships") if shared else None
        card = next((c for c in self.cards() if c.account == account), None)
        published = getattr(card, "availability", None)
        if published is not None and (found is None or published.hlc >= found.hlc):
            return published
        return found

    def _my_zone(self) -> str:
        mine = self.my_availability()
        card = next((c for c in self.cards() if c.account == self.me), None)
        return mine.tz if mine else (card.tz if card and card.tz else "UTC")

    # -- taking in ------------------------------------------------------------------------------------------

    def _receive(self, content: dict, author: str) -> None:
        """A meeting record from the sync: checked, then folded; never raises on what another person wrote."""
        try:
            self._take(content, author)
        except (checks.MeetingError, ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError):
            log.warning("a meeting record from %s was malformed; dropped", author[:8])
            self.refused += 1

    def _take(self, content: dict, author: str) -> None:
        with self.vault.transaction():  # the sync's taking in and a person's change: one read-modify-write at once
            self._fold_in(content, author)

    def _fold_in(self, content: dict, author: str) -> None:
        op, stamp = checks.header(content, author)
        data = self._load()
        if op == "avail":
            if author != self.me:
                doc = content["av"]
                Availability.from_doc(doc, author, "mentorships")
                kept = data["avail"].get(author)
                if kept is None or doc["h"] > kept["h"]:
                    data["avail"][author] = doc
                    self._save(data)
            return
        meeting_id = checks.hex_id(content["i"])
        entry = data["m"].get(meeting_id)
        if op == "propose":
            fresh = checks.take_proposal(content, author, self.me, stamp)
            if entry is None:
                if fresh["ms"] is not None and not self._pair_of(fresh["ms"], fresh["org"], fresh["oth"]):
                    raise MeetingError("mentorship")
                data["m"][meeting_id] = fresh
                self._save(data)
            return
        if entry is None or author not in (entry["org"], entry["oth"]):
            self.ignored += 1
            return
        changes = list(checks.changes(op, content, author))
        if len(entry["reg"]) + len(changes) > checks.MAX_REGISTERS:
            raise MeetingError("too-many-changes")  # a flood of occurrence changes: the meeting stays as it was
        for name, value in changes:
            write(entry["reg"], name, value, stamp)
        self._save(data)

    def _pair_of(self, mentorship: str, first: str, second: str) -> bool:
        """Whether ``mentorship`` is one of these two people's (True when this device does not know it yet)."""
        plan = self.mentorships.mentorship(mentorship) if self.mentorships is not None else None
        return plan is None or {plan.student, plan.mentor} == {first, second}
