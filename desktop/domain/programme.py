"""The programme's view of mentoring, from metadata only (PROTOCOL.md §3.4 and §6.1).

Members' clients disclose small ``status`` records about their own requests and mentorships (asked, answered,
active today, closed: never goals, messages, reasons or feedback); the server routes them to the programme's
admins. With each account's last sync (``GET /v1/admin/presence``) an admin's client works out, offline, the cohort
figures: who is matched, who is not, which requests wait, which mentorships went quiet, and for each whether the
person has not synced for a while (the request has not reached them: try another way) or synced and did not
answer. An admin can also assign a whole cohort at once and, after review, publish the pairs as signed
``introduction`` records; the people introduced then ask or offer as usual.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from desktop.domain import directory
from desktop.domain.directory import Card
from desktop.domain.matching import (
    REASON_TEXTS,
    Reason,
    Seeker,
    assign_cohort,
    card_windows,
    is_mentor,
    suggest,
)
from desktop.domain.mentorship import DAY_MS, REQUEST_DAYS
from desktop.domain.sync_adapter import Program, queue_record
from desktop.vault import Vault
from sync.clock import now_ms as wall_ms
from sync.protocol import (
    STATUS_KIND,
    HybridClock,
    ProtocolError,
    StatusBody,
    parse_status,
    request_id,
    unpack_record,
)

WAITING_DAYS = 7
QUIET_DAYS = 30  # a mentorship with no activity for this long needs a look
LAPSED_DAYS = 14  # "has not synced for a while"
# Taken off a pair's score in cohort assignment when the mentor is not the kind the student asked for (a peer
# mentor for most, a senior one for a student who asked for a peer): more than any score can reach, so the
# assignment uses them only where the other kind has no place left, and still places everyone it can.
SECOND_CHOICE = 100.0
INTRODUCTION = "introduction"
MEETING_HELD = "meeting-held"  # a status a member's client discloses when meeting notes are recorded (§3.4)
_PRESENCE = "admin-presence"


# -- what admins see -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Presence:
    account: str
    role: str
    joined: int  # unix s
    last_sync: int | None  # unix s


@dataclass
class Pairing:
    """A request and the mentorship it may have become, as the admin knows it from status records."""

    id: str
    student: str
    mentor: str
    by: str
    asked: int  # ms
    answer: str = ""  # accepted, declined, or "" while pending
    answered: int = 0
    closed: int = 0
    last_activity: int = 0
    held: set[int] = field(default_factory=set)  # meetings held: their times as either side reported them

    @property
    def waiting_on(self) -> str:
        return self.mentor if self.by == "student" else self.student

    def state(self, now_ms: int) -> str:
        if self.closed:
            return "closed"
        if self.answer:
            return self.answer
        return "expired" if now_ms - self.asked > REQUEST_DAYS * DAY_MS else "pending"


@dataclass(frozen=True)
class Concern:
    """Something an admin may want to act on: ``who`` has not moved on ``pairing`` since ``since`` (ms).
    ``reason``: ``not-synced`` (their device has not synced since: the news has not reached them),
    ``unresponsive`` (it has, and nothing happened), or ``unknown`` (no presence fetched yet)."""

    pairing: Pairing
    who: str
    reason: str
    since: int
    last_sync: int | None  # unix s


@dataclass(frozen=True)
class CohortFigures:
    students: list[str]
    matched: list[str]
    unmatched: list[str]
    waiting: list[Concern]  # requests unanswered for over 7 days (and not yet expired)
    quiet: list[Concern]  # accepted mentorships with no activity for 30 days
    expired: int
    load: dict[str, int]  # mentor → open mentorships
    presence_at: int | None  # unix s of the presence figures, or None
    introduced: int = 0  # introductions published and not yet followed by a request
    followed: int = 0  # introductions that a request followed
    meetings_held: int = 0  # meetings held in mentorships (``meeting-held`` statuses: when, never what)


@dataclass(frozen=True)
class Proposal:
    student: Card
    mentor: Card
    score: float
    reasons: tuple[Reason, ...]


class ProgrammeAdmin:
    """A programme admin's figures and cohort assignment, computed offline from synced metadata."""

    def __init__(
        self, vault: Vault, program: Program, clock: HybridClock, cards: Callable[[], list[Card]] | None = None
    ) -> None:
        """``cards`` gives the directory (the session's, decrypted once per change); by default read here."""
        self.vault, self.program, self.clock = vault, program, clock
        self.cards = cards or (lambda: directory.cards(vault))

    # -- presence ------------------------------------------------------------------------------------------

    def store_presence(self, rows: list[dict], fetched_at: int | None = None) -> int:
        """Keep the server's answer to ``GET /v1/admin/presence`` (validated: it crosses the network)."""
        kept = []
        for row in rows:
            if not isinstance(row, dict):
                continue
            account, role, joined, last = row.get("account"), row.get("role"), row.get("joined"), row.get("last_sync")
            if not (isinstance(account, str) and len(account) == 32 and isinstance(role, str)):
                continue
            if not isinstance(joined, int) or not (last is None or isinstance(last, int)):
                continue
            kept.append({"account": account, "role": role[:16], "joined": joined, "last_sync": last})
        doc = {"at": fetched_at or int(self.clock.wall.time()), "rows": kept}
        self.vault.put_secret(_PRESENCE, json.dumps(doc).encode())
        return len(kept)

    def presence(self) -> tuple[dict[str, Presence], int | None]:
        raw = self.vault.get_secret(_PRESENCE)
        if not raw:
            return {}, None
        doc = json.loads(raw)
        return {r["account"]: Presence(**r) for r in doc["rows"]}, doc["at"]

    # -- pairings from status records ----------------------------------------------------------------------

    def pairings(self, cards: list[Card] | None = None) -> dict[str, Pairing]:
        """Every request the admin has heard of, one per student and mentor pair (the newest). A status is
        believed only from the person it concerns: a request from its asker, whose id must be the one derived
        from who asked whom and when (so nobody passes off a request as another's), an offer only from a
        mentor or peer mentor in the directory; an answer from the one asked; activity and closing from either."""
        mentors = {c.account for c in (cards if cards is not None else self.cards()) if is_mentor(c)}
        found: dict[str, Pairing] = {}
        later: list[tuple[str, StatusBody]] = []
        for stored in self.vault.records.by_kind(STATUS_KIND):
            try:
                status = parse_status(unpack_record(stored.wire).b)
            except (ProtocolError, ValueError):
                continue
            if status.e != "request":
                later.append((stored.author, status))
                continue
            student, mentor, by = status.s or "", status.m or "", status.by or ""
            asker = student if by == "student" else mentor
            if (
                stored.author != asker
                or student == mentor
                or status.r != request_id(student, mentor, by, status.at)
                or (by == "mentor" and mentor not in mentors)
            ):
                continue
            found.setdefault(status.r, Pairing(status.r, student, mentor, by, status.at))
        for author, status in later:
            pairing = found.get(status.r)
            if pairing is None:
                continue
            if status.e == "answer" and author == pairing.waiting_on and not pairing.answer:
                pairing.answer, pairing.answered = status.st or "", status.at
            elif status.e == MEETING_HELD and author in (pairing.student, pairing.mentor):
                pairing.held.add(status.at)  # both sides report the same meeting: counted once
                pairing.last_activity = max(pairing.last_activity, status.at)
            elif status.e in ("activity", "closed") and author in (pairing.student, pairing.mentor):
                pairing.last_activity = max(pairing.last_activity, status.at)
                if status.e == "closed":
                    pairing.closed = status.at
        newest: dict[tuple[str, str], Pairing] = {}  # a pair asked twice (declined, then again) counts once
        for pairing in sorted(found.values(), key=lambda p: p.asked):
            newest[(pairing.student, pairing.mentor)] = pairing
        return {p.id: p for p in newest.values()}

    def figures(self, now_ms: int | None = None, cards: list[Card] | None = None) -> CohortFigures:
        cards = cards if cards is not None else self.cards()
        now = now_ms if now_ms is not None else wall_ms(self.clock.wall)
        return self._figures(now, cards, list(self.pairings(cards).values()), introductions(self.vault))

    def _figures(
        self, now: int, cards: list[Card], pairings: list[Pairing], published: list[Introduction]
    ) -> CohortFigures:
        presence, presence_at = self.presence()
        roles = {c.account: c.role for c in cards} | {p.account: p.role for p in presence.values()}
        students = sorted(a for a, role in roles.items() if role == "student")
        accepted = [p for p in pairings if p.state(now) == "accepted"]
        matched = sorted({p.student for p in accepted} & set(students))
        load: dict[str, int] = {}
        for p in accepted:
            load[p.mentor] = load.get(p.mentor, 0) + 1
        fetched = (presence_at or 0) * 1000  # what we know of last syncs is as of then

        def seen(account: str) -> int | None:
            known = presence.get(account)
            return known.last_sync if known else None

        waiting = []
        for p in pairings:
            if p.state(now) == "pending" and now - p.asked > WAITING_DAYS * DAY_MS:
                last = seen(p.waiting_on)
                if not presence or (presence_at or 0) < p.asked // 1000:
                    reason = "unknown"  # fetched before the request: it cannot say whether they synced since
                else:
                    reason = "not-synced" if last is None or last * 1000 < p.asked else "unresponsive"
                waiting.append(Concern(p, p.waiting_on, reason, p.asked, last))
        quiet = []
        for p in accepted:
            active = max(p.last_activity, p.answered)
            if now - active <= QUIET_DAYS * DAY_MS:
                continue
            lapsed = [a for a in (p.student, p.mentor) if (seen(a) or 0) * 1000 < fetched - LAPSED_DAYS * DAY_MS]
            who = lapsed[0] if lapsed else p.mentor
            if not presence or now - fetched > LAPSED_DAYS * DAY_MS:
                reason = "unknown"  # last syncs too old to tell
            else:
                reason = "not-synced" if lapsed else "unresponsive"
            quiet.append(Concern(p, who, reason, active, seen(who)))
        asked = {(p.student, p.mentor) for p in pairings}
        introduced = {(i.student, i.mentor) for i in published}
        return CohortFigures(
            introduced=len(introduced - asked),
            followed=len(introduced & asked),
            students=students,
            matched=matched,
            unmatched=[s for s in students if s not in set(matched)],
            waiting=sorted(waiting, key=lambda c: c.since),
            quiet=sorted(quiet, key=lambda c: c.since),
            expired=sum(1 for p in pairings if p.state(now) == "expired"),
            load=load,
            presence_at=presence_at,
            meetings_held=sum(len(p.held) for p in pairings),
        )

    # -- cohort assignment ---------------------------------------------------------------------------------

    def propose(self, weights: dict[str, float] | None = None, now_ms: int | None = None) -> list[Proposal]:
        """Assign every unmatched student without a pending request or an introduction, at once, maximising the
        total score within each mentor's open places (their card's capacity less their open mentorships)."""
        now = now_ms if now_ms is not None else wall_ms(self.clock.wall)
        cards = self.cards()
        pairings = list(self.pairings(cards).values())  # decrypted once, for the figures and for what follows
        published = introductions(self.vault)
        figures = self._figures(now, cards, pairings, published)
        pending = [(p.student, p.mentor) for p in pairings if p.state(now) == "pending"]
        asked = {(p.student, p.mentor) for p in pairings}
        fresh = [  # introductions from the last 14 days that no request has followed yet
            (i.student, i.mentor)
            for i in published
            if now - (i.hlc >> 16) <= REQUEST_DAYS * DAY_MS and (i.student, i.mentor) not in asked
        ]
        busy = {student for student, _mentor in pending + fresh}
        held = dict(figures.load)  # places taken, or held by a pending request or a fresh introduction
        for _student, mentor in pending + fresh:
            held[mentor] = held.get(mentor, 0) + 1
        by_account = {c.account: c for c in cards}
        students = [by_account[s] for s in figures.unmatched if s in by_account and s not in busy]
        mentors = [  # senior mentors and peer mentors, with the places they have left
            replace(c, capacity=max(0, c.capacity - held.get(c.account, 0))) for c in cards if is_mentor(c)
        ]
        open_mentors = [m for m in mentors if m.capacity > 0]
        scores: dict[tuple[str, str], float] = {}
        found: dict[tuple[str, str], tuple[float, tuple[Reason, ...]]] = {}
        for student in students:
            seeker = Seeker(
                student.account,
                student.specialties[0] if student.specialties else "",
                " ".join(student.interests),
                student.languages,
                student.tz or "UTC",
                card_windows(student),
                student.background,
                student.year,
                student.wants_peer,
            )
            for suggestion in suggest(seeker, open_mentors, weights, limit=len(open_mentors)):
                pair = (student.account, suggestion.card.account)
                # the kind of mentor a student did not ask for comes second: seniors first, peer mentors once
                # the seniors' places run out; peer mentors first for a student who asked for one
                second = suggestion.card.peer != student.wants_peer
                scores[pair] = suggestion.score - (SECOND_CHOICE if second else 0.0)
                found[pair] = (suggestion.score, suggestion.reasons)
        chosen = assign_cohort(scores, {m.account: m.capacity for m in open_mentors})
        proposals = [
            Proposal(by_account[s], by_account[m], *found[(s, m)]) for s, m in chosen.items() if (s, m) in found
        ]
        return sorted(proposals, key=lambda p: (p.mentor.name, p.student.name))

    def publish(self, proposals: list[Proposal]) -> int:
        """Publish reviewed pairs as signed introductions to both people; they go out with the next sync.
        All of them or (a crash half way) none: publishing again never introduces a pair twice."""
        with self.vault.transaction():
            self._queue_introductions(proposals)
        return len(proposals)

    def _queue_introductions(self, proposals: list[Proposal]) -> None:
        for proposal in proposals:
            body = {
                "v": 1,
                "student": proposal.student.account,
                "mentor": proposal.mentor.account,
                "score": round(proposal.score, 2),
                "why": [{"t": r.text, "v": _plain(r.values)} for r in proposal.reasons],
            }
            audience = [bytes.fromhex(proposal.student.account), bytes.fromhex(proposal.mentor.account)]
            queue_record(
                self.vault, self.program, self.clock, INTRODUCTION, json.dumps(body).encode(), audience, signed=True
            )


