"""The words and groupings of the Schedule page, without widgets: whose zone a time is shown in, a slot as "my
time · their time", recurrence labels, and upcoming meetings grouped by my local day."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from desktop.domain import meeting_time
from desktop.domain.matching import local_zone
from desktop.domain.meetings import KINDS, STATES, Meeting, Slot
from desktop.formatting import format_date
from desktop.i18n import N_, _, current_locale
from desktop.ui.direction import first_strong_isolated

# (RRULE value, label): what "Repeats" offers; the RRULE goes on the meeting as it is
RECURRENCES: tuple[tuple[str, str], ...] = (
    ("", N_("Does not repeat")),
    ("FREQ=WEEKLY", N_("Every week")),
    ("FREQ=WEEKLY;INTERVAL=2", N_("Every second week")),
    ("FREQ=MONTHLY", N_("Every month")),
)
DURATIONS = (15, 30, 45, 60, 90, 120)  # minutes offered for a meeting's length


def locale_tag() -> str:
    return str(current_locale())


def recurrence_label(rrule: str) -> str:
    for value, label in RECURRENCES:
        if value == rrule:
            return _(label)
    return rrule


def kind_label(kind: str) -> str:
    return _(KINDS[kind]) if kind in KINDS else kind


def state_label(state: str) -> str:
    return _(STATES[state]) if state in STATES else state


@dataclass
class People:
    """Names and time zones of everyone the page shows, read once per refresh."""

    me: str
    names: dict[str, str]
    zones: dict[str, str]

    @classmethod
    def of(cls, session) -> People:  # type: ignore[no-untyped-def]
        me = session.program.credentials.account.hex()
        cards = session.cards()
        names = {c.account: c.name for c in cards}
        zones = {c.account: c.tz for c in cards if c.tz and meeting_time.valid_zone(c.tz)}
        meetings = session.meetings
        if meetings is not None:
            mine = meetings.my_availability()
            if mine is not None and meeting_time.valid_zone(mine.tz):
                zones[me] = mine.tz
            for meeting in meetings.meetings():
                for account in (meeting.organiser, meeting.other):
                    if account == me:
                        continue
                    shared = meetings.availability(account)
                    if shared is not None and meeting_time.valid_zone(shared.tz):
                        zones[account] = shared.tz
        zones.setdefault(me, local_zone())
        return cls(me, names, zones)

    @property
    def my_zone(self) -> str:
        return self.zones[self.me]

    def name(self, account: str) -> str:
        return self.names.get(account) or _("Someone")

    def zone(self, account: str) -> str | None:
        return self.zones.get(account)

    def other(self, meeting: Meeting) -> str:
        return meeting.partner(self.me)


def pair_line(people: People, other: str, start: int, end: int, *, two_lines: bool = False) -> str:
    """ "Tue 3 Mar, 18:00–19:00 · Dr Ama: Tue 3 Mar, 16:00–17:00": my time first, theirs beside it (below it with
    ``two_lines``, for the narrow lists)."""
    theirs_zone, name = people.zone(other), iso(people.name(other))
    if theirs_zone is None:
        mine = meeting_time.format_slot(start, end, people.my_zone, locale_tag())
        if two_lines:
            return iso(mine) + "\n" + _("{name}'s time zone is not known").format(name=name)
        return _("{mine} · {name}'s time zone is not known").format(mine=iso(mine), name=name)
    mine, theirs = meeting_time.format_pair(start, end, people.my_zone, theirs_zone, locale_tag())
    if two_lines:
        return iso(mine) + "\n" + _("{name}: {theirs}").format(name=name, theirs=iso(theirs))
    return _("{mine} · {name}: {theirs}").format(mine=iso(mine), name=name, theirs=iso(theirs))


def iso(text: str) -> str:
    """``text`` isolated in its own direction: a Latin name or a time inside an Arabic line keeps its order."""
    return first_strong_isolated(text)


def meeting_title(meeting: Meeting, people: People) -> str:
    title = meeting.title or kind_label(meeting.kind)
    return _("{title} with {name}").format(title=iso(title), name=iso(people.name(people.other(meeting))))


def waiting_for_me(meeting: Meeting, me: str, now: int) -> bool:
    """A proposal (or a new round of times) the other person made, which I answer while one of its times is still
    ahead (one whose every time is over, like the demo's first call held with notes, asks nothing more)."""
    return meeting.waiting_on() == me and any(slot.end > now for slot in meeting.slots)


def day_heading(day: date, today: date) -> str:
    if day == today:
        return _("Today, {date}").format(date=format_date(day, "full"))
    if day == today + timedelta(days=1):
        return _("Tomorrow, {date}").format(date=format_date(day, "full"))
    return format_date(day, "full")


def by_day(items: Iterable[tuple[Meeting, Slot]], tz: str) -> list[tuple[date, list[tuple[Meeting, Slot]]]]:
    """``items`` sorted by start and grouped by the local day (in ``tz``) each starts on."""
    groups: dict[date, list[tuple[Meeting, Slot]]] = {}
    for meeting, slot in sorted(items, key=lambda pair: (pair[1].start, pair[0].id)):
        groups.setdefault(meeting_time.to_local(slot.start, tz).date(), []).append((meeting, slot))
    return list(groups.items())
