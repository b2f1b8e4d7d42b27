"""The checks on meetings: what a person may propose (``MeetingError`` with a code and a translated message),
and what a ``meeting`` record from someone else must look like before anything of it is kept (PROTOCOL.md §9.1).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from desktop.domain import recurrence
from desktop.domain.meeting_fold import KINDS, MAX_LINK, MAX_MS, MAX_NOTE, MAX_REASON, MAX_SLOT_MS, MAX_SLOTS, MAX_TITLE
from desktop.domain.meeting_time import valid_zone
from desktop.i18n import N_, _

__all__ = ["MAX_REASON", "MeetingError"]
OPS = frozenset({"propose", "accept", "decline", "reschedule", "cancel", "edit", "occurrence", "notes", "avail"})
MAX_ROUND = 10_000
MAX_REGISTERS = 2_000  # fields of one meeting: its moved or cancelled occurrences and notes included
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
MESSAGES = {
    "no-slots": N_("Choose at least one time for the meeting."),
    "too-many-slots": N_("Propose at most three times."),
    "bad-slot": N_("A meeting ends after it starts, and lasts at most a day."),
    "past": N_("That time has already passed."),
    "gap": N_("That time does not exist in the time zone: the clocks jump forward over it."),
    "fold": N_("That time happens twice in the time zone: choose which one you mean."),
    "not-yours": N_("This meeting is not one of yours."),
    "state": N_("This meeting cannot be changed that way now."),
    "kind": N_("Choose what kind of meeting it is."),
    "title": N_("Give the meeting a title (at most 200 characters)."),
    "link": N_("The link is too long."),
    "zone": N_("Osler does not know that time zone."),
    "rrule": N_("Osler repeats a meeting daily, weekly or monthly, every 1 to 8 periods, at most 200 times."),
    "person": N_("Choose someone else to meet."),
    "no-occurrence": N_("This meeting has no occurrence at that time."),
    "mentorship": N_("That mentorship is not between you two."),
}


class MeetingError(ValueError):
    """A meeting change refused, with ``code`` (a key of MESSAGES) and ``message()`` for the person."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    def message(self) -> str:
        return _(MESSAGES.get(self.code, MESSAGES["state"]))


def _int(value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value < high:
        raise MeetingError("bad-value")
    return value


def _text(value: object, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise MeetingError("bad-value")
    return value


def hex_id(value: object) -> str:
    if not isinstance(value, str) or not _HEX32.match(value):
        raise MeetingError("bad-id")
    return value


def title(text: str) -> str:
    text = text.strip() if isinstance(text, str) else ""
    if not text or len(text) > MAX_TITLE:
        raise MeetingError("title")
    return text


def link(text: str) -> str:
    text = text.strip() if isinstance(text, str) else ""
    if len(text) > MAX_LINK:
        raise MeetingError("link")
    return text


def proposal(me: str, other: str, kind: str, text: str, url: str, rrule: str, tz: str) -> None:
    """What a person proposes: someone else, a known kind, a title, a short link, a rule Osler repeats by."""
    if other == me or not isinstance(other, str) or not _HEX32.match(other):
        raise MeetingError("person")
    if kind not in KINDS:
        raise MeetingError("kind")
    title(text), link(url)
    if not valid_zone(tz):
        raise MeetingError("zone")
    if rrule and not recurrence.valid(rrule):
        raise MeetingError("rrule")


def slots(value: object) -> list[list[int]]:
    """One to three [start, end] pairs of UTC ms, each ending after it starts and lasting at most a day."""
    if not isinstance(value, (list, tuple)) or not value:
        raise MeetingError("no-slots")
    if len(value) > MAX_SLOTS:
        raise MeetingError("too-many-slots")
    out = []
    for item in value:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise MeetingError("bad-slot")
        start, end = _int(item[0], 0, MAX_MS), _int(item[1], 0, MAX_MS)
        if not 0 < end - start <= MAX_SLOT_MS:
            raise MeetingError("bad-slot")
        out.append([start, end])
    return sorted(out)


def new_slots(value: Sequence, now_ms: int) -> list[list[int]]:
    """Slots a person proposes now: as ``slots``, and none already begun."""
    out = slots([list(s) for s in value] if isinstance(value, (list, tuple)) else value)
    if any(start < now_ms for start, _end in out):
        raise MeetingError("past")
    return out


def header(content: dict, author: str) -> tuple[str, tuple[int, str]]:
    """(op, (hlc, author)) of a record, whose ``a`` must be the account that wrote it."""
    op = content.get("op")
    if op not in OPS or content.get("a") != author:
        raise MeetingError("bad-header")
    return op, (_int(content.get("h"), 0, 2**64), author)


def take_proposal(content: dict, author: str, me: str, stamp: tuple[int, str]) -> dict:
    """The stored entry a ``propose`` record starts: organiser = its author; I am one of the two people."""
    other = hex_id(content.get("o"))
    if me not in (author, other) or author == other:
        raise MeetingError("person")
    kind, tz, rule = content.get("k"), _text(content.get("z"), 64), _text(content.get("rr", ""), 200)
    if kind not in KINDS or not valid_zone(tz) or (rule and not recurrence.valid(rule)):
        raise MeetingError("bad-value")
    mentorship = content.get("m")
    entry = {"org": author, "oth": other, "ms": hex_id(mentorship) if mentorship is not None else None}
    entry.update({"tz": tz, "rr": rule, "reg": {}})
    fields = {
        "title": title(content.get("t")),
        "kind": kind,
        "link": link(content.get("l", "")),
        "slots": {"r": 1, "s": slots(content.get("s")), "by": author},
        "cancel": False,
    }
    entry["reg"] = {name: [value, stamp[0], stamp[1]] for name, value in fields.items()}
    return entry


def changes(op: str, content: dict, author: str) -> Iterator[tuple[str, object]]:
    """The registers one change writes (checked before any is written: this builds the whole list first)."""
    out: list[tuple[str, object]] = []
    if op in ("accept", "decline"):
        answer: dict = {"st": "accepted" if op == "accept" else "declined", "r": _int(content.get("r"), 1, MAX_ROUND)}
        if op == "accept":
            answer["c"] = _int(content.get("c"), 0, MAX_SLOTS)
        else:
            answer["why"] = _text(content.get("why", ""), MAX_REASON)
        out.append(("status", answer))
    elif op == "reschedule":
        plan = {"r": _int(content.get("r"), 2, MAX_ROUND), "s": slots(content.get("s")), "by": author}
        out += [("slots", plan), ("cancel", False)]
    elif op == "cancel":
        out += [("cancel", True), ("why", _text(content.get("why", ""), MAX_REASON))]
    elif op == "edit":
        if "t" in content:
            out.append(("title", title(content["t"])))
        if "l" in content:
            out.append(("link", link(content["l"])))
    elif op == "occurrence":
        moved = content.get("s")
        out.append((f"x:{_int(content.get('o'), 0, MAX_MS)}", slots([moved])[0] if moved is not None else None))
    elif op == "notes":
        notes = content.get("n")
        if not isinstance(notes, dict):
            raise MeetingError("bad-value")
        kept = {name: _text(notes.get(name, ""), MAX_NOTE) for name in ("progress", "blockers", "next")}
        kept.update(by=author, at=_int(notes.get("at", 0), 0, MAX_MS))
        out.append((f"n:{_int(content.get('o'), 0, MAX_MS)}", kept))
    else:
        raise MeetingError("bad-header")  # propose and avail are taken elsewhere
    yield from out
