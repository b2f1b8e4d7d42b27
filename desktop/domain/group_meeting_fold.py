"""Group meetings folded from a circle's events: plain functions over ``CircleEvent`` data, no vault, no network.

A group meeting lives in a circle as ``circle-post`` events told apart from discussion posts by their type ``y``
(the discussion fold ignores types it does not know, so it never shows them):

- ``meet``: a lead or mentor proposes a meeting: ``m`` its id, ``n`` title, ``k`` kind, ``s`` 1-3 slots as
  ``[start_ms, end_ms]`` pairs, ``l`` a link, ``tz`` the proposer's zone;
- ``meet-answer``: a member answers every slot at once, ``a`` a list of "yes" / "maybe" / "no" (their latest
  answer by hlc wins);
- ``meet-fix``: the proposer fixes one slot, ``s`` its index (the latest fix wins);
- ``avail``: a member shares their availability with the circle, ``av`` the same document as a card's
  (``Availability.to_doc``); their latest share wins.

All of them carry ``ref`` = ``REF`` so one indexed query finds them. Whatever breaks a rule is dropped here: a
proposal from someone who was not a lead or mentor when it arrived, answers from someone not in the circle's
roster now, a fix from anyone but the proposer, malformed or oversized content.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from desktop.domain.discussion_fold import Event
from desktop.domain.meeting_fold import KINDS

POST = "circle-post"
REF = "meetings"  # every group-meeting event's ref: one indexed query per circle
PROPOSE, ANSWER, FIX, SHARE = "meet", "meet-answer", "meet-fix", "avail"
TYPES = (PROPOSE, ANSWER, FIX, SHARE)
PROPOSER_ROLES = ("lead", "mentor")  # who may propose a group meeting to a circle
ANSWERS = ("yes", "maybe", "no")
KIND_NAMES = tuple(KINDS)  # a group meeting has the same kinds as a meeting between two people
MAX_SLOTS = 3
MAX_TITLE = 200
MAX_LINK = 500
MAX_SLOT_MS = 24 * 3_600_000  # one slot lasts at most a day
MIN_MS, MAX_MS = 0, 2**53  # instants a slot may name


@dataclass(frozen=True)
class GroupMeeting:
    id: str
    circle: str
    proposer: str
    title: str
    kind: str
    link: str
    tz: str
    slots: tuple[tuple[int, int], ...]  # UTC ms
    hlc: int
    answers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # account -> one answer per slot
    fixed: int | None = None  # the slot index the proposer fixed

    def counts(self, index: int) -> dict[str, int]:
        """How many answered yes, maybe and no for slot ``index``."""
        out = dict.fromkeys(ANSWERS, 0)
        for answer in self.answers.values():
            out[answer[index]] += 1
        return out

    def answer_of(self, account: str) -> tuple[str, ...] | None:
        return self.answers.get(account)


def _hex32(value: object) -> bool:
    return isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def _text(value: object, limit: int) -> str | None:
    return value.strip() if isinstance(value, str) and len(value) <= limit else None


def slots_of(value: object) -> tuple[tuple[int, int], ...] | None:
    """1-3 valid ``[start, end]`` pairs (ms, start < end, at most a day long), or None."""
    if not isinstance(value, list | tuple) or not 1 <= len(value) <= MAX_SLOTS:
        return None
    out = []
    for pair in value:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            return None
        start, end = pair
        if type(start) is not int or type(end) is not int:
            return None
        if not MIN_MS <= start < end <= MAX_MS or end - start > MAX_SLOT_MS:
            return None
        out.append((start, end))
    return tuple(out)


@dataclass
class Folded:
    meetings: dict[str, GroupMeeting]
    shared: dict[str, dict]  # account -> the availability document they shared last (validated by the caller)


def fold(circle: str, events: Iterable[Event], members: Mapping[str, str]) -> Folded:
    """Every valid group-meeting event of one circle. ``members``: the circle's roster now (account -> role)."""
    proposals: dict[str, GroupMeeting] = {}
    answers: dict[str, dict[str, tuple[int, str, tuple[str, ...]]]] = {}
    fixes: dict[str, list[tuple[int, str, int]]] = {}
    shared: dict[str, tuple[int, str, dict]] = {}
    for event in sorted(events, key=lambda e: (e.hlc, e.id)):
        c = event.content if isinstance(event.content, dict) else {}
        kind = c.get("y")
        if event.kind != POST or kind not in TYPES:
            continue
        if kind == SHARE:
            if event.author in members and isinstance(c.get("av"), dict):
                shared[event.author] = (event.hlc, event.id, c["av"])
            continue
        meeting = c.get("m")
        if not _hex32(meeting):
            continue
        if kind == PROPOSE:
            if meeting in proposals or event.role not in PROPOSER_ROLES:
                continue
            title, link, tz = _text(c.get("n"), MAX_TITLE), _text(c.get("l", ""), MAX_LINK), _text(c.get("tz", ""), 64)
            slots, what = slots_of(c.get("s")), c.get("k")
            if not title or link is None or tz is None or slots is None or what not in KIND_NAMES:
                continue
            proposals[meeting] = GroupMeeting(meeting, circle, event.author, title, what, link, tz, slots, event.hlc)
        elif kind == ANSWER:
            given = c.get("a")
            if event.author not in members or not isinstance(given, list | tuple) or not 1 <= len(given) <= 3:
                continue
            if any(a not in ANSWERS for a in given):
                continue
            answers.setdefault(meeting, {})[event.author] = (event.hlc, event.id, tuple(given))
        elif kind == FIX:
            index = c.get("s")
            if type(index) is int:
                fixes.setdefault(meeting, []).append((event.hlc, event.author, index))
    out: dict[str, GroupMeeting] = {}
    for meeting_id, proposal in proposals.items():
        given = {
            account: a
            for account, (_hlc, _id, a) in answers.get(meeting_id, {}).items()
            if len(a) == len(proposal.slots)  # an answer for another number of slots is not this meeting's
        }
        fixed = None
        for _hlc, author, index in fixes.get(meeting_id, []):
            if author == proposal.proposer and 0 <= index < len(proposal.slots):
                fixed = index  # hlc order: the latest valid fix wins
        out[meeting_id] = GroupMeeting(
            proposal.id, circle, proposal.proposer, proposal.title, proposal.kind, proposal.link, proposal.tz,
            proposal.slots, proposal.hlc, given, fixed,
        )  # fmt: skip
    return Folded(out, {account: doc for account, (_h, _i, doc) in shared.items()})
