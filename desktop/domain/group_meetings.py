"""Group meetings in circles (issue 17, part 7): a circle's lead or mentor proposes a meeting with one to three
slots, members answer yes / maybe / no for each, the proposer fixes one; members may share their weekly
availability with the circle; the week grid shows, for each half hour of my week in my time zone, how many members
can come (``overlap.coverage`` over every member whose availability this device has).

Everything travels as ``circle-post`` events through ``Circles.post``: sealed under the circle's epoch key and
signed like every post, so the server carries them without reading them; ``group_meeting_fold`` checks them.
Plain Python: no Qt, no network of its own.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from desktop.domain import meeting_time, overlap
from desktop.domain.availability import Availability
from desktop.domain.group_meeting_fold import (
    ANSWER,
    ANSWERS,
    FIX,
    KIND_NAMES,
    MAX_LINK,
    MAX_SLOTS,
    MAX_TITLE,
    POST,
    PROPOSE,
    PROPOSER_ROLES,
    REF,
    SHARE,
    GroupMeeting,
    fold,
    slots_of,
)
from desktop.i18n import _

__all__ = [
    "ANSWERS",
    "PROPOSER_ROLES",
    "GroupMeeting",
    "GroupMeetingError",
    "GroupMeetings",
    "Option",
    "WeekGrid",
]
STEP = 30  # minutes per grid cell
ROWS = 24 * 60 // STEP


class GroupMeetingError(ValueError):
    """A refusal a person can read; ``code`` for callers: "not-allowed", "not-member", "empty", "too-long",
    "slots", "past", "kind", "unknown", "answers", "not-proposer"."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class CirclesLike(Protocol):
    def post(self, circle_id: str, kind: str, content: dict) -> str: ...
    def events(self, circle_id: str, kind: str, ref: str | None = None) -> list[Any]: ...
    def role(self, circle_id: str, account: str) -> str | None: ...
    def circle(self, circle_id: str) -> Any: ...


@dataclass(frozen=True)
class GridCell:
    start: int  # UTC ms
    end: int
    free: frozenset[str]  # members free for the whole half hour


@dataclass(frozen=True)
class WeekGrid:
    """My week in my zone: ``days`` (Monday first), ``cells[day][row]`` for each half hour (None: a wall time that
    does not exist that day, clocks jumping forward), out of ``members`` members, ``known`` of them with an
    availability this device has."""

    start: int
    tz: str
    days: tuple[datetime.date, ...]
    cells: tuple[tuple[GridCell | None, ...], ...]
    members: int
    known: int


@dataclass(frozen=True)
class Option:
    """A suggested time: ``free`` members can come for all of it."""

    start: int
    end: int
    free: frozenset[str]


