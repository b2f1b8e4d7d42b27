"""A meeting as both people's devices fold it from its sealed ``meeting`` records (PROTOCOL.md §9.1).

Each record changes named fields ("registers"); a register keeps the value written with the greatest
(hlc, author), so whatever order the records arrive in, both people end with the same meeting. The state is
derived from the registers when read: an acceptance counts only for the round it names, when that round is
still the meeting's current one, and only from the person who did not propose that round.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from desktop.domain import recurrence
from desktop.domain.meeting_time import DAY_MS
from desktop.i18n import N_

KINDS: dict[str, str] = {
    "video": N_("Video or voice call"),
    "phone": N_("Phone call"),
    "live-text": N_("Live text session in Osler"),
    "async": N_("Asynchronous meeting (voice notes and messages)"),
}
STATES: dict[str, str] = {
    "proposed": N_("Proposed"),
    "confirmed": N_("Confirmed"),
    "declined": N_("Declined"),
    "cancelled": N_("Cancelled"),
}
MAX_SLOTS = 3
MAX_TITLE, MAX_LINK, MAX_REASON, MAX_NOTE = 200, 500, 1000, 2000
MAX_SLOT_MS = DAY_MS  # a slot lasts at most a day
MAX_MS = 2**53


@dataclass(frozen=True, order=True)
class Slot:
    start: int  # UTC ms
    end: int


@dataclass(frozen=True)
class Meeting:
    id: str
    organiser: str
    other: str
    mentorship: str | None
    kind: str
    title: str
    link: str
    tz: str  # the organiser's zone: the TZID a recurrence follows
    slots: tuple[Slot, ...]
    round: int  # a reschedule starts a new round of 1-3 slots
    state: str  # "proposed" | "confirmed" | "declined" | "cancelled"
    chosen: Slot | None
    reason: str
    rrule: str  # "" or an RFC 5545 RRULE value, e.g. "FREQ=WEEKLY;INTERVAL=2"
    exceptions: Mapping[int, Slot | None] = field(default_factory=dict)  # occurrence start -> moved, None: cancelled
    notes: Mapping[int, dict] = field(default_factory=dict)  # occurrence start -> {progress, blockers, next, by, at}
    proposer: str = ""  # who proposed the current round (the other one answers it)

    def partner(self, me: str) -> str:
        return self.other if me == self.organiser else self.organiser

    def waiting_on(self) -> str | None:
        """Who must answer: the one who did not propose the current round, while it is proposed."""
        if self.state != "proposed":
            return None
        return self.other if self.proposer == self.organiser else self.organiser

    def occurrences(self, start_ms: int, end_ms: int) -> list[Slot]:
        """The occurrences overlapping [start_ms, end_ms), expanded in ``tz`` (wall time kept across daylight-saving
        changes), with moved and cancelled ones applied; only a confirmed meeting has any."""
        if self.state != "confirmed" or self.chosen is None:
            return []
        length = self.chosen.end - self.chosen.start
        found: dict[int, Slot] = {}
        for at in recurrence.expand(self.rrule, self.chosen.start, self.tz, start_ms - DAY_MS, end_ms + DAY_MS):
            found[at] = Slot(at, at + length)
        for at, moved in self.exceptions.items():
            if at in found or (moved is not None and not self.rrule and at == self.chosen.start):
                found.pop(at, None)
                if moved is not None:
                    found[at] = moved
            elif moved is not None and moved.end > start_ms and moved.start < end_ms and self._is_occurrence(at):
                found[at] = moved
        return sorted(s for s in found.values() if s.end > start_ms and s.start < end_ms)

    def _is_occurrence(self, at: int) -> bool:
        assert self.chosen is not None
        return any(True for _ in recurrence.expand(self.rrule, self.chosen.start, self.tz, at, at + 1))

    def occurrence_of(self, slot: Slot) -> int:
        """The original start (the key of exceptions and notes) of an occurrence ``occurrences`` gave."""
        return next((at for at, moved in self.exceptions.items() if moved == slot), slot.start)

    def next(self, now_ms: int) -> Slot | None:
        """The next occurrence not yet over (the one under way, if any)."""
        if self.state != "confirmed" or self.chosen is None:
            return None
        for days in (31, 400):
            found = self.occurrences(now_ms, now_ms + days * DAY_MS)
            if found:
                return found[0]
        return None

    def held(self, now_ms: int) -> int:
        """Occurrences with notes, or confirmed and over by ``now_ms``."""
        over: set[int] = {at for at in self.notes}
        if self.state == "confirmed" and self.chosen is not None and self.chosen.start < now_ms:
            for slot in self.occurrences(self.chosen.start - 366 * DAY_MS, now_ms):
                if slot.end <= now_ms:
                    over.add(self.occurrence_of(slot))
        return len(over)


def newer(stamp: tuple[int, str], register: list | None) -> bool:
    return register is None or stamp > (register[1], register[2])


def write(registers: dict, name: str, value: object, stamp: tuple[int, str]) -> None:
    """Keep ``value`` in register ``name`` when its (hlc, author) is greater than the one kept."""
    if newer(stamp, registers.get(name)):
        registers[name] = [value, stamp[0], stamp[1]]


def _value(registers: dict, name: str, default: object = None) -> object:
    held = registers.get(name)
    return held[0] if held else default


def fold(meeting_id: str, entry: dict) -> Meeting:
    """The meeting a stored entry ``{org, oth, ms, tz, reg}`` describes."""
    reg = entry["reg"]
    plan = _value(reg, "slots", {"r": 1, "s": [], "by": entry["org"]})
    slots = tuple(Slot(a, b) for a, b in plan["s"])
    status = _value(reg, "status", {"st": "proposed"})
    state, chosen, reason = "proposed", None, ""
    valid_answer = status.get("r") == plan["r"] and reg.get("status", [0, 0, plan["by"]])[2] != plan["by"]
    if _value(reg, "cancel", False):
        state, reason = "cancelled", str(_value(reg, "why", ""))
    elif status["st"] == "accepted" and valid_answer and 0 <= status.get("c", -1) < len(slots):
        state, chosen = "confirmed", slots[status["c"]]
    elif status["st"] == "declined" and valid_answer:
        state, reason = "declined", str(status.get("why", ""))
    exceptions: dict[int, Slot | None] = {}
    notes: dict[int, dict] = {}
    for name, held in reg.items():
        if name.startswith("x:"):
            exceptions[int(name[2:])] = Slot(*held[0]) if held[0] else None
        elif name.startswith("n:"):
            notes[int(name[2:])] = dict(held[0])
    return Meeting(
        id=meeting_id,
        organiser=entry["org"],
        other=entry["oth"],
        mentorship=entry.get("ms"),
        kind=str(_value(reg, "kind", "video")),
        title=str(_value(reg, "title", "")),
        link=str(_value(reg, "link", "")),
        tz=entry["tz"],
        slots=slots,
        round=plan["r"],
        state=state,
        chosen=chosen,
        reason=reason,
        rrule=entry.get("rr", ""),
        exceptions=exceptions,
        notes=notes,
        proposer=plan["by"],
    )