def _plain(values: dict[str, object]) -> dict[str, object]:
    return {k: v if isinstance(v, (int, float, str, list)) else str(v) for k, v in values.items()}


# -- what people introduced see ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Introduction:
    id: str
    student: str
    mentor: str
    score: float
    reasons: tuple[Reason, ...]
    hlc: int


def introductions(vault: Vault) -> list[Introduction]:
    """Introductions published by the programme's admins (the server takes them only from admins and checks
    their signature), newest first. Reasons keep only the matching texts this version knows how to say."""
    out = []
    for stored in vault.records.by_kind(INTRODUCTION):
        record = unpack_record(stored.wire)
        try:
            doc = json.loads(record.b)
            student, mentor, score = str(doc["student"]), str(doc["mentor"]), float(doc["score"])
            reasons = tuple(
                Reason("", 0.0, r["t"], {str(k): v for k, v in dict(r["v"]).items()})
                for r in doc.get("why", [])[:10]
                if isinstance(r, dict) and r.get("t") in REASON_TEXTS
            )
        except (ValueError, KeyError, TypeError):
            continue
        if len(student) == 32 and len(mentor) == 32:
            out.append(Introduction(stored.id, student, mentor, score, reasons, record.h))
    return sorted(out, key=lambda i: -i.hlc)