class GroupMeetings:
    """A person's group meetings in every circle they belong to."""

    def __init__(
        self,
        circles: CirclesLike,
        me: str,
        availability_of: Callable[[str], Availability | None],
        now_ms: Callable[[], int],
    ) -> None:
        self.circles, self.me, self.availability_of, self.now_ms = circles, me, availability_of, now_ms

    # -- reading --------------------------------------------------------------------------------------------

    def _roster(self, circle: str) -> dict[str, str]:
        found = self.circles.circle(circle)
        return {m.account: m.role for m in found.members} if found is not None else {}

    def _folded(self, circle: str):
        return fold(circle, self.circles.events(circle, POST, ref=REF), self._roster(circle))

    def meetings(self, circle: str) -> list[GroupMeeting]:
        """The circle's group meetings, the soonest first slot first."""
        return sorted(self._folded(circle).meetings.values(), key=lambda m: (m.slots[0][0], m.id))

    def meeting(self, circle: str, meeting_id: str) -> GroupMeeting | None:
        return self._folded(circle).meetings.get(meeting_id)

    def shared(self, circle: str) -> dict[str, Availability]:
        """What members shared with the circle (a document that does not validate is left out)."""
        out = {}
        for account, doc in self._folded(circle).shared.items():
            try:
                out[account] = Availability.from_doc(doc, account)
            except (ValueError, TypeError, KeyError):
                continue
        return out

    def availabilities(self, circle: str) -> dict[str, Availability]:
        """Every member whose availability this device has: shared with the circle, else their card's (or what
        they shared with me in a mentorship)."""
        out = self.shared(circle)
        for account in self._roster(circle):
            if account not in out:
                av = self.availability_of(account)
                if av is not None:
                    out[account] = av
        return out

    def grid(self, circle: str, week_start: int, tz: str) -> WeekGrid:
        """The week from ``week_start`` (``meeting_time.week_start`` in ``tz``) as 7 days × 48 half hours of wall
        time in ``tz``, each cell with the members free for all of it."""
        return week_grid(self.availabilities(circle), week_start, tz, len(self._roster(circle)))

    def best(self, grid: WeekGrid, minutes: int = 60, count: int = 5) -> list[Option]:
        """The times most members can come, for ``minutes`` in a row, not overlapping, not in the past; the most
        first, then the earliest."""
        need = max(1, -(-minutes // STEP))
        now = self.now_ms()
        found = []
        for column in grid.cells:
            for row in range(len(column) - need + 1):
                run = column[row : row + need]
                if any(c is None for c in run) or run[0].start < now:  # type: ignore[union-attr]
                    continue
                free = frozenset.intersection(*(c.free for c in run))  # type: ignore[union-attr]
                if free:
                    found.append(Option(run[0].start, run[-1].end, free))  # type: ignore[union-attr]
        found.sort(key=lambda o: (-len(o.free), o.start))
        chosen: list[Option] = []
        for option in found:
            if all(option.end <= o.start or option.start >= o.end for o in chosen):
                chosen.append(option)
                if len(chosen) == count:
                    break
        return chosen

    # -- writing --------------------------------------------------------------------------------------------

    def _member(self, circle: str) -> str:
        role = self.circles.role(circle, self.me)
        if role is None:
            raise GroupMeetingError("not-member", _("Only members of this circle can do this."))
        return role

    def propose(
        self, circle: str, title: str, kind: str, slots: Sequence[tuple[int, int]], link: str = "", tz: str = ""
    ) -> str:
        """Propose a group meeting to the circle (a lead or mentor of it); returns its id."""
        if self._member(circle) not in PROPOSER_ROLES:
            raise GroupMeetingError("not-allowed", _("Only a lead or a mentor of this circle can propose a meeting."))
        title = title.strip()
        if not title:
            raise GroupMeetingError("empty", _("Give the meeting a title."))
        if len(title) > MAX_TITLE or len(link.strip()) > MAX_LINK:
            raise GroupMeetingError("too-long", _("The title or the link is too long."))
        if kind not in KIND_NAMES:
            raise GroupMeetingError("kind", _("Choose what kind of meeting it is."))
        pairs = slots_of([[int(s), int(e)] for s, e in slots])
        if pairs is None:
            raise GroupMeetingError(
                "slots", _("Propose one to {count} times, each shorter than a day.").format(count=MAX_SLOTS)
            )
        if any(start < self.now_ms() for start, _end in pairs):
            raise GroupMeetingError("past", _("One of these times has already passed."))
        meeting_id = uuid.uuid4().hex
        content = {"ref": REF, "y": PROPOSE, "m": meeting_id, "n": title, "k": kind, "l": link.strip(), "tz": tz}
        content["s"] = [list(p) for p in pairs]
        self.circles.post(circle, POST, content)
        return meeting_id

    def answer(self, circle: str, meeting_id: str, answers: Sequence[str]) -> None:
        """My answer for every slot of the meeting ("yes", "maybe" or "no"); a later answer replaces it."""
        self._member(circle)
        meeting = self.meeting(circle, meeting_id)
        if meeting is None:
            raise GroupMeetingError("unknown", _("This meeting is not here any more."))
        if len(answers) != len(meeting.slots) or any(a not in ANSWERS for a in answers):
            raise GroupMeetingError("answers", _("Answer yes, maybe or no for every proposed time."))
        self.circles.post(circle, POST, {"ref": REF, "y": ANSWER, "m": meeting_id, "a": list(answers)})

    def fix(self, circle: str, meeting_id: str, index: int) -> None:
        """The proposer fixes slot ``index``."""
        self._member(circle)
        meeting = self.meeting(circle, meeting_id)
        if meeting is None:
            raise GroupMeetingError("unknown", _("This meeting is not here any more."))
        if meeting.proposer != self.me:
            raise GroupMeetingError("not-proposer", _("Only the person who proposed the meeting can fix its time."))
        if not 0 <= index < len(meeting.slots):
            raise GroupMeetingError("slots", _("Choose one of the proposed times."))
        self.circles.post(circle, POST, {"ref": REF, "y": FIX, "m": meeting_id, "s": int(index)})

    def share_availability(self, circle: str, availability: Availability) -> None:
        """Share my weekly availability with the circle (sealed to its members, like every post)."""
        self._member(circle)
        self.circles.post(circle, POST, {"ref": REF, "y": SHARE, "av": availability.to_doc()})


def week_grid(people: Mapping[str, Availability], week_start: int, tz: str, members: int) -> WeekGrid:
    """``people``'s coverage of the week from ``week_start`` as 7 days × 48 half hours of wall time in ``tz``."""
    # eight days of UTC cells: a local week in which clocks go back lasts 7 days and an hour
    cells = overlap.coverage(list(people.values()), week_start, days=8, step_minutes=STEP)
    by_start = {cell.start: cell.free for cell in cells}
    monday = meeting_time.to_local(week_start, tz).date()
    days = tuple(monday + datetime.timedelta(days=d) for d in range(7))
    columns = []
    nobody: frozenset[str] = frozenset()
    for day in days:
        column: list[GridCell | None] = []
        for row in range(ROWS):
            try:
                start = meeting_time.local_to_ms(tz, day, row * STEP, fold=0)
            except meeting_time.LocalTimeError:
                column.append(None)  # clocks jump forward over this half hour that day
                continue
            column.append(GridCell(start, start + STEP * 60_000, by_start.get(start, nobody)))
        columns.append(tuple(column))
    return WeekGrid(week_start, tz, days, tuple(columns), members, len(people))
