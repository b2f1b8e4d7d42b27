"""A mentor's students: those who asked (requests waiting for the mentor's answer), those in the mentor's
circles, and those the programme introduced (signed introductions), each with the reasons to say. Plain Python
over what the vault already holds (the directory, requests, introductions, circles), so it works offline.

A student is listed once, in the first group that holds them (asked, then introduced, then circles), with the
reasons of every group they belong to. A student the mentor already mentors is left out; one the mentor has
offered to mentor is listed with the offer pending (no second offer from the list).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from desktop.domain.directory import Card
from desktop.domain.matching import Reason
from desktop.domain.mentorship import Mentorship, Request
from desktop.domain.programme import Introduction
from desktop.i18n import N_

GROUPS = ("asked", "introduced", "circles")
GROUP_TITLES = {
    "asked": N_("Asked you"),
    "introduced": N_("Introduced by the programme"),
    "circles": N_("In your circles"),
}
MAX_OFFER = 500  # characters of the short message that goes with an offer

_ASKED = N_("Asked you to mentor them: “{text}”")
_INTRODUCED = N_("The programme introduced you (match score {score})")
_CIRCLE = N_("Member of your circle “{circle}”")
_CIRCLE_PEER = N_("Peer mentor in your circle “{circle}”")
_SPECIALTY = N_("Same specialty: {specialty}")
_LANGUAGES = N_("Both speak {languages}")


class _Member(Protocol):
    account: str
    role: str


class _Circle(Protocol):  # desktop.domain.circles.Circle: only what this module reads
    id: str
    title: str
    members: tuple[_Member, ...]


@dataclass(frozen=True)
class StudentEntry:
    card: Card
    group: str  # one of GROUPS
    reasons: tuple[Reason, ...]  # texts to show with reason_line(..., about_a_pair=True)
    request: str | None = None  # the request waiting for this mentor's answer (asked)
    offered: str | None = None  # this mentor's pending offer to the student, if any

    @property
    def can_offer(self) -> bool:
        return self.request is None and self.offered is None


def _common(mine: Card | None, card: Card) -> list[Reason]:
    if mine is None:
        return []
    out = []
    specialty = next((s for s in card.specialties if s in mine.specialties), None)
    if specialty:
        out.append(Reason("specialty", 0.0, _SPECIALTY, {"specialty": specialty}))
    languages = sorted(set(mine.languages) & set(card.languages))
    if languages:
        out.append(Reason("language", 0.0, _LANGUAGES, {"languages": languages}))
    return out


def students_for(
    me: str,
    cards: Iterable[Card],
    requests: Iterable[Request],
    mentorships: Iterable[Mentorship],
    introductions: Iterable[Introduction],
    circles: Iterable[_Circle],
    now_ms: int,
) -> dict[str, list[StudentEntry]]:
    """group → entries, each group sorted by name; see the module's docstring."""
    by_account = {c.account: c for c in cards}
    students = {a: c for a, c in by_account.items() if c.role == "student" and a != me}
    mentoring = {m.student for m in mentorships if m.mentor == me}
    asked: dict[str, Request] = {}
    offered: dict[str, str] = {}
    for r in requests:
        if r.mentor != me or r.status(now_ms) != "pending":
            continue
        if r.by == "student":
            asked.setdefault(r.student, r)
        else:
            offered.setdefault(r.student, r.id)
    reasons: dict[str, list[Reason]] = {}
    group: dict[str, str] = {}

    def add(account: str, where: str, reason: Reason) -> None:
        if account not in students or account in mentoring:
            return
        if account not in group or GROUPS.index(where) < GROUPS.index(group[account]):
            group[account] = where
        reasons.setdefault(account, []).append(reason)

    for account, request in asked.items():
        add(account, "asked", Reason("asked", 0.0, _ASKED, {"text": _short(request.text)}))
    for intro in introductions:
        if intro.mentor == me and not any(r.text == _INTRODUCED for r in reasons.get(intro.student, [])):
            add(intro.student, "introduced", Reason("introduced", intro.score, _INTRODUCED, {"score": intro.score}))
            for reason in intro.reasons:
                add(intro.student, "introduced", reason)
    for circle in circles:
        if not any(m.account == me for m in circle.members):
            continue
        for member in circle.members:
            text = _CIRCLE_PEER if member.role == "peer" else _CIRCLE
            add(member.account, "circles", Reason("circle", 0.0, text, {"circle": circle.title}))
    mine = by_account.get(me)
    out: dict[str, list[StudentEntry]] = {g: [] for g in GROUPS}
    for account, where in group.items():
        said = reasons[account]
        if where != "introduced":  # an introduction carries its own reasons
            said = said + _common(mine, students[account])
        request = asked.get(account)
        entry = StudentEntry(
            students[account], where, tuple(said), request.id if request else None, offered.get(account)
        )
        out[where].append(entry)
    for entries in out.values():
        entries.sort(key=lambda e: (e.card.name.casefold(), e.card.account))
    return out


def _short(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
